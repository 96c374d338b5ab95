"""The suite's webhook receiver and the X-Signature verifier (CONTRACT §5)."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

SIGNATURE_TOLERANCE = 300  # seconds
# Endpoints that misbehave on purpose, by a word in their path: the contract's delivery bounds hold for every
# endpoint that answers 2xx, whatever the team's other endpoints do.
FAILING = "-failing"  # answers every delivery 500
SLOW = "-slow"  # answers every delivery after SLOW_SECONDS
SLOW_SECONDS = 2.0
HANGING = "-hanging"  # answers its first HANGING_LIMIT deliveries after HANGING_SECONDS: longer than a sender waits
HANGING_SECONDS = 6.0
# then at once: each hang holds one of the target's senders for its whole timeout, and under xdist the other
# workers' writes reach this team's endpoint too — dozens of hangs would make the suite itself the load that
# delays every delivery (a sender pool of 8 held for 5 s each)
HANGING_LIMIT = 2
FLAKY = "-flaky"  # answers the first delivery of each event 500, its retries 200


@dataclass(frozen=True)
class Delivery:
    path: str
    headers: dict[str, str]
    body: bytes
    received_at: float  # time.time()
    method: str = "POST"

    def json(self) -> Any:
        return json.loads(self.body)

    def payload(self) -> Any:
        """The parsed body, or None when it is not JSON."""
        try:
            return self.json()
        except (ValueError, UnicodeDecodeError):
            return None

    def event_id(self) -> str | None:
        payload = self.payload()
        value = payload.get("id") if isinstance(payload, dict) else None
        return value if isinstance(value, str) and value else None

    def customer(self) -> dict[str, Any]:
        """`data.customer` of the payload, or {} when there is none."""
        payload = self.payload()
        data = payload.get("data") if isinstance(payload, dict) else None
        customer = data.get("customer") if isinstance(data, dict) else None
        return customer if isinstance(customer, dict) else {}

    def header(self, name: str) -> str | None:
        for key, value in self.headers.items():
            if key.lower() == name.lower():
                return value
        return None


def one_per_event(deliveries: list[Delivery]) -> list[Delivery]:
    """The first delivery of each event: delivery is at least once (WEBHOOK-AT-LEAST-ONCE, MAY), so a
    receiver de-duplicates by the event `id`. Deliveries without an id are all kept."""
    seen: set[str] = set()
    first = []
    for delivery in deliveries:
        event = delivery.event_id()
        if event is None or event not in seen:
            first.append(delivery)
            if event is not None:
                seen.add(event)
    return first


def verify_signature(secret: str, header: str | None, body: bytes, now: float | None = None,
                     tolerance: int = SIGNATURE_TOLERANCE) -> str | None:
    """None if `header` is a valid `t=…,v1=…` signature of `body`, else the reason it is not."""
    if not header:
        return "no X-Signature header"
    parts: dict[str, list[str]] = {}
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        parts.setdefault(key, []).append(value)
    if "t" not in parts or "v1" not in parts:
        return f"X-Signature {header!r} is not of the form t=<seconds>,v1=<hex>"
    if len(parts["t"]) != 1:
        return f"X-Signature {header!r} carries more than one t="
    raw_stamp = parts["t"][0].strip()
    if not raw_stamp.isascii() or not raw_stamp.isdigit():
        return f"X-Signature timestamp {raw_stamp!r} is not an integer number of seconds"
    stamp = int(raw_stamp)
    reference = time.time() if now is None else now
    if abs(reference - stamp) > tolerance:
        return (f"X-Signature timestamp {stamp} is {reference - stamp:+.0f} s from now (more than {tolerance} s; "
                "t must be unix seconds)")
    expected = hmac.new(secret.encode(), f"{raw_stamp}.".encode() + body, hashlib.sha256).hexdigest().encode()
    # v1 values are compared as bytes: a header may carry non-ASCII text, which compare_digest refuses on str
    candidates = [value.strip().lower().encode("utf-8", "replace") for value in parts["v1"]]
    if not any(hmac.compare_digest(expected, candidate) for candidate in candidates):
        return "X-Signature v1 does not match HMAC-SHA256(secret, \"<t>.<raw body>\")"
    return None


class Receiver:
    """An HTTP server that accepts every POST under it and records it: on 127.0.0.1 and a free port, or where
    `--webhook-listen` puts it (a tunnel, a reverse proxy or an in-cluster address forwards to it). A delivery
    is known by the path the suite gave its endpoint (`url(path)`), whatever prefix a forwarder puts before it
    or takes off the public URL's."""

    def __init__(self, host: str = "127.0.0.1", public_url: str | None = None,
                 on_delivery: Callable[[str, dict[str, str], bytes, float, str], None] | None = None,
                 port: int = 0) -> None:
        self.server = HTTPServer(host=host, port=port, threaded=True)
        self.public_url = public_url
        self.on_delivery = on_delivery  # every delivery, as it comes (the contract model judges it)
        self._flaked: set[tuple[str, Any]] = set()  # (path, event) a FLAKY endpoint has failed once
        self._hung: dict[str, int] = {}  # path → deliveries a HANGING endpoint has held so far
        self._deliveries: list[Delivery] = []
        self._handed: set[str] = set()  # the endpoint paths url() gave out
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)

    def start(self) -> Receiver:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self.server.expect_request(_any_path()).respond_with_handler(self._handle)
        self.server.start()
        return self

    def stop(self) -> None:
        if self.server.is_running():
            self.server.stop()

    def url(self, path: str) -> str:
        base = self.public_url.rstrip("/") if self.public_url else f"http://127.0.0.1:{self.server.port}"
        if path:
            with self._lock:
                self._handed.add(path)
        return f"{base}{path}"

    def endpoint(self, received: str) -> str:
        """The endpoint path a request path stands for: the longest path handed out that ends it (a forwarder
        may add a prefix, or keep the public URL's), else the path as received (a stray)."""
        with self._lock:
            matches = [path for path in self._handed if received == path or received.endswith(path)]
        return max(matches, key=len) if matches else received

    def _handle(self, request: Request) -> Response:
        path = self.endpoint(request.path)
        delivery = Delivery(path, dict(request.headers.items()), request.get_data(), time.time(), request.method)
        if self.on_delivery is not None:
            self.on_delivery(delivery.path, delivery.headers, delivery.body, delivery.received_at, delivery.method)
        with self._cond:
            self._deliveries.append(delivery)
            self._cond.notify_all()
        if FAILING in path:
            return Response("failing on purpose", status=500)
        if FLAKY in path:
            first = (path, delivery.event_id() or delivery.body) not in self._flaked
            self._flaked.add((path, delivery.event_id() or delivery.body))
            if first:
                return Response("failing once on purpose", status=500)
        if SLOW in path:
            time.sleep(SLOW_SECONDS)
        if HANGING in path:
            with self._lock:
                self._hung[path] = hung = self._hung.get(path, 0) + 1
            if hung <= HANGING_LIMIT:
                time.sleep(HANGING_SECONDS)
        return Response("ok", status=200)

    def deliveries(self, path: str) -> list[Delivery]:
        with self._lock:
            return [d for d in self._deliveries if d.path == path]

    def events(self, path: str) -> list[Delivery]:
        """The first delivery of each event that reached `path` (duplicates of an event id dropped)."""
        return one_per_event(self.deliveries(path))

    def _wait(self, found: Callable[[list[Delivery]], Any], timeout: float) -> Any:
        """`found(deliveries so far)` once it is truthy, or its last value after `timeout` seconds (called under
        the lock: it must not take it)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                result = found(self._deliveries)
                remaining = deadline - time.monotonic()
                if result or remaining <= 0:
                    return result
                self._cond.wait(remaining)

    def wait_count(self, path: str, count: int, timeout: float) -> int:
        """How many deliveries reached `path`, waiting up to `timeout` seconds for `count` of them."""
        self._wait(lambda all_: sum(1 for d in all_ if d.path == path) >= count, timeout)
        return len(self.deliveries(path))

    def wait_for(self, path: str, predicate: Any, timeout: float) -> Delivery | None:
        """The first delivery to `path` matching `predicate`, waiting up to `timeout` seconds."""
        found: Delivery | None = self._wait(
            lambda all_: next((d for d in all_ if d.path == path and predicate(d)), None), timeout)
        return found


def _any_path() -> Any:
    import re

    return re.compile(r".*")
