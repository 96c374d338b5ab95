"""Authentication and authorization: API keys, the team in the path, publishable keys, and the
per-key rate limiter — as FastAPI dependencies that give a route its `Caller`."""

from __future__ import annotations

import base64
import hashlib
import math
import re
import threading
import time
from dataclasses import dataclass
from typing import Literal
from urllib.parse import unquote

from fastapi import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from .errors import ApiError
from .faults import FaultSet
from .modes import Mode
from .settings import Settings

KeyKind = Literal["secret", "publishable"]

# The scope key under which HeadAsGet (app) records that a GET it serves was a HEAD.
HEAD_SCOPE_KEY = "cstar.head"
# The scope key of the rate-limit-after-handler fault: the 429 that the route class swaps in after the handler.
DEFERRED_LIMIT_KEY = "cstar.deferred-429"
# What the limiter left this request's key (limit, left, reset), for the X-RateLimit-* headers (app.RateHeaders).
QUOTA_SCOPE_KEY = "cstar.quota"
BCRYPT_MAX_BYTES = 72  # the auth-key-bcrypt-72-bytes fault: bcrypt ignores its input past this
KEY_PREFIX_LENGTH = 12  # the public prefix keys are indexed by (`sk_test_abcd`)


@dataclass(frozen=True)
class Caller:
    team_id: str  # the team of the path
    key_team: str  # the team of the key
    kind: KeyKind
    team_checked: bool = True  # False only where a fault defers the team check past the write
    write_checked: bool = True  # False only where a fault defers the publishable key's refusal (PATCH)


def _like_pattern(token: str) -> re.Pattern[str]:
    """What `key LIKE :token` matches (PostgreSQL: case-sensitive; `%` any run, `_` any one character)."""
    return re.compile("".join(".*" if ch == "%" else "." if ch == "_" else re.escape(ch) for ch in token), re.DOTALL)


def _uri_team(request: Request, team_id: str) -> str:
    """The team of the original request URI, before the proxy normalised it (auth-team-from-raw-uri)."""
    segments = request.scope.get("raw_path", b"").decode("latin-1").partition("?")[0].split("/")
    if "teams" in segments[:-1]:
        return unquote(segments[segments.index("teams") + 1])
    return team_id


def _bcrypt_input(team_id: str, key: str) -> bytes:
    """What bcrypt would hash of a key of the team (the auth-key-bcrypt-72-bytes fault)."""
    return f"{team_id}:{key}".encode()[:BCRYPT_MAX_BYTES]


def without_dot_segments(path: str) -> str:
    """A decoded path as a normalising proxy (nginx) routes it: `.` and `..` segments resolved."""
    kept: list[str] = []
    for segment in path.split("/")[1:]:
        if segment == "..":
            if kept:
                kept.pop()
        elif segment != ".":
            kept.append(segment)
    return "/" + "/".join(kept)


class NormalisingProxy:
    """The auth-team-from-raw-uri fault's deployment: the proxy routes the normalised path; `raw_path` (the
    original URI, which the team check reads) is passed on as it came."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope = {**scope, "path": without_dot_segments(scope["path"])}
        await self.app(scope, receive, send)


class RateLimiter:
    """A fixed window of ``limit`` requests per key."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[float, int]] = {}

    def hit(self, key: str) -> int | None:
        """None when allowed, else the whole seconds to wait."""
        now = time.monotonic()
        with self._lock:
            start, count = self._windows.get(key, (now, 0))
            if now - start >= self.window:
                start, count = now, 0
            if count >= self.limit:
                return max(1, math.ceil(start + self.window - now))
            self._windows[key] = (start, count + 1)
            return None

    def left(self, key: str) -> tuple[int, int, int]:
        """(limit, requests left, unix time the window ends): cStar's X-RateLimit-* headers."""
        now = time.monotonic()
        with self._lock:
            start, count = self._windows.get(key, (now, 0))
            if now - start >= self.window:
                start, count = now, 0
            return self.limit, max(0, self.limit - count), math.ceil(time.time() + start + self.window - now)


class Auth:
    """Keys and teams of one server; `reader` and `writer` are the route dependencies."""

    def __init__(self, settings: Settings, faults: FaultSet, mode: Mode) -> None:
        self.faults = faults
        self.mode = mode
        self.default_keys = {team.id: team.secret_key for team in settings.teams}
        self.keys: dict[str, tuple[str, KeyKind]] = {}
        for team in settings.teams:
            self.keys[team.secret_key] = (team.id, "secret")
            self.keys[team.publishable_key] = (team.id, "publishable")
        self.folded_keys = {key.lower(): found for key, found in self.keys.items()}  # a *_ci collation
        self.hashed_keys = {hashlib.sha256(key.encode()).hexdigest(): found for key, found in self.keys.items()}
        self.connections: dict[tuple[str, int], str] = {}  # auth-connection-cached: the key a connection showed
        self.limiter = RateLimiter(settings.rate_limit, settings.rate_window) if settings.rate_limit else None
        self.rate_headers = settings.rate_headers

    async def reader(self, request: Request, team_id: str) -> Caller:
        return self.authorize(request, team_id, write=False)

    async def writer(self, request: Request, team_id: str) -> Caller:
        return self.authorize(request, team_id, write=True)

    def cross_team(self) -> ApiError:
        if self.mode.takes("cross-team-status", "404"):
            return ApiError(404, "not_found", "No such team", param="teamId")
        return ApiError(403, "team_access_denied", "This API key does not belong to that team", param="teamId")

    def authorize(self, request: Request, team_id: str, *, write: bool) -> Caller:
        if request.scope.get(HEAD_SCOPE_KEY) and self.faults.on("head-skips-auth"):
            return Caller(team_id, team_id, "secret")  # the bug: HEAD is not on the guarded methods' list
        client = request.scope.get("client")
        connection = (str(client[0]), int(client[1])) if client and self.faults.on("auth-connection-cached") else None
        shown = self.connections.get(connection) if connection is not None else None
        token = shown if shown is not None else self._token(request, team_id, write)  # the bug: header unread
        found = self._lookup(token)
        if found is None:
            raise ApiError(401, "invalid_api_key", "Unknown API key")
        if connection is not None:
            self.connections[connection] = token
        key_team, kind = found
        self._rate_limit(request, token)
        team_checked = True
        checked_team = _uri_team(request, team_id) if self.faults.on("auth-team-from-raw-uri") else team_id
        if checked_team != key_team and not self.faults.on("cross-team-path-ignored"):
            if request.method == "PATCH" and self.faults.on("cross-team-patch-writes"):
                team_checked = False  # the bug: the handler writes first and checks afterwards
            else:
                raise self.cross_team()
        if write and kind == "publishable" and not self.faults.on("publishable-key-writes"):
            if request.method == "PATCH" and self.faults.on("pk-noop-patch-allowed"):
                return Caller(team_id, key_team, kind, team_checked, write_checked=False)
            raise self.read_only()
        return Caller(team_id, key_team, kind, team_checked)

    @staticmethod
    def read_only() -> ApiError:
        return ApiError(403, "publishable_key_write", "Publishable keys are read-only; use a secret key")

    def _lookup(self, token: str) -> tuple[str, KeyKind] | None:
        """The team and kind of a key — and the ways a real key store matches more than the exact key."""
        if self.faults.on("auth-key-hash-ascii-500"):  # the bug: keys are ASCII "by design", nobody checks
            return self.hashed_keys.get(hashlib.sha256(token.encode("ascii")).hexdigest())
        if self.faults.on("auth-key-sql-like"):  # the bug: the presented key is the LIKE pattern
            pattern = _like_pattern(token)
            return next((found for key, found in self.keys.items() if pattern.fullmatch(key)), None)
        if self.faults.on("auth-key-case-insensitive-collation"):
            return self.folded_keys.get(token.lower())
        if self.faults.on("auth-key-bcrypt-72-bytes"):
            for key, found in self.keys.items():
                indexed = key[:KEY_PREFIX_LENGTH] == token[:KEY_PREFIX_LENGTH]  # found by the public prefix
                if indexed and _bcrypt_input(found[0], key) == _bcrypt_input(found[0], token):
                    return found
            return None
        return self.keys.get(token)

    def _token(self, request: Request, team_id: str, write: bool) -> str:
        header = request.headers.get("authorization")
        if header is None:
            if self.faults.on("auth-missing-key-allowed") and not write and team_id in self.default_keys:
                return self.default_keys[team_id]
            if self.faults.on("auth-missing-header-403"):  # FastAPI's HTTPBearer(auto_error=True)
                raise ApiError(403, "not_authenticated", "Not authenticated")
            raise ApiError(401, "authentication_required",
                           "Missing Authorization header; send 'Authorization: Bearer <key>'")
        if self.faults.on("auth-split-second-word"):
            return header.split(" ")[1]  # the bug: no scheme check, IndexError without a space
        parts = header.split()
        if len(parts) == 2 and parts[0].lower() == "basic" and self.faults.on("auth-basic-key-accepted"):
            try:  # the bug: the Stripe-style shim takes the user name of Basic credentials as the key
                return base64.b64decode(parts[1], validate=True).decode().partition(":")[0]
            except ValueError:  # binascii.Error and UnicodeDecodeError alike
                pass
        if len(parts) != 2 or parts[0].lower() != "bearer":
            if self.faults.on("auth-missing-header-403"):
                raise ApiError(403, "not_authenticated", "Invalid authentication credentials")
            raise ApiError(401, "invalid_api_key", "The Authorization header must be 'Bearer <key>'")
        return parts[1]

    def _rate_limit(self, request: Request, token: str) -> None:
        if self.limiter is None:
            return
        wait = self.limiter.hit(token)
        if self.rate_headers:
            request.scope[QUOTA_SCOPE_KEY] = self.limiter.left(token)
        if wait is None:
            return
        if self.faults.on("rate-limit-no-retry-after"):
            raise ApiError(429, "rate_limit_exceeded", "Too many requests")
        hint = self.mode.get("retry-after")
        limited = ApiError(429, "rate_limit_exceeded", "Too many requests",
                           headers={"Retry-After": str(wait)} if hint in ("both", "header") else None,
                           retry_after=wait if hint in ("both", "body") else None)
        if self.faults.on("rate-limit-after-handler"):
            request.scope[DEFERRED_LIMIT_KEY] = limited  # the bug: swapped in on the way out (context)
            return
        raise limited
