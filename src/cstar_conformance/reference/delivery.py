"""Webhook delivery: committed events are fanned out to the team's subscribed webhooks and POSTed,
signed, from a pool of daemon threads (with retries, duplicates and headers as the mode chooses)."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import queue
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import Text, and_, cast, func, or_, select

from .faults import FaultSet
from .modes import Mode
from .storage import Database, Webhook, subscribed

log = logging.getLogger("cstar_conformance.reference.delivery")

ATTEMPTS = 3
BACKOFF_SECONDS = (0.5, 1.0)
TIMEOUT_SECONDS = 5.0
TARGET_CACHE_SECONDS = 60.0  # webhook-targets-cached-past-delete
NOTIFY_LIMIT_BYTES = 8000  # webhook-oversize-event-dropped: PostgreSQL's NOTIFY payload limit
JS_SAFE_INTEGER = 2**53  # webhook-relay-bigint-float
SUBSCRIBER_CACHE_SECONDS = 30.0  # webhook-subscribers-cached-by-type
SHARED_HEADERS_WINDOW_SECONDS = 0.1  # webhook-shared-client-headers: from setting the headers to the send
BREAKER_FAILURES = 3  # webhook-breaker-per-host: failures within BREAKER_WINDOW_SECONDS that open it
BREAKER_WINDOW_SECONDS = 10.0
BREAKER_OPEN_SECONDS = 10.0


@dataclass(frozen=True)
class Event:
    team_id: str
    type: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class Target:
    id: str
    url: str
    secret: str
    events: tuple[str, ...]


@dataclass(frozen=True)
class _Delivery:
    target: Target
    event: Event


def _as_utf8mb3(value: Any) -> Any:
    """A value as a MySQL utf8mb3 column hands it back (non-strict mode: '?' for characters beyond the BMP)."""
    if isinstance(value, str):
        return "".join(ch if ord(ch) <= 0xFFFF else "?" for ch in value)
    if isinstance(value, list):
        return [_as_utf8mb3(item) for item in value]
    if isinstance(value, dict):
        return {_as_utf8mb3(key): _as_utf8mb3(item) for key, item in value.items()}
    return value


def _as_js_numbers(value: Any) -> Any:
    """A value after JSON.parse and JSON.stringify in JavaScript: every number is a double."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > JS_SAFE_INTEGER:
        return int(float(value))
    if isinstance(value, list):
        return [_as_js_numbers(item) for item in value]
    if isinstance(value, dict):
        return {key: _as_js_numbers(item) for key, item in value.items()}
    return value


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of ``"<t>.<raw body>"`` keyed with the whole ``whsec_…`` secret."""
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


class Dispatcher:
    """Takes committed events, never blocks the API on a receiver."""

    def __init__(self, db: Database, faults: FaultSet, mode: Mode, workers: int = 8) -> None:
        self._db = db
        self._faults = faults
        self._mode = mode
        self._queue: queue.Queue[tuple[_Delivery, ...] | None] = queue.Queue()  # a job: its deliveries in turn
        self._cache: dict[str, tuple[float, list[Target]]] = {}  # webhook-targets-cached-past-delete only
        self._cache_lock = threading.Lock()
        self._by_type: dict[str, tuple[float, list[Target]]] = {}  # webhook-subscribers-cached-by-type only
        self._signing_keys: dict[str, str] = {}  # webhook-signing-secret-per-team only
        self._breakers: dict[tuple[str, str], tuple[list[float], float]] = {}  # webhook-breaker-per-host only
        # webhook-shared-client-headers: one client for every delivery thread
        self._shared = httpx.Client(timeout=TIMEOUT_SECONDS) if faults.on("webhook-shared-client-headers") else None
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._work, name=f"webhook-{i}", daemon=True)
                         for i in range(workers)]
        for thread in self._threads:
            thread.start()

    def publish(self, events: Iterable[Event]) -> None:
        """Fan each event out to its webhooks (as registered now) and queue the deliveries."""
        copies = 2 if self._mode.takes("webhook-duplicates", "twice") else 1
        for event in events:
            event = self._relayed(event)
            if event is None:
                continue
            per_endpoint = self._faults.on("webhook-event-id-per-endpoint")  # the id minted per outbox row
            deliveries = [_Delivery(target, self._minted(event) if per_endpoint else event)
                          for target in self._targets(event)]
            deliveries = [delivery for delivery in deliveries for _ in range(copies)]
            if self._faults.on("webhook-fanout-serial-retries"):  # the bug: one job walks every endpoint
                if deliveries:
                    self._queue.put(tuple(deliveries))
                continue
            for delivery in deliveries:
                self._queue.put((delivery,))

    def _relayed(self, event: Event) -> Event | None:
        """The event as the faults' outbox and relay hand it on (None: lost on the way)."""
        payload = event.payload
        if self._faults.on("webhook-oversize-event-dropped"):
            size = len(json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode())
            if size > NOTIFY_LIMIT_BYTES:  # the bug: NOTIFY refuses it and the error is swallowed
                log.info("event %s not relayed: payload string too long (%d bytes)", payload["id"], size)
                return None
        if self._faults.on("webhook-outbox-utf8mb3"):
            payload = _as_utf8mb3(payload)
        if self._faults.on("webhook-relay-bigint-float"):
            payload = _as_js_numbers(payload)
        return event if payload is event.payload else replace(event, payload=payload)

    @staticmethod
    def _minted(event: Event) -> Event:
        """The webhook-event-id-per-endpoint fault: the event as its own outbox row holds it, under a new id."""
        return replace(event, payload={**event.payload, "id": "evt_" + uuid.uuid4().hex})

    def forget(self, team_id: str) -> None:
        """Drop the team's cached endpoints (a webhook was registered)."""
        with self._cache_lock:
            self._cache.pop(team_id, None)
            self._by_type.clear()

    def forget_subscribers(self) -> None:
        """Drop the subscriber cache of webhook-subscribers-cached-by-type (a webhook was deleted)."""
        with self._cache_lock:
            self._by_type.clear()

    def _targets(self, event: Event) -> list[Target]:
        if self._faults.on("webhook-subscribers-cached-by-type"):  # the bug: the cache key has no team in it
            with self._cache_lock:
                by_type = self._by_type.get(event.type)
            if by_type is not None and time.monotonic() - by_type[0] < SUBSCRIBER_CACHE_SECONDS:
                return by_type[1]
            found = self._looked_up(event)
            with self._cache_lock:
                self._by_type[event.type] = (time.monotonic(), found)
            return found
        return self._looked_up(event)

    def _looked_up(self, event: Event) -> list[Target]:
        cached = self._faults.on("webhook-targets-cached-past-delete")
        if cached:
            with self._cache_lock:
                hit = self._cache.get(event.team_id)
            if hit is not None and time.monotonic() - hit[0] < TARGET_CACHE_SECONDS:
                return [target for target in hit[1] if self._subscribed(target.events, event.type)]
        query = select(Webhook).where(Webhook.is_active)
        if not self._faults.on("webhook-all-teams"):
            query = query.where(Webhook.team_id == event.team_id)
        if self._faults.on("webhook-wildcard-or-precedence"):  # the bug: `… AND listed OR wildcard`
            events = cast(Webhook.events, Text)
            query = select(Webhook).where(or_(
                and_(Webhook.is_active, Webhook.team_id == event.team_id, func.instr(events, f'"{event.type}"') > 0),
                func.instr(events, '"*"') > 0))
        if self._faults.on("webhook-fanout-serial-retries"):
            query = query.order_by(Webhook.seq)  # the job walks the endpoints in registration order
        with self._db.reader() as session:
            rows = session.scalars(query).all()
        targets = [Target(row.id, row.url, row.secret, tuple(row.events)) for row in rows]
        if cached:
            with self._cache_lock:
                self._cache[event.team_id] = (time.monotonic(), targets)
        return [target for target in targets if self._subscribed(target.events, event.type)]

    def _subscribed(self, events: tuple[str, ...], event_type: str) -> bool:
        if self._faults.on("webhook-ignores-subscription") or self._faults.on("webhook-wildcard-or-precedence"):
            return True  # nothing filtered here (the second: the SQL did it)
        if self._faults.on("webhook-matches-first-event-type"):  # the bug: the one-event column's matcher
            return events[0] in ("*", event_type)
        if self._faults.on("webhook-wildcard-only-alone"):  # the bug: `events == ['*'] or type in events`
            return events == ("*",) or event_type in events
        return subscribed(events, event_type)

    def close(self) -> None:
        self._stop.set()
        for _ in self._threads:
            self._queue.put(None)
        if self._shared is not None:
            self._shared.close()

    def _work(self) -> None:
        with httpx.Client(timeout=TIMEOUT_SECONDS) as own:
            client = own if self._shared is None else self._shared
            while not self._stop.is_set():
                job = self._queue.get()
                if job is None:
                    return
                for delivery in job:
                    try:
                        self._deliver(client, delivery)
                    except Exception:  # a delivery must never kill the worker
                        log.exception("webhook delivery crashed")

    def _signed(self, delivery: _Delivery) -> tuple[bytes, str]:
        body = json.dumps(delivery.event.payload, separators=(",", ":"), ensure_ascii=False).encode()
        timestamp = int(time.time() * 1000) if self._faults.on("webhook-timestamp-ms") else int(time.time())
        secret = delivery.target.secret
        if self._faults.on("webhook-signing-secret-per-team"):  # the bug: memoised by team, not by endpoint
            with self._cache_lock:
                secret = self._signing_keys.setdefault(delivery.event.team_id, secret)
        if self._faults.on("webhook-unsigned-timestamp"):
            digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        elif self._faults.on("webhook-signs-reserialized"):
            digest = sign(secret, timestamp, json.dumps(delivery.event.payload).encode())
        elif self._faults.on("webhook-signs-ascii-escaped"):  # the bug: ensure_ascii left at its default
            digest = sign(secret, timestamp, json.dumps(delivery.event.payload, separators=(",", ":")).encode())
        else:
            digest = sign(secret, timestamp, body)
        return body, f"t={timestamp},v1={digest}"

    def _headers(self, delivery: _Delivery, signature: str, attempt: int) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "X-Signature": signature,
                   "User-Agent": "cstar-reference-webhooks/1"}
        if self._mode.takes("webhook-headers", "sent"):
            event_type = delivery.event.type
            if self._faults.on("webhook-type-header-from-subscription"):
                event_type = delivery.target.events[0]
            headers.update({"X-Event-ID": delivery.event.payload["id"], "X-Event-Type": event_type,
                            "X-Webhook-ID": delivery.target.id, "X-Delivery-Attempt": str(attempt)})
        return headers

    def _deliver(self, client: httpx.Client, delivery: _Delivery) -> None:
        if self._faults.on("webhook-slow"):
            self._stop.wait(12.0)
        elif self._faults.on("webhook-batched-5s"):
            self._stop.wait(5.0)
        attempts = ATTEMPTS if self._mode.takes("webhook-retries", "retried") else 1
        for attempt in range(1, attempts + 1):
            if self._stop.is_set():
                return
            if attempt > 1 and self._faults.on("webhook-retry-mints-new-id"):  # re-published: a fresh id
                payload = {**delivery.event.payload, "id": "evt_" + uuid.uuid4().hex}
                delivery = replace(delivery, event=replace(delivery.event, payload=payload))
            body, signature = self._signed(delivery)
            headers = self._headers(delivery, signature, attempt)
            if self._shared is not None:  # the bug: the event's headers go on the shared client's defaults
                client.headers.update({name: headers.pop(name) for name in ("X-Event-ID", "X-Event-Type")
                                       if name in headers})
                self._stop.wait(SHARED_HEADERS_WINDOW_SECONDS)  # the connection checkout in between
            breaker = self._breaker_key(delivery)
            if breaker is not None and self._breaker_open(breaker):
                log.info("webhook %s skipped: circuit open for %s", delivery.target.url, breaker[1])
                return
            try:
                response = client.post(delivery.target.url, content=body, headers=headers)
                if 200 <= response.status_code < 300:
                    return
                log.info("webhook %s answered %s", delivery.target.url, response.status_code)
            except httpx.HTTPError as exc:
                log.info("webhook %s failed: %s", delivery.target.url, exc)
            if breaker is not None:
                self._breaker_failed(breaker)
            if attempt < attempts:
                self._stop.wait(BACKOFF_SECONDS[attempt - 1])

    # ------------------------------------------------ the webhook-breaker-per-host fault's circuit breaker

    def _breaker_key(self, delivery: _Delivery) -> tuple[str, str] | None:
        """The breaker a delivery goes through: (team, host:port) — the bug: not the endpoint."""
        if not self._faults.on("webhook-breaker-per-host"):
            return None
        return delivery.event.team_id, urlsplit(delivery.target.url).netloc.lower()

    def _breaker_open(self, key: tuple[str, str]) -> bool:
        with self._cache_lock:
            _failures, open_until = self._breakers.get(key, ([], 0.0))
        return time.monotonic() < open_until

    def _breaker_failed(self, key: tuple[str, str]) -> None:
        now = time.monotonic()
        with self._cache_lock:
            failures, open_until = self._breakers.get(key, ([], 0.0))
            failures = [moment for moment in failures if now - moment < BREAKER_WINDOW_SECONDS] + [now]
            if len(failures) >= BREAKER_FAILURES:
                failures, open_until = [], now + BREAKER_OPEN_SECONDS
            self._breakers[key] = (failures, open_until)
