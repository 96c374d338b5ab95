"""Idempotency-Key on POST: the first answer is stored in the same transaction as its effect, and a
repeat with the same key and body gets it back (another body with that key → 409)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from fastapi import Depends, Request
from starlette.responses import Response

from .auth import Caller
from .context import Reference, Unit
from .errors import ApiError
from .storage import IdempotencyRecord


@dataclass(frozen=True)
class IdempotencyKey:
    team_id: str
    key: str
    fingerprint: str


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
            return IdempotencyKey("", key, hashlib.sha256(body).hexdigest())
        fingerprint = hashlib.sha256(f"{request.method} {request.url.path}\n".encode() + body).hexdigest()
        return IdempotencyKey(caller.team_id, key, fingerprint)

    return Depends(idempotency_key)


def replay(unit: Unit, key: IdempotencyKey | None) -> Response | None:
    """The stored answer to this key, inside the write transaction (so a concurrent twin waits for it)."""
    if key is None:
        return None
    record = unit.session.get(IdempotencyRecord, (key.team_id, key.key))
    if record is None:
        return None
    if record.fingerprint != key.fingerprint:
        raise ApiError(409, "idempotency_key_reused", "This Idempotency-Key was used with a different request",
                       param="Idempotency-Key")
    return Response(record.body.encode(), status_code=record.status, media_type=record.media_type)


def remember(unit: Unit, key: IdempotencyKey | None, response: Response) -> Response:
    if key is not None:
        unit.session.add(IdempotencyRecord(team_id=key.team_id, key=key.key, fingerprint=key.fingerprint,
                                           status=response.status_code, media_type=response.media_type,
                                           body=bytes(response.body).decode()))
    return response
