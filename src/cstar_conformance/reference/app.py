"""The reference Customers API as an ASGI app: FastAPI + SQLAlchemy ORM + SQLite, with its legal-variation
mode and fault switches. `build_app` wires the parts (:mod:`.context`), the routers per resource, the
exception handlers (:mod:`.errors`) and the middleware of a real deployment (request counting,
``Connection: close``, gzip) as the mode chooses."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import AsyncIterator
from typing import Any, cast

from fastapi import APIRouter, Depends, FastAPI, Request
from starlette.datastructures import Headers
from starlette.middleware.gzip import GZipMiddleware
from starlette.responses import Response
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import customers, tickets, webhooks
from .auth import HEAD_SCOPE_KEY, QUOTA_SCOPE_KEY, Caller, NormalisingProxy
from .context import MAX_BODY_BYTES, AuditFirstChunk, Reference
from .errors import ApiError, CatchAll, GatewayAuthorizer, install_handlers
from .idempotency import IdempotencyBeforeAuth
from .render import JsonResponse
from .settings import Settings

API_PREFIX = "/api/v1"
STATS_PATH = "/_reference/stats"
GZIP_MINIMUM_SIZE = 16


class RequestCount:
    """Every HTTP request the server received (any path, any answer, 429s and 401s included), so
    self-tests can compare the suite's own request count with what the target saw."""

    def __init__(self) -> None:
        self.total = 0
        self._lock = threading.Lock()

    def add(self) -> None:
        with self._lock:
            self.total += 1


class CountRequests:
    def __init__(self, app: ASGIApp, count: RequestCount) -> None:
        self.app = app
        self.count = count

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("path") != STATS_PATH:
            self.count.add()
        await self.app(scope, receive, send)


class CloseConnections:
    """`Connection: close` on every response: the server (uvicorn) then closes the connection."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def closing_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"connection"]
                message = {**message, "headers": [*headers, (b"connection", b"close")]}
            await send(message)

        await self.app(scope, receive, closing_send)


class RateHeaders:
    """cStar's quota headers on every answer whose key the limiter counted: X-RateLimit-Limit, -Remaining and
    -Reset (unix time), and -Window."""

    def __init__(self, app: ASGIApp, window: float) -> None:
        self.app, self.window = app, window

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def quota_send(message: Message) -> None:
            quota = scope.get(QUOTA_SCOPE_KEY)
            if message["type"] == "http.response.start" and quota is not None:
                limit, left, reset = quota
                message = {**message, "headers": [*message.get("headers", []),
                                                  (b"x-ratelimit-limit", str(limit).encode()),
                                                  (b"x-ratelimit-remaining", str(left).encode()),
                                                  (b"x-ratelimit-reset", str(reset).encode()),
                                                  (b"x-ratelimit-window", str(round(self.window)).encode())]}
            await send(message)

        await self.app(scope, receive, quota_send)


class HeadAsGet:
    """`HEAD` is answered as `GET` would be, headers (`Content-Length` included) and all, without the body."""

    COLLECTIONS = ("/customers", "/tickets", "/webhooks")

    def __init__(self, app: ASGIApp, collections_only: bool = False) -> None:
        self.app = app
        self.collections_only = collections_only  # the head-item-405 fault: `@head` on the list routes only

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "HEAD":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        if self.collections_only and path.startswith(API_PREFIX) and not path.endswith(self.COLLECTIONS):
            await self.app(scope, receive, send)  # the router has no HEAD route here: 405 (or 404)
            return

        async def bodiless_send(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app({**scope, "method": "GET", HEAD_SCOPE_KEY: True}, receive, bodiless_send)


class Preflight:
    """`OPTIONS` as the mode answers it on any path: a CORS preflight (204, before authentication) or 404;
    the `405` alternative leaves it to the routes (405 with Allow)."""

    def __init__(self, app: ASGIApp, answer: str, not_found: Response) -> None:
        self.app, self.answer, self.not_found = app, answer, not_found

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "OPTIONS" or self.answer == "405":
            await self.app(scope, receive, send)
            return
        if self.answer == "cors":
            response = Response(status_code=204, headers={
                "Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": "GET, POST, PATCH, DELETE",
                "Access-Control-Allow-Headers": "Authorization, Content-Type, Idempotency-Key",
                "Access-Control-Max-Age": "600"})
        else:
            response = self.not_found
        await response(scope, receive, send)


class CorsLayer:
    """The cors-preflight-500 fault: a hand-written CORS layer that takes any OPTIONS with an Origin for a
    preflight."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = Headers(scope=scope) if scope["type"] == "http" else None
        if headers is None or scope["method"] != "OPTIONS" or "origin" not in headers:
            await self.app(scope, receive, send)
            return
        requested = cast(str, headers.get("access-control-request-method"))
        allowed = requested.upper()  # the bug: AttributeError when the header is absent (not a real preflight)
        await Response(status_code=204, headers={
            "Access-Control-Allow-Origin": headers["origin"], "Access-Control-Allow-Methods": allowed,
            "Access-Control-Allow-Headers": "Authorization, Content-Type, Idempotency-Key"})(scope, receive, send)


class SharedGetCache:
    """The get-cache-ignores-authorization fault: a reverse proxy's micro-cache of 200 GET answers, keyed by
    the URL alone — no `Vary: Authorization` — and purged by every write under the same team."""

    def __init__(self, app: ASGIApp, ttl: float = 10.0) -> None:
        self.app, self.ttl = app, ttl
        self._entries: dict[str, tuple[float, Message, bytes]] = {}
        self._purges: dict[str, int] = {}  # per team path: how many writes began or ended

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith(API_PREFIX + "/teams/"):
            await self.app(scope, receive, send)
            return
        team = "/".join(path.split("/")[:5])
        if scope["method"] != "GET":
            self._purge(team)
            try:
                await self.app(scope, receive, send)
            finally:
                self._purge(team)
            return
        url = f"{path}?{scope.get('query_string', b'').decode('latin-1')}"
        hit = self._entries.get(url)
        if hit is not None and time.monotonic() - hit[0] < self.ttl:  # the bug: whoever asks, whatever key
            await send(hit[1])
            await send({"type": "http.response.body", "body": hit[2], "more_body": False})
            return
        purges = self._purges.get(team, 0)
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def keeping_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        await self.app(scope, receive, keeping_send)
        if start.get("status") == 200 and self._purges.get(team, 0) == purges:
            self._entries[url] = (time.monotonic(), start, b"".join(chunks))

    def _purge(self, team: str) -> None:
        self._purges[team] = self._purges.get(team, 0) + 1
        for url in [url for url in self._entries if url.startswith(team + "/")]:
            self._entries.pop(url, None)


class ProxyBodyLimit:
    """The body-limit-proxy-html-413 fault: the body limit enforced in front of the app, nginx-style."""

    PAGE = (b"<html>\r\n<head><title>413 Request Entity Too Large</title></head>\r\n<body>\r\n"
            b"<center><h1>413 Request Entity Too Large</h1></center>\r\n<hr><center>nginx</center>\r\n"
            b"</body>\r\n</html>\r\n")

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        length = dict(scope.get("headers", [])).get(b"content-length", b"") if scope["type"] == "http" else b""
        if length.isdigit() and int(length) > MAX_BODY_BYTES:
            await Response(self.PAGE, status_code=413, media_type="text/html")(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _describe_view(path: str, allowed: str) -> dict[str, Any]:
    """What Django REST framework's SimpleMetadata says of a view (the options-framework-metadata fault)."""
    words = [part for part in path.split("/") if part and "-" not in part]
    resource = words[-1] if words else "api"
    return {"name": f"{resource.capitalize()} {'List' if path.endswith(resource) else 'Instance'}",
            "description": "", "renders": ["application/json"], "parses": ["application/json"],
            "allowed_methods": allowed.split(", ")}


class MethodTable:
    """Which methods the API serves on each path template (for the Allow header of a 405)."""

    def __init__(self) -> None:
        self._paths: list[tuple[object, set[str]]] = []

    def add(self, prefix: str, router: APIRouter) -> None:
        for route in router.routes:
            methods = getattr(route, "methods", None) or set()
            self._paths.append((compile_path(prefix + getattr(route, "path", ""))[0], set(methods)))

    def allowed(self, path: str) -> str:
        methods: set[str] = set()
        for regex, served in self._paths:
            if regex.match(path):  # type: ignore[attr-defined]
                methods |= served
        return ", ".join(sorted(methods))


def build_app(settings: Settings) -> FastAPI:
    """The reference API; its database and webhook workers close on shutdown (`app.state.reference`)."""
    ref = Reference.build(settings)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            ref.close()

    app = FastAPI(title="cStar Customers API (reference)", docs_url=None, redoc_url=None, openapi_url=None,
                  lifespan=lifespan, redirect_slashes=False)
    app.state.reference = ref
    methods = MethodTable()
    install_handlers(app, ref.errors, methods.allowed)
    if settings.rate_headers and settings.rate_limit:
        app.add_middleware(RateHeaders, window=settings.rate_window)
    if ref.faults.on("get-cache-ignores-authorization"):
        app.add_middleware(SharedGetCache)
    if ref.mode.takes("compression", "gzip"):
        app.add_middleware(GZipMiddleware, minimum_size=GZIP_MINIMUM_SIZE)
    if ref.faults.on("body-first-chunk-only"):
        app.add_middleware(AuditFirstChunk)
    if ref.faults.on("idempotency-replay-before-auth"):
        app.add_middleware(IdempotencyBeforeAuth, ref=ref)
    app.add_middleware(HeadAsGet, collections_only=ref.faults.on("head-item-405"))
    app.add_middleware(Preflight, answer=ref.mode.get("options-answer"),
                       not_found=ref.errors.response(404, "not_found", "No such route"))
    if ref.faults.on("cors-preflight-500"):
        app.add_middleware(CorsLayer)
        app.add_middleware(CatchAll, errors=ref.errors)  # the app's error middleware wraps the CORS layer too
    if ref.mode.takes("connection", "close"):
        app.add_middleware(CloseConnections)
    if ref.faults.on("body-limit-proxy-html-413"):
        app.add_middleware(ProxyBodyLimit)
    if ref.faults.on("auth-team-from-raw-uri"):
        app.add_middleware(NormalisingProxy)
    if ref.faults.on("gateway-bearer-case-sensitive"):
        app.add_middleware(GatewayAuthorizer)
    count = RequestCount()
    app.add_middleware(CountRequests, count=count)

    @app.get(STATS_PATH, include_in_schema=False)
    async def stats() -> Response:
        """Not part of the API: what this server received, for the project's self-tests."""
        return JsonResponse({"requests": count.total})

    team_prefix = API_PREFIX + "/teams/{team_id}"
    routers = [customers.router(ref)]
    # a target without the Tickets API or webhook registration: those paths are unknown (404)
    routers += [module.router(ref) for name, module in (("tickets", tickets), ("webhooks", webhooks))
                if name not in settings.without]
    for router in routers:
        app.include_router(router, prefix=team_prefix)
        methods.add(team_prefix, router)
    if ref.faults.on("options-framework-metadata"):  # the framework's own OPTIONS answer, after authentication
        reader = Depends(ref.auth.reader)

        @app.options(team_prefix + "/{rest:path}", include_in_schema=False)
        def describe(request: Request, caller: Caller = reader) -> Response:
            allowed = methods.allowed(request.url.path)
            if not allowed:
                raise ApiError(404, "not_found", "No such route")
            return JsonResponse(_describe_view(request.url.path, allowed))
    return app
