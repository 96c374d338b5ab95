"""Customers: the routes, and list, create, get and delete behind them (update: :mod:`.customer_update`)."""

import time
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request
from pydantic import BaseModel, TypeAdapter, ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from starlette.responses import Response

from . import idempotency
from .auth import Caller
from .context import Reference, Unit
from .customer_update import update_customer
from .delivery import Event
from .errors import ApiError, not_found
from .idempotency import IdempotencyKey
from .listing import list_customers
from .render import JsonResponse, now_us
from .routing import route_kit
from .storage import Customer, Ticket
from .writes import (
    canonical_email_taken,
    defaults,
    duplicate_email,
    email_key,
    find_customer,
    parse_customer_id,
    stored_custom_fields,
    stored_notes,
    stored_tags,
    stored_text,
)


def router(ref: Reference) -> APIRouter:
    """The customer routes of one server (its body and query models come from its mode)."""
    models = ref.models
    reader, writer, read_session, unit, idempotency_key, routes = route_kit(ref)
    Query_: Any = Annotated[models.customer_query, Query()]  # noqa: N806 - a type built for this server
    CreateBody: Any = models.customer_create  # noqa: N806

    @routes.get("/customers")
    def list_route(query: Query_, request: Request, caller: Caller = reader,
                   session: Session = read_session) -> Response:
        if ref.faults.on("search-repeated-param-500"):  # Express's qs: a repeated parameter is an array
            searched = request.query_params.getlist("search")
            term: Any = searched if len(searched) > 1 else query.search
            if term is not None:
                term.lower()  # the bug: `search.toLowerCase()` on an array (AttributeError)
        return list_customers(ref, session, caller, query)

    if ref.faults.on("collection-delete-bulk"):  # the bug: the router generated a bulk destroy on the collection
        @routes.delete("/customers")
        def bulk_delete_route(caller: Caller = writer, work: Unit = unit) -> Response:
            rows = work.session.scalars(select(Customer).where(
                Customer.team_id == caller.team_id, Customer.deleted.is_(False))).all()
            for row in rows:
                work.session.delete(row)  # its tickets go by ON DELETE CASCADE
            work.session.flush()
            return ref.render.ok({"deleted": len(rows)})

    # the options-served-by-create bug: OPTIONS declared on the create route for CORS, never told apart
    create_methods = ["POST", "OPTIONS"] if ref.faults.on("options-served-by-create") else ["POST"]

    @routes.api_route("/customers", methods=create_methods)
    def create_route(body: CreateBody, caller: Caller = writer, work: Unit = unit,
                     key: IdempotencyKey | None = idempotency_key) -> Response:
        return create_customer(ref, work, caller, body, key)

    if ref.faults.on("post-on-item-creates"):  # the bug: a route /customers/{id?} whose id is optional
        @routes.post("/customers/{customer_id}")
        def create_on_item_route(customer_id: str, body: CreateBody, caller: Caller = writer, work: Unit = unit,
                                 key: IdempotencyKey | None = idempotency_key) -> Response:
            return create_customer(ref, work, caller, body, key)

    @routes.get("/customers/{customer_id}")
    def get_route(customer_id: str, caller: Caller = reader, session: Session = read_session) -> Response:
        return get_customer(ref, session, caller, customer_id)

    # PATCH bodies are validated in the handler (see customer_update), so FastAPI passes the JSON as is
    patch_methods = ["PATCH", "PUT"] if ref.faults.on("unknown-method-200") else ["PATCH"]

    @routes.api_route("/customers/{customer_id}", methods=patch_methods)
    def update_route(customer_id: str, body: Annotated[Any, Body()], caller: Caller = writer,
                     work: Unit = unit) -> Response:
        return update_customer(ref, work, caller, customer_id, body)

    @routes.delete("/customers/{customer_id}")
    def delete_route(customer_id: str, caller: Caller = writer, work: Unit = unit) -> Response:
        return delete_customer(ref, work, caller, customer_id)

    return routes



# ---------------------------------------------------------------------------------------- create


def create_customer(ref: Reference, unit: Unit, caller: Caller, body: BaseModel,
                    key: IdempotencyKey | None) -> Response:
    stored = idempotency.replay(unit, key)
    if stored is not None:
        return stored
    faults, values = ref.faults, body.model_dump()
    email = values["email"].lower() if faults.on("email-lowercased") else values["email"]
    if faults.on("email-ascii-500"):
        email.encode("ascii")  # the bug: an ASCII-only column, and nobody catches the UnicodeEncodeError
    name = stored_text(ref, values["name"])
    if faults.on("name-truncated-100"):
        name = name[:100]
    given = {key: value for key, value in values.items() if value is not None}
    state = defaults(ref) | given  # absent and null (where the mode accepts it) both take the default
    tags_apart = faults.on("create-tags-second-transaction")
    stamp = now_us()
    row = Customer(
        id=str(uuid.uuid4()), team_id=caller.team_id, name=name, name_lower=name.lower(), email=email,
        email_lower=email_key(ref, email), status=state["status"], sentiment=state["sentiment"],
        tags=[] if tags_apart else stored_tags(ref, state["tags"]),
        notes=stored_notes(ref, state["notes"]),
        custom_fields=stored_custom_fields(ref, state["customFields"]),
        ticket_count=0, created_us=stamp, updated_us=stamp, deleted=False,
    )
    status = 200 if faults.on("create-returns-200") else 201
    if faults.on("email-unique-race") or faults.on("duplicate-email-200"):
        status = _check_then_insert(ref, caller, row, status)
    if faults.on("rejected-duplicate-emits-created"):  # the bug: published before the INSERT, outside the transaction
        event = ref.render.event(caller.team_id, "customer.created", ref.render.customer(row))
        ref.dispatcher.publish([Event(caller.team_id, "customer.created", event)])
    if canonical_email_taken(ref, unit.session, caller.team_id, email):
        raise duplicate_email(ref)
    unit.session.add(row)
    try:
        unit.session.flush()
    except IntegrityError:
        raise duplicate_email(ref) from None
    if tags_apart:
        _tags_in_second_step(ref, unit, row, state["tags"])
    shown = _newest_of_the_team(ref, unit, caller.team_id) if faults.on("create-rereads-latest-row") else None
    customer = ref.render.customer(shown or row)
    if faults.on("created-at-rounded-on-store"):  # DATETIME(0) columns; the answer is the in-memory object
        _store_whole_seconds(unit.session, row)
    if faults.on("search-index-stale-on-update"):  # the search index is written here and nowhere else
        ref.create_index[row.id] = (row.name_lower, row.email_lower)
    if not faults.on("rejected-duplicate-emits-created"):
        unit.publish(caller.team_id, "customer.created", customer)
    answer = {"id": row.id} if faults.on("create-returns-id-only") else customer
    return idempotency.remember(unit, key, ref.render.ok(answer, status))


def _tags_in_second_step(ref: Reference, unit: Unit, row: Customer, tags: list[Any]) -> None:
    """The create-tags-second-transaction fault: the customer's INSERT is committed on its own, then the tags
    are checked and written by the tag table's step — too late to take the customer back."""
    unit.session.commit()
    try:
        checked = TypeAdapter(ref.models.create_tags).validate_python(tags, strict=True)
    except ValidationError as exc:
        problem = exc.errors(include_url=False)[0]
        where = ".".join(str(part) for part in ("tags", *problem["loc"]))
        raise ref.errors.invalid(where, f"{where}: {problem['msg']}") from None
    row.tags = stored_tags(ref, checked)
    unit.session.flush()


LATEST_ROW_WINDOW_SECONDS = 0.1  # create-rereads-latest-row: the post-save hooks between the INSERT and the read


def _newest_of_the_team(ref: Reference, unit: Unit, team_id: str) -> Customer | None:
    """The create-rereads-latest-row fault: the INSERT is autocommitted, and after the post-save hooks the new
    customer is read back as the team's newest row (Django's `.latest("id")`) instead of by its own key."""
    unit.session.commit()
    time.sleep(LATEST_ROW_WINDOW_SECONDS)
    with ref.db.reader() as session:
        return session.scalars(select(Customer).where(Customer.team_id == team_id, Customer.deleted.is_(False))
                               .order_by(Customer.seq.desc()).limit(1)).first()


def _store_whole_seconds(session: Session, row: Customer) -> None:
    """What the database kept of the new row's timestamps: MySQL rounds fractions to the nearest second."""
    kept = (row.created_us + 500_000) // 1_000_000 * 1_000_000
    table = Customer.__table__
    session.execute(table.update().where(table.c.seq == row.seq).values(created_us=kept, updated_us=kept))


def _check_then_insert(ref: Reference, caller: Caller, row: Customer, status: int) -> int:
    """The uniqueness faults' way: look outside the write transaction, then insert whatever was seen."""
    with ref.db.reader() as session:
        taken = session.scalar(select(Customer.id).where(
            Customer.team_id == caller.team_id, Customer.email_lower == row.email_lower,
            Customer.deleted.is_(False)).limit(1)) is not None
    if taken and not ref.faults.on("duplicate-email-200"):
        raise duplicate_email(ref)
    # The window in which a concurrent create sees the address free as well: wide enough that the suite's
    # simultaneous creates all land in it on a loaded machine (at 50 ms, one run in a few missed it).
    time.sleep(0.5 if ref.faults.on("email-unique-race") else 0.05)
    return 200 if taken else status


# ------------------------------------------------------------------------------------ get, delete


MEMCACHED_KEY_BYTES = 250  # the get-cache-key-too-long-500 fault's cache: memcached's key limit


class CacheKeyError(Exception):
    """What pymemcache raises for a key memcached cannot take (MemcacheIllegalInputError)."""


def _memcached_key(key: str) -> str:
    encoded = key.encode("utf-8", "surrogatepass")
    if len(encoded) > MEMCACHED_KEY_BYTES or any(byte <= 32 or byte == 127 for byte in encoded):
        raise CacheKeyError(f"Key is too long or contains control characters: {key[:60]!r}")
    return key


def get_customer(ref: Reference, session: Session, caller: Caller, raw_id: str) -> Response:
    if ref.faults.on("get-cache-key-too-long-500"):  # the bug: the cache is asked before the id is validated
        _memcached_key(f"customer:{caller.team_id}:{raw_id}")  # (a miss: the read goes on below)
    customer_id = parse_customer_id(ref, raw_id)
    if ref.faults.on("get-stale-cache") and customer_id in ref.stale_cache:
        return ref.render.ok(ref.stale_cache[customer_id])
    read_through = ref.faults.on("get-cache-survives-delete")
    cached = ref.read_cache.get((caller.team_id, customer_id)) if read_through else None
    if cached is not None:
        return ref.render.ok(cached)
    team = None if ref.faults.on("cross-team-read-by-id") else caller.team_id
    row = find_customer(session, team, customer_id)
    if row is None:
        if ref.faults.on("get-unknown-200-null"):
            return ref.render.ok(None)
        raise not_found("customer", "customerId")
    customer = ref.render.customer(row)
    if read_through:  # the write paths evict it — all but delete
        ref.read_cache[(caller.team_id, customer_id)] = customer
    if ref.faults.on("get-stale-cache"):
        ref.stale_cache[customer_id] = customer
    if ref.faults.on("get-bare-customer"):
        return JsonResponse(customer)
    return ref.render.ok(customer)


CASCADE_BATCH = 50  # the cascade-one-batch-of-50 fault's batch size
SOFT_DELETES = ("delete-keeps-email-reserved", "soft-delete-still-listed", "count-includes-soft-deleted",
                "ticket-for-deleted-customer", "soft-delete-patch-by-pk")


def delete_customer(ref: Reference, unit: Unit, caller: Caller, raw_id: str) -> Response:
    customer_id = parse_customer_id(ref, raw_id)
    session, faults = unit.session, ref.faults
    row = find_customer(session, caller.team_id, customer_id)
    if row is None:
        if faults.on("delete-repeat-answers-2xx"):  # the bug: the DELETE's rowcount is never looked at
            return ref.render.deleted("delete-answer", customer_id)
        raise not_found("customer", "customerId")
    if faults.on("delete-restrict-with-tickets") and session.scalar(
            select(Ticket.id).where(Ticket.customer_id == customer_id).limit(1)) is not None:
        # the bug: the foreign key is ON DELETE RESTRICT, and the IntegrityError is answered as a conflict
        raise ApiError(409, "resource_in_use", "The customer is still referenced by other records")
    customer = ref.render.customer(row)
    if faults.on("search-total-counts-deleted"):  # the delete never reaches the search index
        ref.search_tombstones.append((row.team_id, row.name_lower, row.email_lower, row.status, row.sentiment))
    if any(faults.on(name) for name in SOFT_DELETES):
        row.deleted = True  # a soft delete; the tickets go as with a real one
        if not faults.on("delete-no-cascade"):
            session.execute(Ticket.__table__.delete().where(Ticket.customer_id == customer_id))
    elif faults.on("cascade-one-batch-of-50"):  # the schema cascades nothing: the handler does, in batches
        batch = select(Ticket.id).where(Ticket.customer_id == customer_id).order_by(Ticket.seq).limit(CASCADE_BATCH)
        session.execute(Ticket.__table__.delete().where(Ticket.id.in_(batch)))  # the bug: one pass, no loop
        session.delete(row)
    else:
        session.delete(row)  # its tickets go by ON DELETE CASCADE
    session.flush()
    ref.stale_cache.pop(customer_id, None)
    if ref.mode.takes("customer-deleted-event", "sent"):
        unit.publish(caller.team_id, "customer.deleted", customer)
    if faults.on("delete-200-empty-body"):
        return Response(status_code=200)
    return ref.render.deleted("delete-answer", customer_id, customer)
