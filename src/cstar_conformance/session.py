"""The state of one conformance run: target, run id, request stats, secrets to mask, findings.

One Session exists per pytest process; `current()` gives it to code that runs at import time
(the Schemathesis module builds its tests from the spec and the target's team id).
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cstar_conformance.client import ApiClient, Exchange, Masker, RequestStats, Throttle, exchange_of
from cstar_conformance.target import EmbeddedReference, Target

FAMILY: contextvars.ContextVar[str] = contextvars.ContextVar("family", default="setup")


@dataclass
class Session:
    target: Target
    run_id: str
    strict: bool = False
    profile: str = "gate"
    seed: int = 0
    allow_production: bool = False
    sweep_minutes: float = 10.0
    spec_path: Path = field(default_factory=lambda: Path(__file__).resolve().parents[2] / "openapi" / "customers.yaml")
    stats: RequestStats = field(default_factory=RequestStats)
    masker: Masker = field(default_factory=Masker)
    throttle: Throttle = field(default_factory=Throttle)
    embedded: EmbeddedReference | None = None
    started: float = field(default_factory=time.monotonic)
    results: list[dict[str, Any]] = field(default_factory=list)  # one verdict per check (reporting)
    in_test: bool = False
    created: list[tuple[str, str]] = field(default_factory=list)  # made outside the factory (kind, id)
    pending_requests: dict[str, int] = field(default_factory=dict)  # per test, until its verdict is recorded
    remote_requests: int = 0  # requests counted by xdist workers
    remote_rate_limited: int = 0
    evidence: Callable[[Exchange], None] | None = None  # attaches an exchange to the running test's report

    def __post_init__(self) -> None:
        for secret in self.target.secrets():
            self.masker.add(secret)

    def record(self, response: Any, family: str, operation: str) -> None:
        """Count and report a response that another transport (Schemathesis) obtained."""
        self.stats.count(family, response.status_code, operation)
        self._on_exchange(exchange_of(response, self.masker))

    def _on_exchange(self, exchange: Exchange) -> None:
        if self.in_test and self.evidence is not None:  # a test or its fixtures are running
            self.evidence(exchange)

    def client(self, api_key: str | None, team_id: str | None = None) -> ApiClient:
        return ApiClient(
            self.target.base_url, team_id or self.target.team.id, api_key,
            stats=self.stats, masker=self.masker, throttle=self.throttle,
            on_exchange=self._on_exchange, family=FAMILY.get,
        )


@contextmanager
def family(name: str) -> Iterator[None]:
    """Count the requests made inside under this family (e.g. "cleanup")."""
    token = FAMILY.set(name)
    try:
        yield
    finally:
        FAMILY.reset(token)


_current: Session | None = None


def current() -> Session | None:
    return _current


def set_current(session: Session | None) -> None:
    global _current
    _current = session
