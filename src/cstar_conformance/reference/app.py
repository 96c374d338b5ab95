"""The reference Customers API: FastAPI + SQLAlchemy Core + SQLite, with fault switches.

Handlers read the raw request and validate by hand, so every client mistake ends in the
contract's error envelope and never in FastAPI's default ``{"detail": ...}`` or a 5xx.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import os
import re
import secrets
import tempfile
import threading
import time
import traceback
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from sqlalchemy import Connection, Engine, and_, delete, false, func, insert, or_, select, text, update
from sqlalchemy.engine import Row
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import db
from .faults import FaultSet
from .webhooks import WebhookDispatcher, WebhookTarget

log = logging.getLogger("cstar_conformance.reference")

API_PREFIX = "/api/v1"
Variant = Literal["clean", "alt"]

STATUSES = ("active", "inactive")
SENTIMENTS = ("happy", "neutral", "frustrated", "angry")
PRIORITIES = ("low", "normal", "high", "urgent")
EVENT_TYPES = ("customer.created", "customer.updated", "customer.deleted", "*")
CUSTOMER_FIELDS = ("name", "email", "status", "sentiment", "tags", "notes", "customFields")
EMAIL_RE = re.compile(r"[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+\.[^@\s\x00-\x1f\x7f]+")
UUID_RE = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
INT_RE = re.compile(r"[0-9]{1,1000}")
MAX_BODY_BYTES = 1_000_000
MAX_TAGS = 1000
MAX_PAGE_SIZE = 100


def _random_key(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(24)  # 24 bytes → 32 url-safe characters


@dataclass(frozen=True)
class TeamSeed:
    id: str
    name: str
    secret_key: str
    publishable_key: str

    def as_json(self) -> dict[str, str]:
        return {"id": self.id, "name": self.name, "secret_key": self.secret_key,
                "publishable_key": self.publishable_key}


def make_teams(key_a: str | None = None, key_b: str | None = None) -> tuple[TeamSeed, TeamSeed]:
    """Teams A and B with random ids and keys; the secret keys may be given."""
    return (
        TeamSeed(str(uuid.uuid4()), "Team A", key_a or _random_key("sk_test_"), _random_key("pk_test_")),
        TeamSeed(str(uuid.uuid4()), "Team B", key_b or _random_key("sk_test_"), _random_key("pk_test_")),
    )


@dataclass
class Settings:
    """How a reference server runs.

    ``variant="alt"`` takes the other legal choice of every MAY rule: 403→404 on another team,
    405→404, validation 422, pageSize clamped to 100, an invalid filter gives an empty list,
    newest first, malformed customer id → 400, notes default "", unknown body fields rejected,
    strings > 255 and blank names rejected, microsecond ``+00:00`` timestamps, extra
    ``object``/``metadata``/``meta.requestId`` fields, DELETE → 204, a ticket for a foreign
    customer → 422, live ticketCount, and a ``customer.deleted`` webhook.
    """

    db_path: str | None = None  # None: a fresh temporary file, deleted on shutdown
    faults: frozenset[str] = frozenset()
    variant: Variant = "clean"
    rate_limit: int | None = None
    rate_window: float = 3600.0
    teams: tuple[TeamSeed, TeamSeed] = field(default_factory=make_teams)
    without: frozenset[str] = frozenset()  # "tickets", "webhooks": a target that lacks those APIs


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, type_: str = "invalid_request_error",
                 param: str | None = None, headers: Mapping[str, str] | None = None,
                 extra: Mapping[str, Any] | None = None, validation: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.type = type_
        self.param = param
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})
        self.validation = validation


class JsonResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


def error_response(status: int, code: str, message: str, type_: str = "invalid_request_error",
                   param: str | None = None, headers: Mapping[str, str] | None = None,
                   extra: Mapping[str, Any] | None = None) -> Response:
    error: dict[str, Any] = {"code": code, "message": message, "type": type_}
    if param is not None:
        error["param"] = param
    error.update(extra or {})
    return JsonResponse({"success": False, "error": error}, status_code=status, headers=dict(headers or {}))


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _finite_float(literal: str) -> float:
    value = float(literal)
    if not math.isfinite(value):
        raise ValueError("number out of range")
    return value


def now_us() -> int:
    return time.time_ns() // 1000


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396 JSON Merge Patch."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class RateLimiter:
    """A fixed window of ``limit`` requests per key."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[float, int]] = {}

    def hit(self, key: str) -> int | None:
        """None when allowed, else the seconds to wait."""
        now = time.monotonic()
        with self._lock:
            start, count = self._windows.get(key, (now, 0))
            if now - start >= self.window:
                start, count = now, 0
            if count >= self.limit:
                return max(1, math.ceil(start + self.window - now))
            self._windows[key] = (start, count + 1)
            return None


@dataclass(frozen=True)
class Ctx:
    team_id: str
    key_kind: Literal["secret", "publishable"]


CUSTOMER_SELECT = select(db.customers)
# the alt variant reports the live number of tickets instead of the "tickets ever opened" counter
CUSTOMER_SELECT_LIVE_COUNT = select(
    db.customers,
    select(func.count())
    .select_from(db.tickets)
    .where(db.tickets.c.customer_id == db.customers.c.id)
    .scalar_subquery()
    .label("live_count"),
)


class ReferenceApi:
    """Everything behind the routes: auth, validation, storage, webhooks, faults."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.faults = FaultSet(settings.faults)
        self.alt = settings.variant == "alt"
        self.validation_status = 422 if self.alt else 400
        self.max_string = 255 if self.alt else 10_000
        self._temp_db: str | None = None
        if settings.db_path is None:
            fd, path = tempfile.mkstemp(prefix="cstar-reference-", suffix=".sqlite3")
            os.close(fd)
            self._temp_db = path
        else:
            path = settings.db_path
        self.db_path = path
        f = self.faults
        unique_email = not (f.on("email-unique-race") or f.on("duplicate-email-200"))
        self.engine: Engine = db.create_database(path, unique_email=unique_email)
        self.teams = {team.id: team for team in settings.teams}
        self.keys: dict[str, tuple[str, Literal["secret", "publishable"]]] = {}
        for team in settings.teams:
            self.keys[team.secret_key] = (team.id, "secret")
            self.keys[team.publishable_key] = (team.id, "publishable")
        self.rate_limiter = (
            RateLimiter(settings.rate_limit, settings.rate_window) if settings.rate_limit else None
        )
        self.write_lock = threading.Lock()
        self._idem_locks: dict[tuple[str, str], threading.Lock] = {}
        self._idem_guard = threading.Lock()
        self._get_cache: dict[str, dict[str, Any]] = {}  # only used by the get-stale-cache fault
        self.dispatcher = WebhookDispatcher(self.faults)
        live = self.alt and not self.faults.on("ticketcount-cached")
        self.customer_select = CUSTOMER_SELECT_LIVE_COUNT if live else CUSTOMER_SELECT
        self._ts_cache: dict[int, str] = {}

    def close(self) -> None:
        """Stop webhook workers, close the database and delete a temporary database file."""
        self.dispatcher.close()
        self.engine.dispose()
        if self._temp_db is not None:
            db.remove_database_files(self._temp_db)

    # ----------------------------------------------------------------- helpers

    def invalid(self, param: str | None, message: str, code: str = "parameter_invalid") -> ApiError:
        return ApiError(self.validation_status, code, message, param=param, validation=True)

    def not_found(self, what: str, param: str | None = None) -> ApiError:
        return ApiError(404, "not_found", f"No such {what}", "not_found_error", param=param)

    def ts(self, us: int) -> str:
        cached = self._ts_cache.get(us)
        if cached is None:
            if len(self._ts_cache) > 100_000:
                self._ts_cache.clear()
            cached = self._ts_cache[us] = self._format_ts(us)
        return cached

    def _format_ts(self, us: int) -> str:
        seconds, micros = divmod(us, 1_000_000)
        moment = datetime.fromtimestamp(seconds, UTC).replace(microsecond=micros)
        if self.faults.on("timestamps-naive"):
            return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{micros // 1000:03d}"
        if self.alt:
            return moment.isoformat(timespec="microseconds")
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{micros // 1000:03d}Z"

    def ok(self, data: Any, status: int = 200, pagination: dict[str, Any] | None = None,
           media_type: str | None = None) -> Response:
        body: dict[str, Any] = {"success": True, "data": data}
        meta: dict[str, Any] = {}
        if pagination is not None:
            if self.faults.on("pagination-under-meta"):
                meta["pagination"] = pagination
            else:
                body["pagination"] = pagination
        if self.alt:
            meta["requestId"] = "req_" + secrets.token_hex(12)
        if meta:
            body["meta"] = meta
        return JsonResponse(body, status_code=status, media_type=media_type)

    def deleted(self, object_id: str) -> Response:
        if self.alt:
            return Response(status_code=204)
        return self.ok({"id": object_id, "deleted": True})

    def email_key(self, team_id: str, email: str) -> str:
        key = email if self.faults.on("email-case-sensitive-unique") else email.lower()
        if self.faults.on("email-unique-global"):
            return key
        return f"{team_id}:{key}"

    def store_string(self, value: str) -> str:
        if self.faults.on("emoji-mangled"):
            return "".join(ch if ord(ch) <= 0xFFFF else "?" for ch in value)
        return value

    # -------------------------------------------------------------- auth & io

    def authorize(self, request: Request, team_id: str, *, write: bool) -> Ctx:
        header = request.headers.get("authorization")
        if header is None:
            if self.faults.on("auth-missing-key-allowed") and not write and team_id in self.teams:
                token = self.teams[team_id].secret_key
            else:
                raise ApiError(401, "authentication_required",
                               "Missing Authorization header; send 'Authorization: Bearer <key>'",
                               "authentication_error")
        else:
            parts = header.split()
            if len(parts) != 2 or parts[0].lower() != "bearer":
                raise ApiError(401, "invalid_api_key", "Authorization header must be 'Bearer <key>'",
                               "authentication_error")
            token = parts[1]
        found = self.keys.get(token)
        if found is None:
            raise ApiError(401, "invalid_api_key", "Unknown API key", "authentication_error")
        key_team, kind = found
        if self.rate_limiter is not None:
            retry_after = self.rate_limiter.hit(token)
            if retry_after is not None:
                if self.faults.on("rate-limit-no-retry-after"):
                    raise ApiError(429, "rate_limit_exceeded", "Too many requests", "rate_limit_error")
                raise ApiError(429, "rate_limit_exceeded", "Too many requests", "rate_limit_error",
                               headers={"Retry-After": str(retry_after)},
                               extra={"retryAfter": retry_after})
        if not self.faults.on("cross-team-path-ignored") and team_id != key_team:
            if self.alt:
                raise self.not_found("team", "teamId")
            raise ApiError(403, "team_access_denied", "This API key does not belong to that team",
                           "permission_error", param="teamId")
        if write and kind == "publishable" and not self.faults.on("publishable-key-writes"):
            raise ApiError(403, "publishable_key_write",
                           "Publishable keys are read-only; use a secret key for writes", "permission_error")
        return Ctx(key_team, kind)

    async def read_json(self, request: Request) -> Any:
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > MAX_BODY_BYTES:
            raise ApiError(413, "payload_too_large", "Request body is too large")
        raw = await request.body()
        if len(raw) > MAX_BODY_BYTES:
            raise ApiError(413, "payload_too_large", "Request body is too large")
        if self.faults.on("malformed-json-500"):
            return json.loads(raw)  # the bug: a JSONDecodeError escapes as a 500
        if not raw.strip():
            raise self.invalid("body", "A JSON object body is required", "parameter_missing")
        try:
            value = json.loads(raw, parse_constant=_reject_constant, parse_float=_finite_float)
            json.dumps(value, ensure_ascii=False).encode("utf-8")  # lone surrogates cannot be stored
        except (ValueError, RecursionError, UnicodeError):
            raise self.invalid("body", "Request body is not valid JSON") from None
        return value

    def idempotent(self, ctx: Ctx, request: Request, body: Any, handler: Callable[[], Response]) -> Response:
        key = request.headers.get("idempotency-key")
        if key is None or self.faults.on("idempotency-ignored"):
            return handler()
        if not 1 <= len(key) <= 255:
            raise self.invalid("Idempotency-Key", "Idempotency-Key must be 1 to 255 characters")
        fingerprint = hashlib.sha256(
            f"{request.method} {request.url.path}\n{json.dumps(body, sort_keys=True)}".encode()
        ).hexdigest()
        with self._idem_guard:
            lock = self._idem_locks.setdefault((ctx.team_id, key), threading.Lock())
        with lock:
            with self.engine.connect() as conn:
                stored = conn.execute(
                    select(db.idempotency).where(
                        db.idempotency.c.team_id == ctx.team_id, db.idempotency.c.key == key
                    )
                ).first()
            if stored is not None:
                if stored.fingerprint != fingerprint:
                    raise ApiError(409, "idempotency_key_reused",
                                   "This Idempotency-Key was used with a different request",
                                   param="Idempotency-Key")
                return Response(stored.body.encode(), status_code=stored.status, media_type=stored.media_type)
            try:
                response = handler()
            except ApiError as exc:
                response = self.error(exc)
            if response.status_code < 500:
                with self.write_lock, self.engine.begin() as conn:
                    conn.execute(insert(db.idempotency).values(
                        team_id=ctx.team_id, key=key, fingerprint=fingerprint, status=response.status_code,
                        media_type=response.media_type, body=bytes(response.body).decode(),
                    ))
            return response

    def error(self, exc: ApiError) -> Response:
        if exc.validation and self.faults.on("validation-detail-shape"):
            return JsonResponse(
                {"detail": [{"loc": ["body", exc.param or "body"], "msg": exc.message, "type": "value_error"}]},
                status_code=422,
            )
        return error_response(exc.status, exc.code, exc.message, exc.type, exc.param, exc.headers, exc.extra)

    def parse_id(self, raw: str, what: str, *, malformed_400: bool = False) -> str:
        if not UUID_RE.fullmatch(raw):
            if malformed_400:  # the contract allows 404 or 400 here — not the variant's 422
                raise ApiError(400, "parameter_invalid", f"{what}Id must be a UUID", param=f"{what}Id",
                               validation=True)
            raise self.not_found(what)
        return raw.lower()

    def parse_customer_id(self, raw: str) -> str:
        if self.faults.on("malformed-id-500"):
            return str(uuid.UUID(raw))  # the bug: ValueError escapes as a 500
        return self.parse_id(raw, "customer", malformed_400=self.alt)

    def positive_int(self, query: Mapping[str, str], name: str, default: int) -> int:
        raw = query.get(name)
        if raw is None:
            return default
        if not INT_RE.fullmatch(raw) or int(raw) < 1:
            if self.faults.on("bad-page-params-default"):
                return default
            raise self.invalid(name, f"{name} must be an integer of at least 1")
        return int(raw)

    def page_params(self, query: Mapping[str, str]) -> tuple[int, int, int]:
        """(page, page size used, page size reported)."""
        default_size = 10 if self.faults.on("list-default-pagesize-10") else 20
        page = self.positive_int(query, "page", 1)
        size = self.positive_int(query, "pageSize", default_size)
        if size <= MAX_PAGE_SIZE:
            return page, size, size
        if self.faults.on("pagesize-unbounded"):
            return page, min(size, 2**62), size
        if self.faults.on("pagination-echoes-requested-pagesize"):
            return page, MAX_PAGE_SIZE, size
        if self.alt:
            return page, MAX_PAGE_SIZE, MAX_PAGE_SIZE
        raise self.invalid("pageSize", f"pageSize must be at most {MAX_PAGE_SIZE}")

    def page_window(self, page: int, size: int, total: int) -> tuple[int, int] | None:
        """(offset, limit) for the SQL query, or None when the page is past the end."""
        offset = (page - 1) * size
        if page >= 2 and self.faults.on("page2-offset-off-by-one"):
            offset -= 1
        if self.faults.on("huge-page-500"):
            return offset, size  # the bug: SQLite overflows on a huge offset
        if offset >= total:
            if self.faults.on("past-end-returns-last-page") and total > 0:
                return ((total - 1) // size) * size, size
            return None
        return offset, size

    def pagination(self, page: int, reported_size: int, total: int) -> dict[str, Any]:
        more = page * reported_size <= total if self.faults.on("hasmore-off-by-one") else (
            page * reported_size < total)
        return {"total": total, "page": page, "pageSize": reported_size, "hasMore": more}

    # --------------------------------------------------------------- customers

    def ticket_count(self, row: Row[Any]) -> int:
        if self.alt and not self.faults.on("ticketcount-cached"):
            return int(row.live_count)
        return int(row.ticket_counter)

    def customer_json(self, row: Row[Any]) -> dict[str, Any]:
        data: dict[str, Any] = {}
        if self.alt:
            data["object"] = "customer"
        data.update({
            "id": row.id,
            "name": row.name,
            "email": row.email,
            "status": row.status,
            "sentiment": row.sentiment,
            "tags": json.loads(row.tags),
            "notes": row.notes,
            "customFields": json.loads(row.custom_fields),
            "ticketCount": self.ticket_count(row),
            "createdAt": self.ts(row.created_us),
            "updatedAt": self.ts(row.updated_us),
        })
        if self.alt:
            data["metadata"] = {}
        return data

    @staticmethod
    def snake_customer(customer: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": customer["id"],
            "name": customer["name"],
            "email": customer["email"],
            "status": customer["status"],
            "sentiment": customer["sentiment"],
            "tags": customer["tags"],
            "notes": customer["notes"],
            "custom_fields": customer["customFields"],
            "ticket_count": customer["ticketCount"],
            "created_at": customer["createdAt"],
            "updated_at": customer["updatedAt"],
        }

    def fetch_customer(self, conn: Connection, team_id: str | None, customer_id: str) -> Row[Any] | None:
        conditions = [db.customers.c.id == customer_id, db.customers.c.deleted == 0]
        if team_id is not None:
            conditions.append(db.customers.c.team_id == team_id)
        return conn.execute(self.customer_select.where(*conditions)).first()

    def validate_field(self, name: str, value: Any) -> Any:
        limit = self.max_string
        if name in ("name", "email", "status", "sentiment") and not isinstance(value, str):
            raise self.invalid(name, f"{name} must be a string")
        if name == "name":
            if not value or (self.alt and not value.strip()):
                raise self.invalid(name, "name must not be empty")
            if len(value) > limit:
                raise self.invalid(name, f"name must be at most {limit} characters")
            return value
        if name == "email":
            if len(value) > 254 or not EMAIL_RE.fullmatch(value):
                raise self.invalid(name, "email must be a valid email address")
            return value
        if name == "status":
            if value not in STATUSES:
                raise self.invalid(name, f"status must be one of {', '.join(STATUSES)}")
            return value
        if name == "sentiment":
            if value not in SENTIMENTS:
                raise self.invalid(name, f"sentiment must be one of {', '.join(SENTIMENTS)}")
            return value
        if name == "tags":
            if not isinstance(value, list) or not all(isinstance(tag, str) for tag in value):
                raise self.invalid(name, "tags must be an array of strings")
            if len(value) > MAX_TAGS or any(len(tag) > limit for tag in value):
                raise self.invalid(name, f"at most {MAX_TAGS} tags of at most {limit} characters")
            return list(value)
        if name == "notes":
            if value is not None and not isinstance(value, str):
                raise self.invalid(name, "notes must be a string or null")
            if value is not None and len(value) > limit:
                raise self.invalid(name, f"notes must be at most {limit} characters")
            return value
        if name == "customFields":
            if not isinstance(value, dict):
                raise self.invalid(name, "customFields must be an object")
            return value
        raise AssertionError(name)

    def validate_customer(self, body: Any, *, partial: bool,
                          progress: dict[str, Any] | None = None) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise self.invalid("body", "The request body must be a JSON object")
        if self.alt:
            for key in body:
                if key not in CUSTOMER_FIELDS:
                    raise self.invalid(key, f"Unknown field {key!r}", "parameter_unknown")
        if not partial:
            for required in ("name", "email"):
                if required not in body and not (
                    required == "email" and self.faults.on("create-missing-email-201")
                ):
                    raise self.invalid(required, f"{required} is required", "parameter_missing")
        fields = progress if progress is not None else {}
        for key, value in body.items():
            if key in CUSTOMER_FIELDS:  # unknown and read-only fields are ignored (clean variant)
                fields[key] = self.validate_field(key, value)
        return fields

    def defaults(self) -> dict[str, Any]:
        return {
            "status": "active",
            "sentiment": "happy" if self.faults.on("create-defaults-wrong") else "neutral",
            "tags": [],
            "notes": "" if self.alt else None,
            "customFields": {},
        }

    def row_values(self, team_id: str, state: dict[str, Any]) -> dict[str, Any]:
        name = self.store_string(state["name"])
        if self.faults.on("name-truncated-100"):
            name = name[:100]
        notes = state["notes"]
        return {
            "name": name,
            "name_lower": name.lower(),
            "email": state["email"],
            "email_lower": state["email"].lower(),
            "status": state["status"],
            "sentiment": state["sentiment"],
            "tags": _dumps([self.store_string(tag) for tag in state["tags"]]),
            "notes": self.store_string(notes) if isinstance(notes, str) else notes,
            "custom_fields": _dumps(state["customFields"]),
        }

    def duplicate_email(self) -> ApiError:
        if self.faults.on("duplicate-email-400"):
            return self.invalid("email", "A customer with this email already exists", "email_taken")
        return ApiError(409, "email_taken", "A customer with this email already exists in this team",
                        "conflict_error", param="email")

    def email_in_use(self, conn: Connection, key: str, exclude_id: str | None) -> bool:
        query = select(db.customers.c.id).where(db.customers.c.email_key == key)
        if exclude_id is not None:
            query = query.where(db.customers.c.id != exclude_id)
        return conn.execute(query.limit(1)).first() is not None

    def create_customer(self, ctx: Ctx, body: Any) -> Response:
        fields = self.validate_customer(body, partial=False)
        state = self.defaults() | {"email": ""} | fields
        customer_id = str(uuid.uuid4())
        stamp = now_us()
        values = self.row_values(ctx.team_id, state) | {
            "id": customer_id, "team_id": ctx.team_id, "ticket_counter": 0,
            "created_us": stamp, "updated_us": stamp, "deleted": 0,
            "email_key": self.email_key(ctx.team_id, state["email"]),
        }
        status = 200 if self.faults.on("create-returns-200") else 201
        if self.faults.on("email-unique-race") or self.faults.on("duplicate-email-200"):
            # check-then-insert: the existence check runs outside the write transaction
            with self.engine.connect() as conn:
                taken = self.email_in_use(conn, values["email_key"], None)
            if taken and not self.faults.on("duplicate-email-200"):
                raise self.duplicate_email()
            if taken:
                status = 200
            time.sleep(0.05)
        try:
            with self.write_lock, self.engine.begin() as conn:
                conn.execute(insert(db.customers).values(**values))
                row = self.fetch_customer(conn, ctx.team_id, customer_id)
        except IntegrityError:
            raise self.duplicate_email() from None
        assert row is not None
        customer = self.customer_json(row)
        self.emit(ctx.team_id, "customer.created", customer)
        if self.faults.on("create-returns-id-only"):
            return self.ok({"id": customer_id}, status)
        return self.ok(customer, status)

    def list_customers(self, ctx: Ctx, query: Mapping[str, str]) -> Response:
        page, size, reported_size = self.page_params(query)
        c = db.customers.c
        team_condition = c.team_id == ctx.team_id
        conditions: list[Any] = []
        if not self.faults.on("soft-delete-still-listed"):
            conditions.append(c.deleted == 0)
        enum_conditions = []
        impossible = False
        for param, allowed in (("status", STATUSES), ("sentiment", SENTIMENTS)):
            value = query.get(param)
            if value is None:
                continue
            if value not in allowed:
                if self.faults.on("invalid-filter-ignored"):
                    continue
                if not self.alt:
                    raise self.invalid(param, f"{param} must be one of {', '.join(allowed)}")
                impossible = True
            enum_conditions.append(getattr(c, param) == value)
        if enum_conditions:
            if self.faults.on("filter-or-instead-of-and"):
                conditions.append(or_(*enum_conditions))
            else:
                conditions.extend(enum_conditions)
        if impossible:
            conditions.append(false())
        search = query.get("search")
        if search:
            if self.faults.on("search-case-sensitive"):
                name_match, email_match = func.instr(c.name, search) > 0, func.instr(c.email, search) > 0
            else:
                needle = search.lower()
                name_match = func.instr(c.name_lower, needle) > 0
                email_match = func.instr(c.email_lower, needle) > 0
            conditions.append(name_match if self.faults.on("search-name-only") else or_(name_match, email_match))
        tag = query.get("tag")
        if tag is not None:
            conditions.append(text(
                "EXISTS (SELECT 1 FROM json_each(customers.tags) WHERE json_each.value = :tag)"
            ).bindparams(tag=tag))
        if not (search and self.faults.on("list-leaks-other-team")):
            conditions.append(team_condition)
        order = c.seq.desc() if self.alt else c.seq.asc()
        with self.engine.connect() as conn:
            count_conditions = [team_condition] if self.faults.on("total-before-filters") else conditions
            total = conn.execute(select(func.count()).select_from(db.customers).where(*count_conditions)).scalar_one()
            window = self.page_window(page, size, total)
            rows = [] if window is None else conn.execute(
                self.customer_select.where(and_(*conditions)).order_by(order).offset(window[0]).limit(window[1])
            ).all()
        data = [self.customer_json(row) for row in rows]
        media_type = "text/plain" if self.faults.on("list-text-plain") else None
        return self.ok(data, pagination=self.pagination(page, reported_size, total), media_type=media_type)

    def get_customer(self, ctx: Ctx, raw_id: str) -> Response:
        customer_id = self.parse_customer_id(raw_id)
        if self.faults.on("get-stale-cache") and customer_id in self._get_cache:
            cached = self._get_cache[customer_id]
            return self.ok(cached)
        team = None if self.faults.on("cross-team-read-by-id") else ctx.team_id
        with self.engine.connect() as conn:
            row = self.fetch_customer(conn, team, customer_id)
        if row is None:
            if self.faults.on("get-unknown-200-null"):
                return self.ok(None)
            raise self.not_found("customer", "customerId")
        customer = self.customer_json(row)
        if self.faults.on("get-stale-cache"):
            self._get_cache[customer_id] = customer
        if self.faults.on("get-bare-customer"):
            return JsonResponse(customer)
        return self.ok(customer)

    def patch_customer(self, ctx: Ctx, raw_id: str, body: Any) -> Response:
        customer_id = self.parse_customer_id(raw_id)
        progress: dict[str, Any] = {}
        try:
            changes = self.validate_customer(body, partial=True, progress=progress)
        except ApiError:
            if self.faults.on("patch-invalid-partial-write") and progress:
                self._apply_patch(ctx, customer_id, progress, {})
            raise
        if not changes and self.faults.on("patch-empty-400"):
            raise self.invalid("body", "Nothing to update", "parameter_missing")
        return self._apply_patch(ctx, customer_id, changes, body)

    def _apply_patch(self, ctx: Ctx, customer_id: str, changes: dict[str, Any], body: Any) -> Response:
        f = self.faults
        with self.write_lock, self.engine.begin() as conn:
            row = self.fetch_customer(conn, ctx.team_id, customer_id)
            if row is None:
                if f.on("patch-unknown-200"):
                    return self.ok({"id": customer_id} | changes)
                raise self.not_found("customer", "customerId")
            before = self.customer_json(row)
            current = {key: before[key] for key in CUSTOMER_FIELDS}
            new = dict(current)
            if f.on("patch-rebuilds-from-defaults"):
                new = self.defaults() | {"name": current["name"], "email": current["email"]}
            for key, value in changes.items():
                if key == "tags" and f.on("patch-tags-append"):
                    new["tags"] = current["tags"] + value
                elif key == "customFields":
                    if f.on("patch-customfields-null-stored"):
                        new["customFields"] = new["customFields"] | value
                    else:
                        new["customFields"] = merge_patch(new["customFields"], value)
                else:
                    new[key] = value
            if "customFields" not in changes and f.on("patch-customfields-replace-on-omit"):
                new["customFields"] = {}
            values = self.row_values(ctx.team_id, new)
            extra: dict[str, Any] = {}
            if f.on("patch-resets-ticketcount") and isinstance(body, dict):
                count = body.get("ticketCount")
                if isinstance(count, int) and not isinstance(count, bool) and 0 <= count < 2**62:
                    extra["ticket_counter"] = count
                created = body.get("createdAt")
                if isinstance(created, str):
                    with contextlib.suppress(ValueError, OverflowError):
                        extra["created_us"] = int(datetime.fromisoformat(created).timestamp() * 1_000_000)
            email_changed = new["email"].lower() != current["email"].lower()
            if (email_changed or (f.on("patch-own-email-conflict") and "email" in changes)) and not f.on(
                "patch-email-conflict-unchecked"
            ):
                key = self.email_key(ctx.team_id, new["email"])
                exclude = None if f.on("patch-own-email-conflict") else customer_id
                if self.email_in_use(conn, key, exclude):
                    raise self.duplicate_email()
            if not f.on("patch-email-conflict-unchecked"):
                values["email_key"] = self.email_key(ctx.team_id, new["email"])
            changed = new != current or bool(extra)
            if changed:
                values.update(extra)
                if not f.on("patch-updatedat-frozen"):
                    values["updated_us"] = max(now_us(), row.updated_us)
                try:
                    conn.execute(update(db.customers).where(db.customers.c.id == customer_id).values(**values))
                except IntegrityError:
                    raise self.duplicate_email() from None
                row = self.fetch_customer(conn, ctx.team_id, customer_id)
                assert row is not None
        customer = self.customer_json(row)
        if changed:
            if not f.on("get-stale-cache"):
                self._get_cache.pop(customer_id, None)
            if not f.on("webhook-no-update-event"):
                self.emit(ctx.team_id, "customer.updated", before if f.on("webhook-stale-payload") else customer)
        return self.ok(customer)

    def delete_customer(self, ctx: Ctx, raw_id: str) -> Response:
        customer_id = self.parse_customer_id(raw_id)
        f = self.faults
        with self.write_lock, self.engine.begin() as conn:
            row = self.fetch_customer(conn, ctx.team_id, customer_id)
            if row is None:
                raise self.not_found("customer", "customerId")
            customer = self.customer_json(row)
            where = db.customers.c.id == customer_id
            if f.on("delete-keeps-email-reserved"):
                conn.execute(update(db.customers).where(where).values(deleted=1))
            elif f.on("soft-delete-still-listed"):
                conn.execute(update(db.customers).where(where).values(deleted=1, email_key=None))
            else:
                conn.execute(delete(db.customers).where(where))
            if not f.on("delete-no-cascade"):
                conn.execute(delete(db.tickets).where(db.tickets.c.customer_id == customer_id))
        self._get_cache.pop(customer_id, None)
        if self.alt:
            self.emit(ctx.team_id, "customer.deleted", customer)
        if f.on("delete-200-empty-body"):
            return Response(status_code=200)
        return self.deleted(customer_id)

    # ----------------------------------------------------------------- tickets

    def ticket_json(self, row: Row[Any]) -> dict[str, Any]:
        return {
            "id": row.id,
            "title": row.title,
            "customerId": row.customer_id,
            "priority": row.priority,
            "status": row.status,
            "createdAt": self.ts(row.created_us),
            "updatedAt": self.ts(row.updated_us),
        }

    def create_ticket(self, ctx: Ctx, body: Any) -> Response:
        if not isinstance(body, dict):
            raise self.invalid("body", "The request body must be a JSON object")
        for required in ("title", "customerId"):
            if required not in body:
                raise self.invalid(required, f"{required} is required", "parameter_missing")
        title, raw_customer = body["title"], body["customerId"]
        priority = body.get("priority", "normal")
        if not isinstance(title, str) or not title or len(title) > self.max_string:
            raise self.invalid("title", f"title must be a non-empty string of at most {self.max_string} characters")
        if not isinstance(raw_customer, str):
            raise self.invalid("customerId", "customerId must be a string")
        if priority not in PRIORITIES:
            raise self.invalid("priority", f"priority must be one of {', '.join(PRIORITIES)}")
        unknown_customer = (
            self.invalid("customerId", "customerId is not a customer of this team")
            if self.alt else self.not_found("customer", "customerId")
        )
        if not UUID_RE.fullmatch(raw_customer):
            raise unknown_customer
        customer_id = raw_customer.lower()
        ticket_id = str(uuid.uuid4())
        stamp = now_us()
        with self.write_lock, self.engine.begin() as conn:
            team = None if self.faults.on("ticket-any-customer") else ctx.team_id
            if self.fetch_customer(conn, team, customer_id) is None:
                raise unknown_customer
            conn.execute(insert(db.tickets).values(
                id=ticket_id, team_id=ctx.team_id, customer_id=customer_id, title=title, priority=priority,
                status="open", created_us=stamp, updated_us=stamp,
            ))
            if not self.faults.on("ticketcount-cached"):
                conn.execute(update(db.customers).where(db.customers.c.id == customer_id)
                             .values(ticket_counter=db.customers.c.ticket_counter + 1))
            row = conn.execute(select(db.tickets).where(db.tickets.c.id == ticket_id)).one()
        return self.ok(self.ticket_json(row), 201)

    def get_ticket(self, ctx: Ctx, raw_id: str) -> Response:
        ticket_id = self.parse_id(raw_id, "ticket")
        with self.engine.connect() as conn:
            row = conn.execute(select(db.tickets).where(
                db.tickets.c.id == ticket_id, db.tickets.c.team_id == ctx.team_id)).first()
        if row is None:
            raise self.not_found("ticket", "ticketId")
        return self.ok(self.ticket_json(row))

    def list_tickets(self, ctx: Ctx, query: Mapping[str, str]) -> Response:
        page, size, reported_size = self.page_params(query)
        conditions = [db.tickets.c.team_id == ctx.team_id]
        customer_id = query.get("customerId")
        if customer_id is not None:
            conditions.append(db.tickets.c.customer_id == customer_id.lower())
        order = db.tickets.c.seq.desc() if self.alt else db.tickets.c.seq.asc()
        with self.engine.connect() as conn:
            total = conn.execute(select(func.count()).select_from(db.tickets).where(*conditions)).scalar_one()
            offset = (page - 1) * size
            rows = [] if offset >= total else conn.execute(
                select(db.tickets).where(*conditions).order_by(order).offset(offset).limit(size)).all()
        return self.ok([self.ticket_json(row) for row in rows],
                       pagination=self.pagination(page, reported_size, total))

    def delete_ticket(self, ctx: Ctx, raw_id: str) -> Response:
        ticket_id = self.parse_id(raw_id, "ticket")
        with self.write_lock, self.engine.begin() as conn:
            result = conn.execute(delete(db.tickets).where(
                db.tickets.c.id == ticket_id, db.tickets.c.team_id == ctx.team_id))
        if result.rowcount == 0:
            raise self.not_found("ticket", "ticketId")
        return self.deleted(ticket_id)

    # ---------------------------------------------------------------- webhooks

    def webhook_json(self, row: Row[Any], *, with_secret: bool = False) -> dict[str, Any]:
        data: dict[str, Any] = {"id": row.id, "url": row.url, "events": json.loads(row.events)}
        if with_secret:
            data["secret"] = row.secret
        data.update({"isActive": bool(row.is_active), "createdAt": self.ts(row.created_us)})
        return data

    def create_webhook(self, ctx: Ctx, body: Any) -> Response:
        if not isinstance(body, dict):
            raise self.invalid("body", "The request body must be a JSON object")
        for required in ("url", "events"):
            if required not in body:
                raise self.invalid(required, f"{required} is required", "parameter_missing")
        url, events = body["url"], body["events"]
        if not isinstance(url, str) or len(url) > 2048 or not _is_http_url(url):
            raise self.invalid("url", "url must be an http or https URL")
        if (not isinstance(events, list) or not events
                or not all(isinstance(e, str) and e in EVENT_TYPES for e in events)):
            raise self.invalid("events", f"events must be a non-empty array of {', '.join(EVENT_TYPES)}")
        webhook_id = str(uuid.uuid4())
        with self.write_lock, self.engine.begin() as conn:
            conn.execute(insert(db.webhooks).values(
                id=webhook_id, team_id=ctx.team_id, url=url, events=_dumps(list(dict.fromkeys(events))),
                secret="whsec_" + secrets.token_hex(16), is_active=1, created_us=now_us(),
            ))
            row = conn.execute(select(db.webhooks).where(db.webhooks.c.id == webhook_id)).one()
        return self.ok(self.webhook_json(row, with_secret=True), 201)

    def list_webhooks(self, ctx: Ctx, query: Mapping[str, str]) -> Response:
        page, size, reported_size = self.page_params(query)
        condition = db.webhooks.c.team_id == ctx.team_id
        with self.engine.connect() as conn:
            total = conn.execute(select(func.count()).select_from(db.webhooks).where(condition)).scalar_one()
            offset = (page - 1) * size
            rows = [] if offset >= total else conn.execute(
                select(db.webhooks).where(condition).order_by(db.webhooks.c.seq).offset(offset).limit(size)
            ).all()
        return self.ok([self.webhook_json(row) for row in rows],
                       pagination=self.pagination(page, reported_size, total))

    def get_webhook(self, ctx: Ctx, raw_id: str) -> Response:
        webhook_id = self.parse_id(raw_id, "webhook")
        with self.engine.connect() as conn:
            row = conn.execute(select(db.webhooks).where(
                db.webhooks.c.id == webhook_id, db.webhooks.c.team_id == ctx.team_id)).first()
        if row is None:
            raise self.not_found("webhook", "webhookId")
        return self.ok(self.webhook_json(row))

    def delete_webhook(self, ctx: Ctx, raw_id: str) -> Response:
        webhook_id = self.parse_id(raw_id, "webhook")
        with self.write_lock, self.engine.begin() as conn:
            result = conn.execute(delete(db.webhooks).where(
                db.webhooks.c.id == webhook_id, db.webhooks.c.team_id == ctx.team_id))
        if result.rowcount == 0:
            raise self.not_found("webhook", "webhookId")
        return self.deleted(webhook_id)

    def emit(self, team_id: str, event_type: str, customer: dict[str, Any]) -> None:
        with self.engine.connect() as conn:
            rows = conn.execute(select(db.webhooks).where(
                db.webhooks.c.team_id == team_id, db.webhooks.c.is_active == 1)).all()
        targets = [WebhookTarget(row.id, row.url, row.secret, tuple(json.loads(row.events))) for row in rows]
        if not self.faults.on("webhook-ignores-subscription"):
            targets = [target for target in targets if target.wants(event_type)]
        if not targets:
            return
        if self.faults.on("webhook-camelcase-payload"):
            wire_customer = {k: v for k, v in customer.items() if k not in ("object", "metadata")}
        else:
            wire_customer = self.snake_customer(customer)
        event_id = "evt_" + uuid.uuid4().hex
        payload = {"id": event_id, "type": event_type, "created_at": self.ts(now_us()), "team_id": team_id,
                   "data": {"customer": wire_customer}}
        self.dispatcher.publish(event_type, event_id, payload, targets)


def _is_http_url(url: str) -> bool:
    if any(ch.isspace() or ord(ch) < 32 for ch in url):
        return False
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
        httpx.URL(url)
    except (ValueError, httpx.InvalidURL):
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


class RequestCounter:
    """Counts every HTTP request the server receives (any path, any answer, 429s and 401s included),
    so self-tests can compare the suite's own request count with what the target saw."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.total = 0
        self._lock = threading.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("path") != STATS_PATH:
            with self._lock:
                self.total += 1
        await self.app(scope, receive, send)


STATS_PATH = "/_reference/stats"


class CatchAll:
    """Turns an unhandled exception into the 500 error envelope (only a server bug gets here)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

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
            log.warning("unhandled %s on %s %s: %s", type(exc).__name__, scope.get("method"),
                        scope.get("path"), "".join(traceback.format_exception_only(exc)).strip())
            if started:
                raise
            response = error_response(500, "internal_error", "Internal server error", "api_error")
            await response(scope, receive, send)


def _middlewares(app: FastAPI) -> list[Any]:
    found, current = [], app.middleware_stack
    while current is not None:
        found.append(current)
        current = getattr(current, "app", None)
    return found


def build_app(settings: Settings) -> FastAPI:
    """The reference API as an ASGI app; its database and webhook workers close on shutdown."""
    api = ReferenceApi(settings)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            api.close()

    app = FastAPI(title="cStar Customers API (reference)", docs_url=None, redoc_url=None, openapi_url=None,
                  lifespan=lifespan, redirect_slashes=False)
    app.state.api = api
    app.add_middleware(CatchAll)
    app.add_middleware(RequestCounter)

    @app.get(STATS_PATH, include_in_schema=False)
    async def stats() -> Response:
        """Not part of the API: what this server received, for the project's self-tests."""
        counter = next(m for m in _middlewares(app) if isinstance(m, RequestCounter))
        return JsonResponse({"requests": counter.total})

    async def on_api_error(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        return api.error(exc)

    async def on_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if exc.status_code == 405:
            if api.alt:
                return error_response(404, "not_found", "No such route", "not_found_error")
            return error_response(405, "method_not_allowed", f"Method {request.method} is not allowed here",
                                  headers=exc.headers)
        if exc.status_code == 404:
            return error_response(404, "not_found", "No such route", "not_found_error")
        return error_response(exc.status_code, "http_error", str(exc.detail), headers=exc.headers)

    async def on_validation_error(_request: Request, exc: Exception) -> Response:
        return error_response(api.validation_status, "parameter_invalid", "Invalid request")

    app.add_exception_handler(ApiError, on_api_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)

    team = API_PREFIX + "/teams/{team_id}"
    item_methods = ["GET", "PATCH", "DELETE"] + (["PUT"] if api.faults.on("unknown-method-200") else [])

    @app.api_route(team + "/customers", methods=["GET", "POST"])
    async def customers(request: Request, team_id: str) -> Response:
        if request.method == "POST":
            ctx = api.authorize(request, team_id, write=True)
            body = await api.read_json(request)
            return await run_in_threadpool(api.idempotent, ctx, request, body,
                                           lambda: api.create_customer(ctx, body))
        ctx = api.authorize(request, team_id, write=False)
        return await run_in_threadpool(api.list_customers, ctx, request.query_params)

    @app.api_route(team + "/customers/{customer_id}", methods=item_methods)
    async def customer(request: Request, team_id: str, customer_id: str) -> Response:
        if request.method in ("PATCH", "PUT"):
            ctx = api.authorize(request, team_id, write=True)
            body = await api.read_json(request)
            return await run_in_threadpool(api.idempotent, ctx, request, body,
                                           lambda: api.patch_customer(ctx, customer_id, body))
        if request.method == "DELETE":
            ctx = api.authorize(request, team_id, write=True)
            return await run_in_threadpool(api.delete_customer, ctx, customer_id)
        ctx = api.authorize(request, team_id, write=False)
        return await run_in_threadpool(api.get_customer, ctx, customer_id)

    @app.api_route(team + "/tickets", methods=["GET", "POST"])
    async def tickets(request: Request, team_id: str) -> Response:
        if request.method == "POST":
            ctx = api.authorize(request, team_id, write=True)
            body = await api.read_json(request)
            return await run_in_threadpool(api.idempotent, ctx, request, body,
                                           lambda: api.create_ticket(ctx, body))
        ctx = api.authorize(request, team_id, write=False)
        return await run_in_threadpool(api.list_tickets, ctx, request.query_params)

    @app.api_route(team + "/tickets/{ticket_id}", methods=["GET", "DELETE"])
    async def ticket(request: Request, team_id: str, ticket_id: str) -> Response:
        if request.method == "DELETE":
            ctx = api.authorize(request, team_id, write=True)
            return await run_in_threadpool(api.delete_ticket, ctx, ticket_id)
        ctx = api.authorize(request, team_id, write=False)
        return await run_in_threadpool(api.get_ticket, ctx, ticket_id)

    @app.api_route(team + "/webhooks", methods=["GET", "POST"])
    async def webhooks(request: Request, team_id: str) -> Response:
        if request.method == "POST":
            ctx = api.authorize(request, team_id, write=True)
            body = await api.read_json(request)
            return await run_in_threadpool(api.idempotent, ctx, request, body,
                                           lambda: api.create_webhook(ctx, body))
        ctx = api.authorize(request, team_id, write=False)
        return await run_in_threadpool(api.list_webhooks, ctx, request.query_params)

    @app.api_route(team + "/webhooks/{webhook_id}", methods=["GET", "DELETE"])
    async def webhook(request: Request, team_id: str, webhook_id: str) -> Response:
        if request.method == "DELETE":
            ctx = api.authorize(request, team_id, write=True)
            return await run_in_threadpool(api.delete_webhook, ctx, webhook_id)
        ctx = api.authorize(request, team_id, write=False)
        return await run_in_threadpool(api.get_webhook, ctx, webhook_id)

    if settings.without:  # a target without those APIs: their paths are unknown (404)
        app.router.routes = [route for route in app.router.routes
                             if not any(f"/{api_name}" in getattr(route, "path", "") for api_name in settings.without)]
    return app
