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
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import select

from .faults import FaultSet
from .modes import Mode
from .storage import Database, Webhook

log = logging.getLogger("cstar_conformance.reference.delivery")

ATTEMPTS = 3
BACKOFF_SECONDS = (0.5, 1.0)
TIMEOUT_SECONDS = 5.0


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


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of ``"<t>.<raw body>"`` keyed with the whole ``whsec_…`` secret."""
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


class Dispatcher:
    """Takes committed events, never blocks the API on a receiver."""

    def __init__(self, db: Database, faults: FaultSet, mode: Mode, workers: int = 8) -> None:
        self._db = db
        self._faults = faults
        self._mode = mode
        self._queue: queue.Queue[_Delivery | None] = queue.Queue()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._work, name=f"webhook-{i}", daemon=True)
                         for i in range(workers)]
        for thread in self._threads:
            thread.start()

    def publish(self, events: Iterable[Event]) -> None:
        """Fan each event out to its webhooks (as registered now) and queue the deliveries."""
        copies = 2 if self._mode.takes("webhook-duplicates", "twice") else 1
        for event in events:
            for target in self._targets(event):
                for _ in range(copies):
                    self._queue.put(_Delivery(target, event))

    def _targets(self, event: Event) -> list[Target]:
        query = select(Webhook).where(Webhook.is_active)
        if not self._faults.on("webhook-all-teams"):
            query = query.where(Webhook.team_id == event.team_id)
        with self._db.reader() as session:
            rows = session.scalars(query).all()
        if not self._faults.on("webhook-ignores-subscription"):
            rows = [row for row in rows if row.wants(event.type)]
        return [Target(row.id, row.url, row.secret, tuple(row.events)) for row in rows]

    def close(self) -> None:
        self._stop.set()
        for _ in self._threads:
            self._queue.put(None)

    def _work(self) -> None:
        with httpx.Client(timeout=TIMEOUT_SECONDS) as client:
            while not self._stop.is_set():
                delivery = self._queue.get()
                if delivery is None:
                    return
                try:
                    self._deliver(client, delivery)
                except Exception:  # a delivery must never kill the worker
                    log.exception("webhook delivery crashed")

    def _signed(self, delivery: _Delivery) -> tuple[bytes, str]:
        body = json.dumps(delivery.event.payload, separators=(",", ":"), ensure_ascii=False).encode()
        timestamp = int(time.time() * 1000) if self._faults.on("webhook-timestamp-ms") else int(time.time())
        secret = delivery.target.secret
        if self._faults.on("webhook-unsigned-timestamp"):
            digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        elif self._faults.on("webhook-signs-reserialized"):
            digest = sign(secret, timestamp, json.dumps(delivery.event.payload).encode())
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
            body, signature = self._signed(delivery)
            try:
                response = client.post(delivery.target.url, content=body,
                                       headers=self._headers(delivery, signature, attempt))
                if 200 <= response.status_code < 300:
                    return
                log.info("webhook %s answered %s", delivery.target.url, response.status_code)
            except httpx.HTTPError as exc:
                log.info("webhook %s failed: %s", delivery.target.url, exc)
            if attempt < attempts:
                self._stop.wait(BACKOFF_SECONDS[attempt - 1])
