"""Target selection: which API the suite talks to, and the production guard.

A target is either a base URL given by the user (staging, a local build) or the embedded
reference implementation, started as a subprocess on 127.0.0.1 with a fresh database.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from cstar_conformance.exits import (
    EXIT_CREDENTIALS,
    EXIT_PRODUCTION,
    EXIT_SPEC,
    EXIT_UNREACHABLE,
    EXIT_USAGE,
    StopRun,
)
from cstar_conformance.network import Trust

if TYPE_CHECKING:
    from cstar_conformance.reference.process import RunningReference

__all__ = ["EXIT_CREDENTIALS", "EXIT_PRODUCTION", "EXIT_SPEC", "EXIT_UNREACHABLE", "EXIT_USAGE",
           "EmbeddedReference", "PreflightError", "Target", "Team", "check_production", "free_port"]

PreflightError = StopRun  # the name the project's tests and older code use

PRODUCTION_DOMAIN = "cstar.help"
LIVE_KEY_PREFIXES = ("sk_live_", "pk_live_", "rk_live_")


@dataclass(frozen=True)
class Team:
    id: str
    api_key: str
    publishable_key: str | None = None


@dataclass(frozen=True)
class Target:
    base_url: str
    team: Team
    other_team: Team | None = None
    webhook_public_url: str | None = None
    embedded: bool = False
    webhook_listen: tuple[str, int] | None = None  # where the receiver binds (default 127.0.0.1, a free port)
    trust: Trust = field(default_factory=Trust)  # the CA certificates its TLS certificate must chain to
    description: str = ""
    details: dict[str, object] = field(default_factory=dict)

    @property
    def is_loopback(self) -> bool:
        host = urlsplit(self.base_url).hostname or ""
        return host in {"localhost", "::1"} or host.startswith("127.")

    @property
    def root(self) -> str:
        """The server's root: the base URL without its /api/v1."""
        return self.base_url.rstrip("/").removesuffix("/api/v1")

    def secrets(self) -> list[str]:
        """Every secret the suite holds for this target, for masking."""
        keys = [self.team.api_key, self.team.publishable_key]
        if self.other_team:
            keys += [self.other_team.api_key, self.other_team.publishable_key]
        return [k for k in keys if k]


def is_production_host(url: str) -> bool:
    """cstar.help or any subdomain of it, whatever the letter case or a trailing dot."""
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    return host == PRODUCTION_DOMAIN or host.endswith("." + PRODUCTION_DOMAIN)


def check_production(base_url: str | None, keys: dict[str, str | None], allowed: bool) -> None:
    """Refuse to create and delete records on production unless explicitly allowed: a live key in any
    key option, or a cstar.help host. Runs before any request."""
    if allowed:
        return
    live = [option for option, key in keys.items() if key and key.lower().startswith(LIVE_KEY_PREFIXES)]
    if live:
        raise StopRun(f"refusing to run destructive tests with a live key ({', '.join(live)}); use a staging "
                      "target and test keys (sk_test_…), or pass --allow-production", EXIT_PRODUCTION)
    if base_url and is_production_host(base_url):
        host = (urlsplit(base_url).hostname or "").lower().rstrip(".")
        raise StopRun(f"refusing to run destructive tests against production host {host}; use a staging "
                      "target, or pass --allow-production", EXIT_PRODUCTION)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class EmbeddedReference:
    """The reference implementation in a subprocess, for one session (fresh database, free port)."""

    def __init__(self, faults: list[str] | None = None, variant: str = "clean",
                 extra_args: list[str] | None = None) -> None:
        self.faults = list(faults or [])
        self.variant = variant
        self.extra_args = list(extra_args or [])
        self.running: RunningReference | None = None
        self.info: dict[str, Any] = {}

    def start(self, timeout: float = 30.0) -> dict[str, Any]:
        from cstar_conformance.reference.process import ReferenceStartError, start_reference

        args = ["--host", "127.0.0.1", *(a for fault in self.faults for a in ("--fault", fault))]
        if self.variant != "clean":
            args += ["--variant", self.variant]
        try:
            self.running = start_reference([*args, *self.extra_args], timeout=timeout)
        except ReferenceStartError as exc:
            last = [line for line in str(exc).splitlines() if line.strip()][-1:]
            status = EXIT_USAGE if exc.returncode == 2 else EXIT_UNREACHABLE
            raise StopRun(f"the embedded reference did not start: {' '.join(last)}", status) from None
        self.info = self.running.ready
        return self.info

    def stop(self) -> None:
        if self.running is not None:
            self.running.stop()

    def target(self, webhook_public_url: str | None = None) -> Target:
        teams = self.info["teams"]
        assert isinstance(teams, list)
        first, second = (Team(t["id"], t["secret_key"], t.get("publishable_key")) for t in teams[:2])
        return Target(
            base_url=str(self.info["base_url"]), team=first, other_team=second,
            webhook_public_url=webhook_public_url, embedded=True,
            description=f"embedded reference ({self.variant}"
                        + (f", faults: {', '.join(self.faults)}" if self.faults else "") + ")",
            details={"variant": self.variant, "faults": self.faults},
        )
