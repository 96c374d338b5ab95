"""Errors: ApiError, the contract's error envelope, and the one set of exception handlers that maps
everything a request can end in — Pydantic validation, Starlette's HTTP errors (404, 405 with its
``Allow``, 413), ApiError — to that envelope; and the CatchAll middleware that turns a real server bug
into the 500 envelope."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .faults import FaultSet
from .modes import Mode
from .render import JsonResponse, Renderer, request_id

log = logging.getLogger("cstar_conformance.reference")

DOC_URL = "https://cstar.help/developers/errors#"
ERROR_TYPES = {401: "authentication_error", 403: "authorization_error", 404: "not_found_error",
               409: "invalid_request_error", 429: "rate_limit_error"}


class ApiError(Exception):
    """A client-visible error: status, stable code, one-line message."""

    def __init__(self, status: int, code: str, message: str, *, param: str | None = None,
                 headers: Mapping[str, str] | None = None, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.param = param
        self.headers = dict(headers or {})
        self.retry_after = retry_after


UUID_RE = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def not_found(what: str, param: str | None = None) -> ApiError:
    return ApiError(404, "not_found", f"No such {what}", param=param)


def parse_id(raw: str, what: str) -> str:
    """A record id from the path: an id that is not a UUID names no record (404)."""
    if not UUID_RE.fullmatch(raw):
        raise not_found(what, f"{what}Id")
    return raw.lower()


class Errors:
    """Builds error answers the way this server's mode spells them."""

    def __init__(self, mode: Mode, faults: FaultSet, render: Renderer) -> None:
        self.mode = mode
        self.faults = faults
        self.render = render

    def validation_status(self, *, unparseable: bool = False) -> int:
        """400 or 422 for a rejected body or parameter (`validation-status`)."""
        choice = self.mode.get("validation-status")
        if choice == "mixed":
            return 400 if unparseable else 422
        return int(choice)

    def invalid(self, param: str | None, message: str, code: str = "parameter_invalid") -> ApiError:
        return ApiError(self.validation_status(), code, message, param=param)

    def response(self, status: int, code: str, message: str | list[str], *, param: str | None = None,
                 headers: Mapping[str, str] | None = None, retry_after: int | None = None,
                 media_type: str | None = None) -> Response:
        extras = self.render.extras
        error: dict[str, Any] = {"code": code, "message": message}  # (a list only under a fault)
        if extras != "none":
            error["type"] = ERROR_TYPES.get(status, "api_error" if status >= 500 else "invalid_request_error")
            if param is not None:
                error["param"] = param
        if extras == "everywhere":
            error["doc_url"] = DOC_URL + code
            error["request_id"] = request_id()
        if retry_after is not None:
            error["retryAfter"] = retry_after
        body: dict[str, Any] = {"success": False, "error": error}
        meta = self.render.meta()
        if meta:
            body["meta"] = meta
        return JsonResponse(body, status_code=status, headers=dict(headers or {}), media_type=media_type)

    def of(self, exc: ApiError) -> Response:
        return self.response(exc.status, exc.code, exc.message, param=exc.param, headers=exc.headers,
                             retry_after=exc.retry_after)

    def of_validation(self, errors: list[Any]) -> Response:
        """One clear line for the first problem Pydantic found (the body or a query parameter)."""
        unparseable = any(e.get("type") == "json_invalid" or isinstance(e.get("input"), bytes) for e in errors)
        first = errors[0] if errors else {"loc": ("body",), "msg": "Invalid request", "type": ""}
        loc = [str(part) for part in first.get("loc", ()) if part not in ("body", "query", "path")]
        param = ".".join(loc) or "body"
        kind = first.get("type", "")
        if unparseable:
            code, message = "invalid_json", "The body must be a JSON object sent as application/json"
            if kind == "json_invalid":
                message = f"The body is not valid JSON: {first.get('ctx', {}).get('error', 'decode error')}"
        elif kind == "missing":
            code, message = "parameter_missing", f"{param} is required"
        elif kind == "extra_forbidden":
            code, message = "parameter_unknown", f"Unknown field {param!r}"
        else:
            code, message = "parameter_invalid", f"{param}: {first.get('msg', 'invalid value')}"
        # the validation-problem-json fault: a problem-details library answers these, in its own media type
        media_type = "application/problem+json" if self.faults.on("validation-problem-json") else None
        said: str | list[str] = message
        if len(errors) > 1 and not unparseable and self.faults.on("validation-message-array"):  # NestJS's shape
            said = [f"{'.'.join(str(p) for p in e.get('loc', ()) if p not in ('body', 'query', 'path')) or 'body'}: "
                    f"{e.get('msg', 'invalid value')}" for e in errors]
        return self.response(self.validation_status(unparseable=unparseable), code, said, param=param,
                             media_type=media_type)


def install_handlers(app: FastAPI, errors: Errors, allowed_methods: Callable[[str], str]) -> None:
    """The app's exception handlers: every ending of a request gets the error envelope. `allowed_methods`
    names every method served on a path (Starlette's own 405 names only those of the first route)."""

    async def on_api_error(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        return errors.of(exc)

    async def on_validation_error(request: Request, exc: Exception) -> Response:
        if isinstance(exc, ValidationError):  # a model validated by hand (PATCH) rather than by FastAPI
            exc = RequestValidationError(exc.errors(include_url=False))
        assert isinstance(exc, RequestValidationError)
        if errors.faults.on("validation-detail-shape"):
            return await request_validation_exception_handler(request, exc)
        return errors.of_validation(list(exc.errors()))

    async def on_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if exc.status_code == 405:
            if errors.mode.takes("unknown-method", "404"):
                return errors.response(404, "not_found", "No such route")
            if errors.faults.on("method-not-allowed-drops-allow"):  # the bug: rebuilt from status and detail
                return errors.response(405, "method_not_allowed", str(exc.detail))
            return errors.response(405, "method_not_allowed", f"Method {request.method} is not allowed here",
                                   headers={**(exc.headers or {}), "Allow": allowed_methods(request.url.path)})
        if exc.status_code == 404:
            return errors.response(404, "not_found", "No such route")
        if exc.status_code == 413:
            return errors.response(413, "payload_too_large", str(exc.detail))
        return errors.response(exc.status_code, "http_error", str(exc.detail), headers=exc.headers)

    app.add_exception_handler(ApiError, on_api_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(ValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_middleware(CatchAll, errors=errors)


class GatewayAuthorizer:
    """The gateway-bearer-case-sensitive fault: an API gateway's authorizer in front of the API answers every
    Authorization header that does not start with `Bearer ` itself — in its own words, not the envelope."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        header = dict(scope.get("headers", [])).get(b"authorization") if scope["type"] == "http" else None
        if header is not None and not header.startswith(b"Bearer "):  # the bug: case- and space-sensitive
            await JsonResponse({"message": "Unauthorized"}, status_code=401)(scope, receive, send)
            return
        await self.app(scope, receive, send)


class CatchAll:
    """A real server bug (an exception no handler knows) becomes the 500 error envelope, and the
    connection stays usable (Starlette's own 500 handler re-raises, and the server then drops it)."""

    def __init__(self, app: ASGIApp, errors: Errors) -> None:
        self.app = app
        self.errors = errors

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            log.warning("unhandled %s on %s %s: %s", type(exc).__name__, scope.get("method"), scope.get("path"),
                        str(exc).splitlines()[0] if str(exc) else "")
            if started:
                raise
            await self.errors.response(500, "internal_error", "Internal server error")(scope, receive, send)
