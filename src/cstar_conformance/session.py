"""The state of one conformance run: target, run id, request traffic, secrets to mask, findings.

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

from cstar_conformance.client import ApiClient, Exchange, Masker, exchange_of
from cstar_conformance.interrupts import Interrupts
from cstar_conformance.observer import Observer
from cstar_conformance.target import EmbeddedReference, Target
from cstar_conformance.traffic import RequestStats, Traffic

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
    traffic: Traffic = field(default_factory=Traffic)
    masker: Masker = field(default_factory=Masker)
    embedded: EmbeddedReference | None = None
    started: float = field(default_factory=time.monotonic)
    results: list[dict[str, Any]] = field(default_factory=list)  # one verdict per check (reporting)
    in_test: bool = False
    created: list[tuple[str, str]] = field(default_factory=list)  # made outside the factory (kind, id)
    pending_requests: dict[str, int] = field(default_factory=dict)  # per test, until its verdict is recorded
    evidence: Callable[[Exchange], None] | None = None  # attaches an exchange to the running test's report
    collected: int = 0  # checks pytest collected (the controller's count under xdist)
    stopped: str | None = None  # why the run ended before its last check (interrupt, budget), if it did
    left_behind: list[str] = field(default_factory=list)  # what the cleanup of a stopped run could not delete
    collection_errors: int = 0
    reports_dir: Path = Path("reports")
    exit_status: int | None = None  # the status the run ends with, once decided
    interrupts: Interrupts | None = None  # the controller's signal handling (None on xdist workers)
    workers_stats: RequestStats = field(default_factory=RequestStats)  # counted by xdist workers
    baseline: dict[str, Any] | None = None  # a previous run's summary.json, to diff verdicts with
    fail_on: str = "any"  # "new": only failures the baseline did not have fail the run
    target_version: str | None = None  # what is deployed on the target, if known
    diff: dict[str, Any] | None = None  # the verdict against the baseline, once the run is graded
    verdict: tuple[str, str] | None = None  # (verdict, reason) as written to summary.json
    coverage: dict[str, Any] | None = None  # schema coverage, once the run is graded
    # team id → the first page of the sweep of earlier runs' records, as the preflight read it (None: not read)
    sweep_pages: dict[str, Any] = field(default_factory=dict, repr=False)
    _observer: Observer | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        for secret in self.target.secrets():
            self.masker.add(secret)

    @property
    def stats(self) -> RequestStats:
        """This process's requests (on an xdist worker: the worker's own)."""
        return self.traffic.stats

    def evidence_of(self, response: Any) -> None:
        """Attach a response another transport (Schemathesis) obtained to the running test's report."""
        self._on_exchange(exchange_of(response, self.masker))

    def _on_exchange(self, exchange: Exchange) -> None:
        if self.in_test and self.evidence is not None:  # a test or its fixtures are running
            self.evidence(exchange)

    @property
    def observer(self) -> Observer:
        """The contract model of this process, fed every exchange and delivery (made on first use)."""
        if self._observer is None:
            self._observer = Observer.for_target(self.target, self.run_id, self.masker)
        return self._observer

    def client(self, api_key: str | None, team_id: str | None = None, timeout: float = 15.0) -> ApiClient:
        return ApiClient(
            self.target.base_url, team_id or self.target.team.id, api_key,
            traffic=self.traffic, masker=self.masker, on_exchange=self._on_exchange, family=FAMILY.get,
            timeout=timeout, observer=self.observer, trust=self.target.trust,
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
