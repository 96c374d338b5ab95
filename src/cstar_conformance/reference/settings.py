"""How one reference server runs: its teams and keys, mode, faults, limits and database file."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, field

from .modes import Mode


def _random_key(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(24)  # 24 bytes → 32 url-safe characters


@dataclass(frozen=True)
class TeamSeed:
    id: str
    name: str
    secret_key: str
    publishable_key: str

    def as_json(self) -> dict[str, str]:
        return {"id": self.id, "name": self.name, "secret_key": self.secret_key,
                "publishable_key": self.publishable_key}


def make_teams(key_a: str | None = None, key_b: str | None = None) -> tuple[TeamSeed, TeamSeed]:
    """Teams A and B with random ids and keys; the secret keys may be given."""
    return (
        TeamSeed(str(uuid.uuid4()), "Team A", key_a or _random_key("sk_test_"), _random_key("pk_test_")),
        TeamSeed(str(uuid.uuid4()), "Team B", key_b or _random_key("sk_test_"), _random_key("pk_test_")),
    )


@dataclass
class Settings:
    """One server: ``mode`` picks an alternative for every legal choice (see :mod:`.modes`), ``faults``
    switches on known bugs (see :mod:`.faults`)."""

    db_path: str | None = None  # None: a fresh temporary file, deleted on shutdown
    faults: frozenset[str] = frozenset()
    mode: Mode = field(default_factory=lambda: Mode("clean"))
    rate_limit: int | None = None
    rate_window: float = 3600.0
    rate_headers: bool = False  # X-RateLimit-Limit, -Remaining, -Reset on every authenticated answer
    teams: tuple[TeamSeed, TeamSeed] = field(default_factory=make_teams)
    without: frozenset[str] = frozenset()  # "tickets", "webhooks": a target that lacks those APIs
