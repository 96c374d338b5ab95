"""What every router of the reference starts from: the dependencies its routes take (the caller, by read or
write access; a read session or a write unit of work; the request's Idempotency-Key) and an APIRouter
whose routes read bodies strictly."""

from typing import Any, NamedTuple

from fastapi import APIRouter, Depends

from . import idempotency
from .context import Reference


class RouteKit(NamedTuple):
    reader: Any  # Depends: the Caller, any key of the team
    writer: Any  # Depends: the Caller, a key that may write
    read_session: Any  # Depends: a read-only Session
    unit: Any  # Depends: a Unit, committed before the answer is sent
    idempotency_key: Any  # Depends: the request's IdempotencyKey, or None
    routes: APIRouter


def route_kit(ref: Reference) -> RouteKit:
    """The dependencies and the empty router of one server's routes."""
    writer = Depends(ref.auth.writer)
    return RouteKit(Depends(ref.auth.reader), writer, Depends(ref.read_session), Depends(ref.unit, scope="function"),
                    idempotency.dependency(ref, writer), APIRouter(route_class=ref.route_class()))
