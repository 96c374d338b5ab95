"""Webhook delivery: a background worker pool that POSTs signed JSON events, with retries."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import queue
import threading
import time
from dataclasses import dataclass
from typing import Any

import httpx

from .faults import FaultSet

log = logging.getLogger("cstar_conformance.reference.webhooks")

ATTEMPTS = 3
BACKOFF_SECONDS = (0.5, 1.0)
TIMEOUT_SECONDS = 5.0


@dataclass(frozen=True)
class WebhookTarget:
    id: str
    url: str
    secret: str
    events: tuple[str, ...]

    def wants(self, event_type: str) -> bool:
        return "*" in self.events or event_type in self.events


@dataclass(frozen=True)
class _Delivery:
    target: WebhookTarget
    event_type: str
    event_id: str
    payload: dict[str, Any]


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of ``"<t>.<raw body>"`` keyed with the whole ``whsec_…`` secret."""
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


class WebhookDispatcher:
    """Queues deliveries and sends them from daemon threads; never blocks the API."""

    def __init__(self, faults: FaultSet, workers: int = 8) -> None:
        self._faults = faults
        self._queue: queue.Queue[_Delivery | None] = queue.Queue()
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._work, name=f"webhook-{i}", daemon=True) for i in range(workers)
        ]
        for thread in self._threads:
            thread.start()

    def publish(self, event_type: str, event_id: str, payload: dict[str, Any],
                targets: list[WebhookTarget]) -> None:
        for target in targets:
            self._queue.put(_Delivery(target, event_type, event_id, payload))

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

    def _body_and_signature(self, delivery: _Delivery) -> tuple[bytes, str]:
        body = json.dumps(delivery.payload, separators=(",", ":"), ensure_ascii=False).encode()
        if self._faults.on("webhook-timestamp-ms"):
            timestamp = int(time.time() * 1000)
        else:
            timestamp = int(time.time())
        secret = delivery.target.secret
        if self._faults.on("webhook-unsigned-timestamp"):
            digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        elif self._faults.on("webhook-signs-reserialized"):
            digest = sign(secret, timestamp, json.dumps(delivery.payload).encode())
        else:
            digest = sign(secret, timestamp, body)
        return body, f"t={timestamp},v1={digest}"

    def _deliver(self, client: httpx.Client, delivery: _Delivery) -> None:
        if self._faults.on("webhook-slow"):
            self._stop.wait(12.0)
        elif self._faults.on("webhook-batched-5s"):
            self._stop.wait(5.0)
        event_type_header = delivery.event_type
        if self._faults.on("webhook-type-header-from-subscription"):
            event_type_header = delivery.target.events[0]
        for attempt in range(1, ATTEMPTS + 1):
            if self._stop.is_set():
                return
            body, signature = self._body_and_signature(delivery)
            headers = {
                "Content-Type": "application/json",
                "X-Signature": signature,
                "X-Event-ID": delivery.event_id,
                "X-Event-Type": event_type_header,
                "X-Webhook-ID": delivery.target.id,
                "X-Delivery-Attempt": str(attempt),
                "User-Agent": "cstar-reference-webhooks/1",
            }
            try:
                response = client.post(delivery.target.url, content=body, headers=headers)
                if 200 <= response.status_code < 300:
                    return
                log.info("webhook %s answered %s", delivery.target.url, response.status_code)
            except httpx.HTTPError as exc:
                log.info("webhook %s failed: %s", delivery.target.url, exc)
            if attempt < ATTEMPTS:
                self._stop.wait(BACKOFF_SECONDS[attempt - 1])
