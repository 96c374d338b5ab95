"""Tickets — as far as cascade deletion and ticketCount need them: create, get, list, delete."""

import time
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from starlette.responses import Response

from . import idempotency, paging
from .auth import Caller
from .context import Reference, Unit
from .errors import UUID_RE, ApiError, not_found, parse_id
from .idempotency import IdempotencyKey
from .render import now_us
from .routing import route_kit
from .storage import Customer, Ticket
from .writes import find_customer


def router(ref: Reference) -> APIRouter:
    models = ref.models
    reader, writer, read_session, unit, idempotency_key, routes = route_kit(ref)
    Query_: Any = Annotated[models.ticket_query, Query()]  # noqa: N806 - a type built for this server
    CreateBody: Any = models.ticket_create  # noqa: N806

    @routes.get("/tickets")
    def list_route(query: Query_, caller: Caller = reader, session: Session = read_session) -> Response:
        return list_tickets(ref, session, caller, query)

    @routes.post("/tickets")
    def create_route(body: CreateBody, caller: Caller = writer, work: Unit = unit,
                     key: IdempotencyKey | None = idempotency_key) -> Response:
        return create_ticket(ref, work, caller, body, key)

    @routes.get("/tickets/{ticket_id}")
    def get_route(ticket_id: str, caller: Caller = reader, session: Session = read_session) -> Response:
        wanted = parse_id(ticket_id, "ticket")
        read_through = ref.faults.on("ticket-cache-survives-cascade")
        cached = ref.ticket_cache.get((caller.team_id, wanted)) if read_through else None
        if cached is not None:
            return ref.render.ok(cached)
        team = None if ref.faults.on("ticket-read-any-team") else caller.team_id  # the bug: no tenant condition
        row = _find(session, team, wanted)
        if row is None:
            raise not_found("ticket", "ticketId")
        ticket = ref.render.ticket(row)
        if read_through:  # evicted by the ticket DELETE route; the customer delete cascades in the database
            ref.ticket_cache[(caller.team_id, wanted)] = ticket
        return ref.render.ok(ticket)

    @routes.delete("/tickets/{ticket_id}")
    def delete_route(ticket_id: str, caller: Caller = writer, work: Unit = unit) -> Response:
        return delete_ticket(ref, work, caller, ticket_id)

    return routes


def _find(session: Session, team_id: str | None, ticket_id: str) -> Ticket | None:
    """A ticket by id, in `team_id` (None: any team — only a fault asks for that)."""
    query = select(Ticket).where(Ticket.id == ticket_id)
    if team_id is not None:
        query = query.where(Ticket.team_id == team_id)
    return session.scalars(query).first()


def _not_the_teams_customer(ref: Reference) -> ApiError:
    answer = ref.mode.get("ticket-bad-customer")
    if answer == "404":
        return not_found("customer", "customerId")
    return ApiError(int(answer), "parameter_invalid", "customerId is not a customer of this team", param="customerId")


def _new_ticket(caller: Caller, customer_id: str, values: dict[str, Any]) -> Ticket:
    stamp = now_us()
    return Ticket(id=str(uuid.uuid4()), team_id=caller.team_id, customer_id=customer_id, title=values["title"],
                  priority=values["priority"] or "normal", status="open", created_us=stamp, updated_us=stamp)


def _saved_first(ref: Reference, session: Session, row: Ticket) -> None:
    """The ticket-saved-before-team-check fault: the repository saves (and commits) the ticket before the
    service checks its customer; only the foreign key stands in the way of an unknown customer id."""
    session.add(row)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise _not_the_teams_customer(ref) from None
    session.commit()


TINYINT_MAX = 127  # the ticketcount-tinyint fault's column


def _plus_one(ref: Reference) -> Any:
    """ticket_count + 1 as the column keeps it (MySQL non-strict mode clamps a TINYINT to 127)."""
    if ref.faults.on("ticketcount-tinyint"):
        return func.min(Customer.ticket_count + 1, TINYINT_MAX)
    return Customer.ticket_count + 1


def _bumped_before_handler(ref: Reference, caller: Caller, raw_customer: str) -> bool:
    """The ticketcount-bumped-before-idempotency fault: a pre-handler step raises the customer's ticketCount in
    a transaction of its own, before the idempotency layer replays or refuses the request."""
    if not ref.faults.on("ticketcount-bumped-before-idempotency"):
        return False
    with ref.db.writer() as session:
        session.execute(update(Customer).where(
            Customer.id == raw_customer.lower(), Customer.team_id == caller.team_id, Customer.deleted.is_(False))
            .values(ticket_count=_plus_one(ref)))
        session.commit()
    return True


def create_ticket(ref: Reference, unit: Unit, caller: Caller, body: BaseModel, key: IdempotencyKey | None) -> Response:
    values = body.model_dump()
    raw_customer = values["customerId"]
    loaded_count = _count_loaded_outside(ref, caller, raw_customer)
    bumped = _bumped_before_handler(ref, caller, raw_customer)
    stored = idempotency.replay(unit, key)
    if stored is not None:
        return stored
    if not UUID_RE.fullmatch(raw_customer):
        raise _not_the_teams_customer(ref)
    customer_id = raw_customer.lower()
    session = unit.session
    saved_first = ref.faults.on("ticket-saved-before-team-check")
    if saved_first:
        row = _new_ticket(caller, customer_id, values)
        _saved_first(ref, session, row)
    team = None if ref.faults.on("ticket-any-customer") else caller.team_id
    if ref.faults.on("ticket-for-deleted-customer"):  # the bug: the soft-deleted flag is not looked at
        known = session.scalar(select(Customer.id).where(Customer.id == customer_id, Customer.team_id == team))
    else:
        known = find_customer(session, team, customer_id)
    if known is None:
        raise _not_the_teams_customer(ref)
    if not saved_first:
        row = _new_ticket(caller, customer_id, values)
        session.add(row)
    # the ticketcount-update-id-as-sent bug: the UPDATE binds the id as sent, not as the UUID type stores it
    counted = raw_customer if ref.faults.on("ticketcount-update-id-as-sent") else customer_id
    if loaded_count is not None:  # the ticketcount-read-modify-write bug: the count as loaded, plus one
        session.execute(update(Customer).where(Customer.id == counted).values(ticket_count=loaded_count + 1))
    elif not ref.faults.on("ticketcount-cached") and not bumped:
        session.execute(update(Customer).where(Customer.id == counted).values(ticket_count=_plus_one(ref)))
    session.flush()
    ref.read_cache.pop((caller.team_id, customer_id), None)
    ticket = ref.render.ticket(row)
    if ref.faults.on("ticket-cache-survives-cascade"):  # written through
        ref.ticket_cache[(caller.team_id, row.id)] = ticket
    return idempotency.remember(unit, key, ref.render.ok(ticket, 201))


LOAD_TO_SAVE_SECONDS = 0.1  # the ticketcount-read-modify-write fault's window between load and save


def _count_loaded_outside(ref: Reference, caller: Caller, raw_customer: str) -> int | None:
    """The ticketcount-read-modify-write fault: the customer's ticketCount as a repository loads it before
    the write transaction starts (no lock), then the time the handler spends before saving it. None: no fault
    or no such customer."""
    if not ref.faults.on("ticketcount-read-modify-write"):
        return None
    with ref.db.reader() as session:
        loaded = session.scalar(select(Customer.ticket_count).where(
            Customer.id == raw_customer.lower(), Customer.team_id == caller.team_id, Customer.deleted.is_(False)))
    time.sleep(LOAD_TO_SAVE_SECONDS)
    return loaded


def list_tickets(ref: Reference, session: Session, caller: Caller, query: Any) -> Response:
    page = paging.page_of(ref, query)
    conditions = [Ticket.team_id == caller.team_id]
    if query.customerId is not None:
        by_customer = Ticket.customer_id == query.customerId.lower()
        # the ticket-list-customer-any-team bug: the customer filter replaces the team condition
        conditions = [by_customer] if ref.faults.on("ticket-list-customer-any-team") else [*conditions, by_customer]
    total = session.scalar(select(func.count()).select_from(Ticket).where(*conditions)) or 0
    window = paging.window(page, total)
    order = ref.mode.get("list-order")
    ordering = (Ticket.seq.desc(),) if order == "newest-first" else (
        (Ticket.title, Ticket.seq) if order == "by-name" else (Ticket.seq.asc(),))
    rows = [] if window is None else session.scalars(
        select(Ticket).where(*conditions).order_by(*ordering).offset(window[0]).limit(window[1])).all()
    return ref.render.ok([ref.render.ticket(row) for row in rows], pagination=page.pagination(ref, total))


def delete_ticket(ref: Reference, unit: Unit, caller: Caller, raw_id: str) -> Response:
    ticket_id = parse_id(raw_id, "ticket")
    session = unit.session
    row = _find(session, caller.team_id, ticket_id)
    if row is None:
        raise not_found("ticket", "ticketId")
    if ref.mode.takes("ticketcount-on-delete", "lowered"):  # a live count rather than "tickets ever opened"
        session.execute(update(Customer).where(Customer.id == row.customer_id, Customer.ticket_count > 0)
                        .values(ticket_count=Customer.ticket_count - 1))
    session.delete(row)
    session.flush()
    ref.read_cache.pop((caller.team_id, row.customer_id), None)
    ref.ticket_cache.pop((caller.team_id, ticket_id), None)
    return ref.render.deleted("ticket-delete-answer", ticket_id)
