"""One server's parts wired together, and what every route depends on: the caller (see :mod:`.auth`),
a read session, a write unit of work — one transaction whose events are published only after it
commits, so a rejected request sends nothing — and the route class that reads JSON bodies strictly."""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from fastapi import Request, Response
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .auth import DEFERRED_LIMIT_KEY, Auth
from .delivery import Dispatcher, Event
from .errors import ApiError, Errors
from .faults import FaultSet
from .models import Models, build_models
from .modes import Mode
from .render import Renderer
from .settings import Settings
from .storage import Database, remove_database_files

MAX_BODY_BYTES = 1_000_000
MAX_JSON_DEPTH = 32


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite_float(literal: str) -> float:
    value = float(literal)
    if not math.isfinite(value):
        raise ValueError(f"the number {literal[:40]} is out of range")
    return value


def _check_json(value: Any, depth: int = 0) -> None:
    """No nesting deeper than MAX_JSON_DEPTH, no lone surrogates (they cannot be stored as UTF-8)."""
    if depth > MAX_JSON_DEPTH:
        raise ValueError(f"nested deeper than {MAX_JSON_DEPTH} levels")
    if isinstance(value, str):
        value.encode("utf-8")
    elif isinstance(value, list):
        for item in value:
            _check_json(item, depth + 1)
    elif isinstance(value, dict):
        for key, item in value.items():
            key.encode("utf-8")
            _check_json(item, depth + 1)


def parse_json(raw: bytes) -> Any:
    """Strict JSON: UTF-8, no NaN/Infinity, no numbers out of range, bounded depth. Any problem is a
    JSONDecodeError, which FastAPI turns into a validation error (never a 500)."""
    try:
        text = raw.decode("utf-8")
        value = json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float)
        _check_json(value)
    except json.JSONDecodeError:
        raise
    except (ValueError, RecursionError) as exc:  # UnicodeError is a ValueError
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise json.JSONDecodeError(reason[:200], "", 0) from None
    return value


class StrictJsonRequest(Request):
    async def body(self) -> bytes:
        if not hasattr(self, "_body"):
            length = self.headers.get("content-length", "")
            if length.isdigit() and int(length) > MAX_BODY_BYTES:
                raise HTTPException(413, f"The body is larger than {MAX_BODY_BYTES} bytes")
            chunks, size = [], 0
            async for chunk in self.stream():
                size += len(chunk)
                if size > MAX_BODY_BYTES:
                    raise HTTPException(413, f"The body is larger than {MAX_BODY_BYTES} bytes")
                chunks.append(chunk)
            self._body = b"".join(chunks)
        return self._body

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = parse_json(await self.body())
        return self._json


class Unit:
    """One write request: its session (a single transaction) and the events it publishes on commit."""

    def __init__(self, session: Session, render: Renderer) -> None:
        self.session = session
        self._render = render
        self.events: list[Event] = []

    def publish(self, team_id: str, event_type: str, customer: dict[str, Any]) -> None:
        self.events.append(Event(team_id, event_type, self._render.event(team_id, event_type, customer)))


async def _body_faults(faults: FaultSet, request: StrictJsonRequest) -> None:
    """Where a hand-written body reader goes wrong (only under its faults)."""
    if faults.on("malformed-json-500"):
        json.loads(await request.body())  # the bug: parsed by hand, errors unhandled
    if faults.on("no-content-type-500"):
        request.headers["content-type"]  # noqa: B018 - the bug: KeyError without the header
    content_type = request.headers.get("content-type")
    if faults.on("charset-content-type-refused") and content_type not in (None, "application/json"):
        if content_type.split(";")[0].strip().lower() == "application/json":  # the bug: compared as a whole
            raise HTTPException(415, "Content-Type must be application/json")
    if faults.on("body-charset-lookup-500") and content_type is not None:
        charset = _charset(content_type)
        try:  # the bug: an unknown charset raises LookupError, which nobody catches
            (await request.body()).decode(charset or "utf-8")
        except UnicodeDecodeError:
            pass  # the strict parser answers 400
    if faults.on("lone-surrogate-500"):  # the bug: an audit hook stores the body as parsed, before validation
        try:
            parsed = json.loads(await request.body())
        except (ValueError, RecursionError):
            return
        json.dumps(parsed, ensure_ascii=False).encode("utf-8")  # a lone surrogate: UnicodeEncodeError (500)


def _charset(content_type: str) -> str | None:
    for parameter in content_type.split(";")[1:]:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset":
            return value.strip().strip('"')
    return None


def replaying(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replay() -> Message:
        return pending.pop(0) if pending else await receive()
    return replay


class AuditFirstChunk:
    """The body-first-chunk-only fault: an audit middleware reads the body of a write to log it, then replays it to
    the app — one `http.request` message only, as if it were the whole body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PATCH"):
            await self.app(scope, receive, send)
            return
        first = await receive()
        if first["type"] == "http.request":
            first = {**first, "more_body": False}  # the bug: `more_body` never looked at
        await self.app(scope, replaying([first], receive), send)


@dataclass
class Reference:
    """Everything one reference server is made of."""

    settings: Settings
    faults: FaultSet
    mode: Mode
    db: Database
    render: Renderer
    errors: Errors
    auth: Auth
    models: Models
    dispatcher: Dispatcher
    temp_path: str | None = None
    stale_cache: dict[str, dict[str, Any]] = field(default_factory=dict)  # get-stale-cache only
    list_cache: dict[str, tuple[float, Response]] = field(default_factory=dict)  # list-cache-stale only
    create_index: dict[str, tuple[str, str]] = field(default_factory=dict)  # search-index-stale-on-update only
    read_cache: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)  # get-cache-survives-delete
    ticket_cache: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)  # ticket-cache-survives-cascade
    count_cache: dict[str, tuple[float, int]] = field(default_factory=dict)  # count-cache-without-team only
    row_cache: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict)  # list-row-cache-ticketcount
    search_tombstones: list[tuple[str, str, str, str, str]] = field(default_factory=list)  # search-total-counts-deleted
    current_tenant: list[str] = field(default_factory=list)  # list-tenant-race only: one slot, process-wide
    pooled_tenant: list[str] = field(default_factory=list)  # count-rls-previous-tenant: the count connection's SET
    closed: bool = False

    @classmethod
    def build(cls, settings: Settings) -> Reference:
        faults, mode = FaultSet(settings.faults), settings.mode
        temp_path = None
        if settings.db_path is None:
            fd, temp_path = tempfile.mkstemp(prefix="cstar-reference-", suffix=".sqlite3")
            os.close(fd)
        db = Database(settings.db_path or temp_path or "", faults)
        render = Renderer(mode, faults)
        return cls(settings, faults, mode, db, render, Errors(mode, faults, render), Auth(settings, faults, mode),
                   build_models(mode, faults), Dispatcher(db, faults, mode), temp_path)

    def close(self) -> None:
        """Stop webhook workers, close the database and delete a temporary database file (idempotent)."""
        if self.closed:
            return
        self.closed = True
        self.dispatcher.close()
        self.db.close()
        if self.temp_path is not None:
            remove_database_files(self.temp_path)

    def read_session(self) -> Iterator[Session]:
        with self.db.reader() as session:
            yield session

    def unit(self) -> Iterator[Unit]:
        """Use with ``Depends(ref.unit, scope="function")``: commit before the answer is sent."""
        session = self.db.writer()
        unit = Unit(session, self.render)
        try:
            yield unit
            session.commit()
            if self.faults.on("count-cache-without-team"):
                self.count_cache.clear()  # the cache is flushed on every write (its key is the bug)
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()
        self.dispatcher.publish(unit.events)

    def route_class(self) -> type[APIRoute]:
        faults, errors = self.faults, self.errors

        class JsonRoute(APIRoute):
            def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
                handler = super().get_route_handler()

                async def strict_handler(request: Request) -> Response:
                    strict = StrictJsonRequest(request.scope, request.receive)
                    if faults.on("chunked-body-read-as-empty") and "content-length" not in request.headers:
                        strict._body = b""  # the bug: read up to Content-Length, which a chunked body has not
                    if request.method in ("POST", "PATCH"):
                        await _body_faults(faults, strict)
                    if faults.on("search-invalid-utf8-500"):  # the bug: percent-escapes decoded as strict UTF-8
                        parse_qsl(request.scope.get("query_string", b"").decode("latin-1"), errors="strict")
                    response = await handler(strict)
                    deferred = request.scope.get(DEFERRED_LIMIT_KEY)
                    if isinstance(deferred, ApiError):  # rate-limit-after-handler: the work is committed already
                        return errors.of(deferred)
                    return response

                return strict_handler

        return JsonRoute
