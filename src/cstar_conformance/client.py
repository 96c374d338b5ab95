"""The suite's one HTTP client: keep-alive, bearer auth, and an exchange log (with secrets masked) that
reports attach as evidence; counting, budget and 429 waits go through the run's Traffic."""

from __future__ import annotations

import contextlib
import json
import re
import shlex
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

from cstar_conformance.network import Trust, quick_acks
from cstar_conformance.traffic import RequestStats, Throttle, Traffic, retry_hint

if TYPE_CHECKING:
    from cstar_conformance.observer import Observer

__all__ = ["ApiClient", "Exchange", "Masker", "RequestStats", "Throttle", "exchange_of", "operation_of"]

MASK = "***"


KEEPALIVE_EXPIRY = 2.0  # seconds an idle connection is kept (see ApiClient)
EVIDENCE_BODY = 4_000  # characters of a body the report shows (a 1 MB probe is summarised, not copied)


def _cut(text: str, limit: int | None) -> str:
    return text if limit is None or len(text) <= limit else f"{text[:limit]}… ({len(text):,} chars in all)"


@dataclass
class Exchange:
    """One request and its response, ready to attach to a report."""

    method: str
    url: str
    request_headers: dict[str, str]
    request_body: str | None
    status: int | None
    response_headers: dict[str, str]
    response_body: str | None
    seconds: float

    def curl(self, limit: int | None = None) -> str:
        parts = ["curl", "-X", self.method, shlex.quote(self.url)]
        for name, value in self.request_headers.items():
            if name.lower() in {"host", "content-length", "accept-encoding", "connection", "user-agent"}:
                continue
            parts += ["-H", shlex.quote(f"{name}: {value}")]
        if self.request_body is not None:
            parts += ["--data-raw", shlex.quote(_cut(self.request_body, limit))]
        return " ".join(parts)

    def render(self, limit: int = EVIDENCE_BODY) -> str:
        """The exchange as the report shows it: bodies (and the curl's) cut at `limit` characters."""
        head = [f"{self.method} {self.url}"]
        head += [f"{k}: {v}" for k, v in self.request_headers.items()]
        if self.request_body is not None:
            head += ["", _cut(self.request_body, limit)]
        head += ["", f"--> {self.status} ({self.seconds * 1000:.0f} ms)"]
        head += [f"{k}: {v}" for k, v in self.response_headers.items()]
        if self.response_body:
            head += ["", _cut(self.response_body, limit)]
        cut = self.request_body is not None and len(self.request_body) > limit
        head += ["", "# reproduce (secrets masked" + ("; the body cut as above" if cut else "") + "):",
                 self.curl(limit)]
        return "\n".join(head)


def exchange_of(response: Any, masker: Masker) -> Exchange:
    """The Exchange of a response from another transport (Schemathesis' requests-based one)."""
    request = response.request
    body = request.body.decode("utf-8", "replace") if isinstance(request.body, bytes) else request.body
    headers = {name: ", ".join(values) if isinstance(values, list) else str(values)
               for name, values in response.headers.items()}
    return Exchange(
        method=str(request.method), url=masker(str(request.url)),
        request_headers=masker.headers(dict(request.headers)),
        request_body=masker(body) if body else None,
        status=response.status_code, response_headers=masker.headers(headers),
        response_body=masker(_text(response.content) or "") or None, seconds=float(response.elapsed or 0),
    )


class Masker:
    """Replaces every known secret with *** in text."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def add(self, secret: str | None) -> None:
        if secret and secret not in self._secrets:
            self._secrets = sorted([*self._secrets, secret], key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, MASK)
        return text

    def headers(self, headers: httpx.Headers | dict[str, str]) -> dict[str, str]:
        masked = {}
        for name, value in headers.items():
            if name.lower() == "authorization":
                scheme = value.split(" ", 1)[0] if " " in value else ""
                value = f"{scheme} {MASK}".strip()
            masked[name] = self(value)
        return masked


_ID_PARAMS = {"customers": "{customerId}", "tickets": "{ticketId}", "webhooks": "{webhookId}"}


def operation_of(request: httpx.Request) -> str:
    """`PATCH /customers/{customerId}` for a team-scoped request: the spec's operation, whatever the ids."""
    path = re.sub(r"^/teams/[^/]+", "", request.url.path.split("/api/v1", 1)[-1])
    parts = path.split("/")
    for n in range(1, len(parts) - 1):
        if parts[n] in _ID_PARAMS:
            parts[n + 1] = _ID_PARAMS[parts[n]]
    return f"{request.method} {'/'.join(parts) or '/'}"


def _text(content: bytes | None, limit: int = 20_000) -> str | None:
    if not content:
        return None
    text = content.decode("utf-8", errors="replace")
    return text if len(text) <= limit else text[:limit] + f"… ({len(text)} chars)"


class _Connections:
    """The connection pool an ApiClient and its `with_key` copies share; renewable."""

    def __init__(self, make: Callable[[], httpx.Client]) -> None:
        self._make = make
        self.client = make()

    def renew(self) -> None:
        old, self.client = self.client, self._make()
        with contextlib.suppress(Exception):  # a pool left mid-exchange may fail to close: dropped either way
            old.close()


class ApiClient:
    """A team-scoped client: `api.get("/customers")` is GET {base}/teams/{team}/customers."""

    def __init__(
        self,
        base_url: str,
        team_id: str,
        api_key: str | None,
        *,
        traffic: Traffic | None = None,
        masker: Masker | None = None,
        on_exchange: Callable[[Exchange], None] | None = None,
        family: Callable[[], str] | None = None,
        timeout: float = 15.0,
        observer: Observer | None = None,
        trust: Trust | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.team_id = team_id
        self.api_key = api_key
        self.traffic = traffic or Traffic()
        self.masker = masker or Masker([api_key] if api_key else [])
        self.on_exchange = on_exchange
        self.family = family or (lambda: "other")
        self.observer = observer  # the contract model, fed every exchange
        self.trust = trust or Trust()  # the one trust setting of the run (network.py); proxies from the environment
        # an idle connection is dropped after 2 s, before a server's own keep-alive timeout (uvicorn 5 s, most
        # proxies longer) can close it under a request the client just sent on it: that race is a
        # "Server disconnected" that would be blamed on the target
        self._connections = _Connections(lambda: quick_acks(httpx.Client(
            timeout=timeout, verify=self.trust.context(),
            limits=httpx.Limits(max_keepalive_connections=20, keepalive_expiry=KEEPALIVE_EXPIRY))))

    @property
    def _http(self) -> httpx.Client:
        return self._connections.client

    def renew_connections(self) -> None:
        """Drop every pooled connection (of this client and of its `with_key` copies) and start a new pool: after
        an interrupt, a connection may have been left in the middle of an exchange, and the cleanup must not
        send on it."""
        self._connections.renew()

    @property
    def stats(self) -> RequestStats:
        return self.traffic.stats

    def close(self) -> None:
        self._connections.client.close()

    def with_key(self, api_key: str | None, team_id: str | None = None) -> ApiClient:
        """The same plumbing (stats, log, throttle) with another key or team."""
        other = ApiClient.__new__(ApiClient)
        other.__dict__.update(self.__dict__)
        other.api_key = api_key
        other.team_id = team_id or self.team_id
        return other

    def url(self, path: str) -> str:
        if path.startswith("http://") or path.startswith("https://"):
            return path
        if not path.startswith("/teams/") and not path.startswith("//"):
            path = f"/teams/{self.team_id}{path}"
        return self.base_url + path

    def request(self, method: str, path: str, *, json_body: Any = None, content: bytes | str | None = None,
                params: dict[str, Any] | None = None, headers: dict[str, str] | None = None,
                auth: bool = True, chunked: bool = False) -> httpx.Response:
        """`chunked`: the body goes with `Transfer-Encoding: chunked` instead of a Content-Length."""
        all_headers = {"Accept": "application/json", **(headers or {})}
        if auth and self.api_key is not None and "Authorization" not in all_headers:
            all_headers["Authorization"] = f"Bearer {self.api_key}"
        if json_body is not None:
            content = json.dumps(json_body)
            all_headers.setdefault("Content-Type", "application/json")
        raw = content.encode() if isinstance(content, str) else content

        def build() -> httpx.Request:
            body: Any = iter([raw or b""]) if chunked else raw
            return self._http.build_request(method, self.url(path), content=body, params=params,
                                            headers=all_headers)

        request = build()

        def attempt() -> httpx.Response:
            sent = build() if chunked else request  # a stream is read once: every attempt gets its own
            if self.observer is None:
                return self._send(sent, raw)
            with self.observer.request() as clock:
                try:
                    response = self._send(sent, raw)
                except httpx.HTTPError:
                    self._observe(sent, raw, None, clock)
                    raise
                self._observe(sent, raw, response, clock)
                return response

        return self.traffic.send(attempt, family=self.family(), operation=operation_of(request),
                                 status=lambda r: r.status_code,
                                 hint=lambda r: retry_hint(r.headers, r.json), headers=lambda r: r.headers)

    def _send(self, request: httpx.Request, raw: bytes | None) -> httpx.Response:
        started = time.monotonic()
        response = self._http.send(request)
        response.read()
        if self.on_exchange is not None:
            self.on_exchange(self._exchange(request, raw, response, time.monotonic() - started))
        return response

    def _exchange(self, request: httpx.Request, raw: bytes | None, response: httpx.Response | None,
                  seconds: float) -> Exchange:
        return Exchange(
            method=request.method,
            url=self.masker(str(request.url)),
            request_headers=self.masker.headers(request.headers),
            request_body=self.masker(_text(raw) or "") or None,
            status=response.status_code if response is not None else None,
            response_headers=self.masker.headers(response.headers) if response is not None else {},
            response_body=self.masker(_text(response.content) or "") or None if response is not None else None,
            seconds=seconds,
        )

    def _observe(self, request: httpx.Request, raw: bytes | None, response: httpx.Response | None,
                 clock: dict[str, float]) -> None:
        assert self.observer is not None
        self.observer.record(
            method=request.method, url=str(request.url), request_headers=dict(request.headers),
            request_body=raw, status=response.status_code if response is not None else None,
            response_headers=dict(response.headers) if response is not None else {},
            response_body=response.content if response is not None else b"", clock=clock,
            label=self._exchange(request, raw, response, 0.0).curl())

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> httpx.Response:
        return self.request("POST", path, json_body=body, **kw)

    def patch(self, path: str, body: Any = None, **kw: Any) -> httpx.Response:
        return self.request("PATCH", path, json_body=body, **kw)

    def delete(self, path: str, **kw: Any) -> httpx.Response:
        return self.request("DELETE", path, **kw)
