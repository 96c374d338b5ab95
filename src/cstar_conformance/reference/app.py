"""The reference Customers API as an ASGI app: FastAPI + SQLAlchemy ORM + SQLite, with its legal-variation
mode and fault switches. `build_app` wires the parts (:mod:`.context`), the routers per resource, the
exception handlers (:mod:`.errors`) and the middleware of a real deployment (request counting,
``Connection: close``, gzip) as the mode chooses."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import AsyncIterator

from fastapi import APIRouter, FastAPI
from starlette.middleware.gzip import GZipMiddleware
from starlette.responses import Response
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import customers, tickets, webhooks
from .context import Reference
from .errors import install_handlers
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


class HeadAsGet:
    """`HEAD` is answered as `GET` would be, headers (`Content-Length` included) and all, without the body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "HEAD":
            await self.app(scope, receive, send)
            return

        async def bodiless_send(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, bodiless_send)


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
    if ref.mode.takes("compression", "gzip"):
        app.add_middleware(GZipMiddleware, minimum_size=GZIP_MINIMUM_SIZE)
    app.add_middleware(HeadAsGet)
    app.add_middleware(Preflight, answer=ref.mode.get("options-answer"),
                       not_found=ref.errors.response(404, "not_found", "No such route"))
    if ref.mode.takes("connection", "close"):
        app.add_middleware(CloseConnections)
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
    return app
