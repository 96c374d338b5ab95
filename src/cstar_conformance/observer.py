"""The imperative shell around the contract model: every exchange the suite makes — scenario checks, the
fuzzer, the exploration, set-up and cleanup — and every webhook delivery reaches the model here, and the
violations it finds wait for the check that is running to be graded with them (grading.py).

Requests in flight together are judged together (`model.observe_batch`: some serial order must explain
their answers); a request is judged when no other is in flight. Credentials are classified before any
masking: the model learns which team's key a request carried, or that it carried none, a wrong one, or an
almost-right one."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from cstar_conformance.model import Config, Credential, Delivery, Exchange, Key, Model, Violation, observe_batch
from cstar_conformance.model.exchange import split_url


class ModelViolation(AssertionError):
    """Raised by a check that stops at the model's first violation (the exploration); the violations
    themselves are graded from the observer, under their own rules."""


def classify(header: str | None, keys: Mapping[str, Credential]) -> Credential:
    """What an Authorization header carries: a known key exactly (`Bearer` in any case, then spaces or tabs),
    nothing, something that is not `Bearer <key>`, an almost-right key, or an unknown one."""
    if header is None:
        return Credential(Key.NONE)
    scheme, _, rest = header.partition(" ")
    if "\t" in scheme:
        scheme, _, rest = header.partition("\t")
    if scheme.lower() != "bearer" or not rest.strip(" \t"):
        return Credential(Key.MALFORMED)
    token = rest.strip(" \t")
    if token in keys:
        return keys[token]
    if any(token.lower() == key.lower() or (token and (key.startswith(token) or token.startswith(key)))
           for key in keys):
        return Credential(Key.NEAR_MISS)
    return Credential(Key.UNKNOWN)


@dataclass
class Observer:
    model: Model
    keys: dict[str, Credential]
    root_path: str  # the base URL's path: exchanges are judged relative to it
    mask: Any = staticmethod(lambda text: text)  # the run's secret masker (evidence is published)
    violations: list[Violation] = field(default_factory=list)  # found since the running check began
    last_label: str = ""  # the curl line of the last exchange recorded (the exploration logs its steps)
    _in_flight: int = 0
    _done: list[Exchange] = field(default_factory=list)
    _seq: int = 0
    _lock: threading.RLock = field(default_factory=threading.RLock)

    @classmethod
    def for_target(cls, target: Any, marker: str, mask: Any = None) -> Observer:
        keys = {target.team.api_key: Credential(Key.SECRET, target.team.id)}
        if target.team.publishable_key:
            keys[target.team.publishable_key] = Credential(Key.PUBLISHABLE, target.team.id)
        teams = [target.team.id]
        if target.other_team is not None:
            keys[target.other_team.api_key] = Credential(Key.SECRET, target.other_team.id)
            teams.append(target.other_team.id)
        keys = {k: v for k, v in keys.items() if k}
        return cls(Model(Config(teams, marker.lower())), keys, urlsplit(target.base_url).path,
                   mask or (lambda text: text))

    # ---------------------------------------------------------------------------------- exchanges

    @contextmanager
    def request(self) -> Iterator[dict[str, float]]:
        """Around one HTTP attempt: yields the send times (wall and monotonic) the exchange will carry."""
        with self._lock:
            self._in_flight += 1
        clock = {"sent": time.time(), "sent_mono": time.monotonic()}
        try:
            yield clock
        finally:
            with self._lock:
                self._in_flight -= 1
                if self._in_flight == 0:
                    self._flush()

    def record(self, *, method: str, url: str, request_headers: Mapping[str, str], request_body: bytes | None,
               status: int | None, response_headers: Mapping[str, str], response_body: bytes,
               clock: Mapping[str, float], label: str = "") -> None:
        """One finished attempt (status None: no answer came); judged once nothing else is in flight."""
        path, query = split_url(url, self.root_path)
        headers = _flat(request_headers)
        with self._lock:
            self._seq += 1
            self.last_label = self.mask(label)
            self._done.append(Exchange(
                method.upper(), path, query, classify(headers.get("authorization"), self.keys), headers,
                request_body, status, _flat(response_headers), response_body or b"",
                clock["sent"], time.time(), clock["sent_mono"], time.monotonic(), self.mask(label), self._seq))

    def _flush(self) -> None:
        done, self._done = self._done, []
        if len(done) == 1:
            self.violations += self.model.observe(done[0])
        elif done:
            self.violations += observe_batch(self.model, done)

    # ----------------------------------------------------------------------------------- webhooks

    def deliver(self, path: str, headers: Mapping[str, str], body: bytes, received: float, method: str) -> None:
        with self._lock:
            self.violations += self.model.deliver(Delivery(path, _flat(headers), body, received, method))

    def due(self) -> None:
        """Judge what time has settled: events overdue, deliveries that no write explains."""
        with self._lock:
            self.violations += self.model.due(time.time())

    def settle(self, limit: float = 12.0) -> None:
        """Wait (at most `limit` s) until every event the run's writes imply is due or delivered, then judge."""
        deadline = time.monotonic() + limit
        while True:
            with self._lock:
                self.violations += self.model.due(time.time())
                upcoming = self.model.next_deadline()
            if upcoming is None or time.monotonic() >= deadline:
                return
            time.sleep(min(0.1, max(0.0, upcoming - time.time()) + 0.01))

    def take(self) -> list[Violation]:
        """The violations found since the last take (the running check is graded with them)."""
        with self._lock:
            self.due()
            found, self.violations = self.violations, []
            return found


def _flat(headers: Mapping[str, Any]) -> dict[str, str]:
    """Header names in lower case, each with one string value (transports give lists for repeated ones)."""
    return {str(name).lower(): ", ".join(map(str, value)) if isinstance(value, list | tuple) else str(value)
            for name, value in headers.items()}
