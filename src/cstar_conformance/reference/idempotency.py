"""Idempotency-Key on POST: the first answer is stored in the same transaction as its effect, and a
repeat with the same key and body gets it back (another body with that key → 409)."""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass, field, replace
from typing import Any

from fastapi import Depends, Request
from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .auth import Caller
from .context import Reference, Unit, replaying
from .errors import ApiError
from .faults import FaultSet
from .storage import IdempotencyRecord

# The idempotency-check-outside-lock fault: the time between its look-up and the handler's write, widened so
# that two requests sent together reliably both miss the look-up.
UNLOCKED_WINDOW_SECONDS = 0.2


@dataclass(frozen=True)
class IdempotencyKey:
    team_id: str
    key: str
    fingerprint: str
    faults: FaultSet = field(default_factory=FaultSet, compare=False)
    prechecked: bool = False  # looked up before the transaction (only under a fault)
    early: Response | None = field(default=None, compare=False)  # the answer that look-up found


def dependency(ref: Reference, caller_dependency: Any) -> Any:
    """A route dependency giving the request's IdempotencyKey, or None (no header, or the fault)."""

    async def idempotency_key(request: Request, caller: Caller = caller_dependency) -> IdempotencyKey | None:
        key = request.headers.get("idempotency-key")
        if key is None or ref.faults.on("idempotency-ignored"):
            return None
        if not 1 <= len(key) <= 255:
            raise ref.errors.invalid("Idempotency-Key", "Idempotency-Key must be 1 to 255 characters")
        body = await request.body()
        if ref.faults.on("idempotency-key-global"):  # the bug: one store for every team, keyed by key and body
            return IdempotencyKey("", key, hashlib.sha256(body).hexdigest(), ref.faults)
        fingerprint = request_fingerprint(request.method, request.url.path, body)
        found = IdempotencyKey(caller.team_id, key, fingerprint, ref.faults)
        if ref.faults.on("idempotency-check-outside-lock"):
            return await _check_outside_the_transaction(ref, found)
        return found

    return Depends(idempotency_key)


async def _check_outside_the_transaction(ref: Reference, key: IdempotencyKey) -> IdempotencyKey:
    """The idempotency-check-outside-lock fault: a cache GET before the handler, nothing held until its SET."""
    with ref.db.reader() as session:
        record = session.get(IdempotencyRecord, (key.team_id, key.key))
        if record is not None:
            if record.fingerprint != key.fingerprint:
                raise _reused()
            return replace(key, prechecked=True, early=_stored_answer(record, key))
    await asyncio.sleep(UNLOCKED_WINDOW_SECONDS)
    return replace(key, prechecked=True)


def request_fingerprint(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(f"{method} {path}\n".encode() + body).hexdigest()


def replay_unauthenticated(ref: Reference, team_id: str, key: str, fingerprint: str) -> Response | None:
    """The idempotency-replay-before-auth fault: the stored answer, looked up before anyone checked the key."""
    with ref.db.reader() as session:
        record = session.get(IdempotencyRecord, (team_id, key))
        if record is None or record.fingerprint != fingerprint:
            return None  # a new request, or a conflict: the app (and its authentication) takes it from here
        return _stored_answer(record, IdempotencyKey(team_id, key, fingerprint, ref.faults))


def _reused() -> ApiError:
    return ApiError(409, "idempotency_key_reused", "This Idempotency-Key was used with a different request",
                    param="Idempotency-Key")


def _stored_answer(record: IdempotencyRecord, key: IdempotencyKey) -> Response:
    media_type = record.media_type
    if key.faults.on("idempotency-replay-text-html"):  # the bug: the headers were not stored
        media_type = "text/html; charset=utf-8"
    status = record.status
    if key.faults.on("idempotency-replay-200"):  # the bug: the status column was never written
        status = 200
    return Response(record.body.encode(), status_code=status, media_type=media_type)


def replay(unit: Unit, key: IdempotencyKey | None) -> Response | None:
    """The stored answer to this key, inside the write transaction (so a concurrent twin waits for it)."""
    if key is None:
        return None
    if key.prechecked:
        return key.early  # the bug: not looked at again under the transaction's lock
    record = unit.session.get(IdempotencyRecord, (key.team_id, key.key))
    if record is None:
        return None
    if record.fingerprint != key.fingerprint:
        if key.faults.on("idempotency-conflict-after-commit"):
            return None  # the bug: compared only when the answer is stored (see remember)
        raise _reused()
    return _stored_answer(record, key)


def remember(unit: Unit, key: IdempotencyKey | None, response: Response) -> Response:
    if key is None:
        return response
    record = IdempotencyRecord(team_id=key.team_id, key=key.key, fingerprint=key.fingerprint,
                               status=response.status_code, media_type=response.media_type,
                               body=bytes(response.body).decode())
    if key.prechecked:
        unit.session.merge(record)  # the bug: SET rather than SETNX, the last writer wins
    elif key.faults.on("idempotency-conflict-after-commit") and unit.session.get(
            IdempotencyRecord, (key.team_id, key.key)) is not None:
        unit.session.commit()  # the bug: the handler's work is committed before the key is checked
        raise _reused()
    else:
        unit.session.add(record)
    return response


async def _whole_body(receive: Receive) -> tuple[bytes, list[Message]]:
    messages = [await receive()]
    while messages[-1]["type"] == "http.request" and messages[-1].get("more_body", False):
        messages.append(await receive())
    return b"".join(m.get("body", b"") for m in messages if m["type"] == "http.request"), messages


class IdempotencyBeforeAuth:
    """The idempotency-replay-before-auth fault: the idempotency middleware runs before authentication, keyed by
    the team of the path and the Idempotency-Key header."""

    def __init__(self, app: ASGIApp, ref: Reference) -> None:
        self.app, self.ref = app, ref

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = Headers(scope=scope).get("idempotency-key") if scope["type"] == "http" else None
        segments = scope.get("path", "").split("/")
        if key is None or scope["method"] != "POST" or segments[1:4] != ["api", "v1", "teams"] or len(segments) < 6:
            await self.app(scope, receive, send)
            return
        body, messages = await _whole_body(receive)
        fingerprint = request_fingerprint("POST", scope["path"], body)
        stored = replay_unauthenticated(self.ref, segments[4], key, fingerprint)
        if stored is not None:
            await stored(scope, receive, send)
            return
        await self.app(scope, replaying(messages, receive), send)
