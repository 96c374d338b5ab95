"""Every request the suite sends, whatever the transport: counted (by family and operation), spaced by
the throttle, held to the run's request budget, and retried after a 429 — each attempt counted, the
wait taken from the answer, and never more waiting than the run can afford.

A 429 is never handed to a check: it is waited out, or the run stops with "budget exhausted".
"""

from __future__ import annotations

import email.utils
import fcntl
import json
import math
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from cstar_conformance import quota
from cstar_conformance.quota import Quota

MAX_RETRY_AFTER = 30.0  # a 429 asking for a longer wait ends the run: the key's quota is spent
MAX_429_RETRIES = 5  # attempts after the first, for one request
MAX_TOTAL_WAIT = 120.0  # seconds of 429 waits per run (per process under xdist)
HOUSEKEEPING = frozenset({"cleanup"})  # deletes of the run's own records: never refused by the budget
CLEANUP_MARGIN = 8  # audit requests (a search and a webhook list per team, a delete or two) kept back

R = TypeVar("R")


class BudgetExhausted(BaseException):  # noqa: N818 - it is a stop, not an error
    """Raised instead of a request the run cannot afford. A BaseException, like KeyboardInterrupt, so
    that no check grades it, no library retries it and Hypothesis does not shrink it."""


@dataclass
class RequestStats:
    """Counts every request the suite sends, by family and operation, plus the 429s seen. Thread-safe."""

    total: int = 0
    rate_limited: int = 0
    by_family: Counter[str] = field(default_factory=Counter)
    by_operation: Counter[str] = field(default_factory=Counter)
    rate_limited_by_family: Counter[str] = field(default_factory=Counter)
    by_answer: Counter[str] = field(default_factory=Counter)  # "family|operation|status": schema coverage
    by_keyword: Counter[str] = field(default_factory=Counter)  # keyword coverage of the fuzzing (keywords.py)
    retry_hints: list[float | None] = field(default_factory=list)  # per 429: the wait it asked for, or None
    ledger: SharedLedger | None = None  # under xdist: every request is added to the run's shared count too
    quota_start: Quota | None = None  # the target's X-RateLimit-* on the first answer that had them
    quota_end: Quota | None = None  # … and on the latest one
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count(self, family: str, status: int | None, operation: str = "other",
              headers: Mapping[str, str] | None = None) -> None:
        """One request sent; `headers`: its answer's, for the quota it states (quota.py)."""
        found = quota.read(headers) if headers is not None else None
        with self._lock:
            if found is not None:
                self.quota_start = self.quota_start or found
                if self.quota_end is None or found.seen_at >= self.quota_end.seen_at:
                    self.quota_end = found
            self.total += 1
            self.by_family[family] += 1
            self.by_operation[operation] += 1
            self.by_answer[f"{family}|{operation}|{status if status is not None else 'none'}"] += 1
            if status == 429:
                self.rate_limited += 1
                self.rate_limited_by_family[family] += 1
        if self.ledger is not None:
            self.ledger.add(1)

    def note_keywords(self, hits: list[str]) -> None:
        with self._lock:
            self.by_keyword.update(hits)

    def note_429(self, hint: float | None) -> None:
        with self._lock:
            self.retry_hints.append(hint)

    def as_dict(self) -> dict[str, Any]:
        with self._lock:
            return {"total": self.total, "rate_limited": self.rate_limited, "by_family": dict(self.by_family),
                    "by_operation": dict(self.by_operation), "retry_hints": list(self.retry_hints),
                    "rate_limited_by_family": dict(self.rate_limited_by_family), "by_answer": dict(self.by_answer),
                    "by_keyword": dict(self.by_keyword),
                    "quota": {"start": self.quota_start.as_dict() if self.quota_start else None,
                              "end": self.quota_end.as_dict() if self.quota_end else None}}

    def merge(self, other: Mapping[str, Any]) -> None:
        """Add the counts of another process (an xdist worker)."""
        with self._lock:
            self.total += int(other.get("total", 0))
            self.rate_limited += int(other.get("rate_limited", 0))
            self.by_family.update(other.get("by_family", {}))
            self.by_operation.update(other.get("by_operation", {}))
            self.rate_limited_by_family.update(other.get("rate_limited_by_family", {}))
            self.by_answer.update(other.get("by_answer", {}))
            self.by_keyword.update(other.get("by_keyword", {}))
            self.retry_hints += list(other.get("retry_hints", []))
            theirs = other.get("quota") or {}
            start, end = theirs.get("start"), theirs.get("end")
            if start and (self.quota_start is None or start["seen_at"] < self.quota_start.seen_at):
                self.quota_start = quota.Quota.from_dict(start)
            if end and (self.quota_end is None or end["seen_at"] >= self.quota_end.seen_at):
                self.quota_end = quota.Quota.from_dict(end)


class Throttle:
    """At most `rps` requests per second across the process (0 = unlimited)."""

    def __init__(self, rps: float = 0.0) -> None:
        self.interval = 1.0 / rps if rps > 0 else 0.0
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        if not self.interval:
            return
        with self._lock:
            now = time.monotonic()
            delay = self._next - now
            self._next = max(now, self._next) + self.interval
        if delay > 0:
            time.sleep(delay)


@dataclass
class Budget:
    """At most `max_requests` requests, keeping back what the cleanup of the records made so far needs;
    at most `max_wait` seconds spent waiting out 429s."""

    max_requests: int = 1000
    max_wait: float = MAX_TOTAL_WAIT
    reserve: Callable[[], int] = lambda: 0
    waited: float = 0.0
    exhausted: str | None = None  # why the run stopped, once it did
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def admit(self, stats: RequestStats, family: str, operation: str) -> None:
        if family in HOUSEKEEPING:
            return
        if self.exhausted:
            raise BudgetExhausted(self.exhausted)
        sent, keep = self._position(stats)
        if sent + 1 + keep > self.max_requests:
            self.exhaust(f"budget exhausted: {sent} requests sent, the next ({operation}) would leave "
                         f"fewer than the {keep} kept back for cleanup within --max-requests {self.max_requests}")

    def spare(self, stats: RequestStats) -> int:
        """Requests the run may still send beyond what is kept back for cleanup (the whole run's, under xdist)."""
        sent, keep = self._position(stats)
        return self.max_requests - sent - keep

    def _position(self, stats: RequestStats) -> tuple[int, int]:
        """(requests sent, requests kept back for cleanup)."""
        keep = self.reserve() + CLEANUP_MARGIN
        sent = stats.total
        if stats.ledger is not None:  # under xdist: every process's requests, and what the others keep back
            sent, others = stats.ledger.admit(self.reserve())
            keep += others
        return sent, keep

    def allow_wait(self, seconds: float, operation: str, attempts: int, family: str) -> None:
        if seconds > MAX_RETRY_AFTER:
            self.exhaust(f"budget exhausted: the target's rate limit asks to wait {seconds:.0f} s before "
                         f"{operation} (more than {MAX_RETRY_AFTER:.0f} s: this key's quota is spent)", family)
        if attempts > MAX_429_RETRIES:
            self.exhaust(f"budget exhausted: {operation} was answered 429 {attempts} times in a row", family)
        with self._lock:
            affordable = self.waited + seconds <= self.max_wait
            if affordable:
                self.waited += seconds
            waited = self.waited
        if not affordable:
            self.exhaust(f"budget exhausted: {waited:.0f} s already spent waiting out 429 answers "
                         f"(at most {self.max_wait:.0f} s per run)", family)

    def exhaust(self, reason: str, family: str = "") -> None:
        """Stop: raise BudgetExhausted (the first reason is the run's; cleanup keeps trying)."""
        if family not in HOUSEKEEPING and self.exhausted is None:
            self.exhausted = reason
        raise BudgetExhausted(reason)


class SharedLedger:
    """The run's request count shared by its processes (the xdist controller and workers): a small JSON file
    in the run's folder under an exclusive lock — one budget for the whole run, never fixed shares per worker
    (a worker with work left may use what another did not need). Each process adds what it sends and says
    how many requests its own cleanup still needs, which the others leave it."""

    def __init__(self, path: Path, name: str) -> None:
        self.path, self.name = path, name

    @staticmethod
    def create(path: Path, sent: int) -> SharedLedger:
        path.write_text(json.dumps({"sent": sent, "reserve": {}}))
        return SharedLedger(path, "controller")

    def _update(self, change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
        with self.path.open("r+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                data = json.loads(handle.read() or '{"sent": 0, "reserve": {}}')
                change(data)
                handle.seek(0)
                handle.truncate()
                handle.write(json.dumps(data))
                handle.flush()  # on disk before the lock goes
                return data
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def add(self, count: int = 1) -> None:
        self._update(lambda data: data.__setitem__("sent", int(data["sent"]) + count))

    def admit(self, reserve: int) -> tuple[int, int]:
        """(requests sent by the whole run, requests the other processes keep back), noting this one's."""
        data = self._update(lambda data: data["reserve"].__setitem__(self.name, reserve))
        others = sum(int(v) for k, v in data["reserve"].items() if k != self.name)
        return int(data["sent"]), others


def retry_hint(headers: Mapping[str, Any], body: Callable[[], Any]) -> float | None:
    """The wait a 429 asks for: the Retry-After header (seconds or an HTTP date), else error.retryAfter,
    else None."""
    header = headers.get("retry-after")
    if isinstance(header, list):
        header = header[0] if header else None
    candidates: list[Any] = [header]
    try:
        candidates.append(body().get("error", {}).get("retryAfter"))
    except (ValueError, AttributeError, TypeError):
        pass
    for value in candidates:
        try:
            if value is not None and math.isfinite(float(value)):
                return max(0.0, float(value))
        except (TypeError, ValueError):
            when = _http_date(value)
            if when is not None:
                return max(0.0, when - time.time())
    return None


def _http_date(value: Any) -> float | None:
    """Retry-After's other form, an HTTP date, as a Unix time."""
    try:
        return email.utils.parsedate_to_datetime(str(value)).timestamp()
    except (TypeError, ValueError, IndexError):
        return None


@dataclass
class Traffic:
    """The run's request plumbing, shared by every client and transport of the process."""

    stats: RequestStats = field(default_factory=RequestStats)
    budget: Budget = field(default_factory=Budget)
    throttle: Throttle = field(default_factory=Throttle)
    checkpoint: Callable[[], None] = lambda: None  # before each attempt: a pending Ctrl-C takes effect here

    def send(self, attempt: Callable[[], R], *, family: str, operation: str, status: Callable[[R], int],
             hint: Callable[[R], float | None], headers: Callable[[R], Mapping[str, str]] | None = None) -> R:
        """Run `attempt` (one HTTP request) until its answer is not a 429; count every attempt."""
        attempts = 0
        while True:
            self.checkpoint()
            self.budget.admit(self.stats, family, operation)
            self.throttle.wait()
            attempts += 1
            try:
                response = attempt()
            except Exception:
                self.stats.count(family, None, operation)
                raise
            code = status(response)
            self.stats.count(family, code, operation, headers(response) if headers is not None else None)
            if code != 429:
                return response
            asked = hint(response)
            self.stats.note_429(asked)
            wait = 1.0 if asked is None else asked
            self.budget.allow_wait(wait, operation, attempts, family)
            time.sleep(wait)
