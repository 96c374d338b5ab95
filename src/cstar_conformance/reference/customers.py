"""Customers: the routes, and list, create, get and delete behind them (update: :mod:`.customer_update`)."""

import json
import re
import time
import unicodedata
import uuid
from typing import Annotated, Any
from urllib.parse import unquote_plus

from fastapi import APIRouter, Body, Query
from pydantic import BaseModel
from sqlalchemy import Text, and_, cast, false, func, literal_column, or_, select, text, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from starlette.responses import Response

from . import idempotency, paging
from .auth import Caller
from .context import Reference, Unit
from .customer_update import update_customer
from .delivery import Event
from .errors import not_found
from .idempotency import IdempotencyKey
from .models import SENTIMENTS, STATUSES
from .render import JsonResponse, now_us
from .routing import route_kit
from .storage import Customer, Ticket
from .writes import (
    StorageError,
    canonical_email_taken,
    defaults,
    duplicate_email,
    email_key,
    find_customer,
    parse_customer_id,
    stored_custom_fields,
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
    def list_route(query: Query_, caller: Caller = reader, session: Session = read_session) -> Response:
        return list_customers(ref, session, caller, query)

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


# ------------------------------------------------------------------------------------------ list


def list_customers(ref: Reference, session: Session, caller: Caller, query: Any) -> Response:
    faults = ref.faults
    cache_key = f"{caller.team_id}?{sorted(query.model_dump().items())}"
    cached = ref.list_cache.get(cache_key) if faults.on("list-cache-stale") else None
    if cached is not None and time.monotonic() - cached[0] < LIST_CACHE_SECONDS:
        return cached[1]
    page = paging.page_of(ref, query)
    c = Customer
    team_id = _current_tenant(ref, caller.team_id) if faults.on("list-tenant-race") else caller.team_id
    team, live = c.team_id == team_id, c.deleted.is_(False)
    by_name = {name: _enum_condition(ref, name, getattr(query, name))
               for name in ("status", "sentiment") if getattr(query, name) is not None}
    enums = list(by_name.values())
    filters: list[Any] = [or_(*enums)] if faults.on("filter-or-instead-of-and") and enums else list(enums)
    if _impossible_filter(ref, query):
        filters.append(false())  # the `invalid-filter=empty` alternative
    if query.tag is not None and ref.mode.takes("tag-filter", "supported"):
        filters.append(text("EXISTS (SELECT 1 FROM json_each(customers.tags) WHERE json_each.value = :tag)")
                       .bindparams(tag=query.tag))
    where, counted = _where(ref, query, team, live, filters, bool(enums))
    total = paging.customer_total(ref, session, counted, team_id, query)
    window = paging.customer_window(ref, page, total)
    in_python = by_name.get("sentiment") if faults.on("filter-sentiment-after-limit") else None
    rows = [] if window is None else paging.customer_rows(
        ref, session, [w for w in where if w is not in_python], _order(ref), page, window)
    if in_python is not None:  # the bug: a hybrid property the ORM never put in the SQL, checked after LIMIT
        rows = [row for row in rows if row.sentiment == query.sentiment]
    flat = _flattened_custom_fields(session, rows) if faults.on("list-customfields-json-group") else {}
    media_type = "text/plain" if faults.on("list-text-plain") else None
    answer = ref.render.ok([_listed(ref, row, flat.get(row.id)) for row in rows],
                           pagination=page.pagination(ref, total), media_type=media_type)
    if faults.on("list-cache-stale"):
        ref.list_cache[cache_key] = (time.monotonic(), answer)
    return answer


LIST_CACHE_SECONDS = 30.0
TENANT_RACE_WINDOW_S = 0.1
ADDRESS_LIKE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def _current_tenant(ref: Reference, team_id: str) -> str:
    """The list-tenant-race fault: the tenant is set in a process-wide slot (a module global, not a
    contextvar) by the request's middleware and read back by the repository after the work in between."""
    ref.current_tenant[:] = [team_id]
    time.sleep(TENANT_RACE_WINDOW_S)
    return ref.current_tenant[0]


def _where(ref: Reference, query: Any, team: Any, live: Any, filters: list[Any],
           enum_filtered: bool) -> tuple[list[Any], list[Any]]:
    """(the list's conditions, the count's) — and the ways the faults get the team, the deleted flag or
    the precedence of the search wrong."""
    faults, c = ref.faults, Customer
    if query.search and enum_filtered and faults.on("filter-search-precedence"):
        needle = query.search.lower()  # the bug: "… AND name LIKE ? OR email LIKE ?" without parentheses
        where = [or_(and_(team, live, *filters, func.instr(c.name_lower, needle) > 0),
                     func.instr(c.email_lower, needle) > 0)]
        return where, where
    conditions = list(filters)
    if query.search:
        conditions.append(_search_condition(ref, query.search))
    leaks = (query.search and faults.on("list-leaks-other-team")) or (
        enum_filtered and not query.search and faults.on("filter-drops-team")) or (
        query.tag is not None and ref.mode.takes("tag-filter", "supported") and faults.on("tag-filter-any-team"))
    tenant = [] if leaks else [team]
    listed = [] if faults.on("soft-delete-still-listed") else [live]
    where = [*listed, *conditions, *tenant]
    if faults.on("search-email-lookup-any-team") and query.search and ADDRESS_LIKE.fullmatch(query.search):
        by_address = and_(live, *filters, c.email_lower == query.search.lower())  # the bug: no team condition
        where = [or_(and_(*where), by_address)]
        return where, where
    if faults.on("total-before-filters"):
        return where, [team]
    if faults.on("count-without-team"):
        return where, [*listed, *conditions]
    if faults.on("count-includes-soft-deleted"):
        return where, [*conditions, *tenant]
    return where, where


def _enum_condition(ref: Reference, name: str, value: str) -> Any:
    column = getattr(Customer, name)
    if ref.faults.on("filter-enum-contains"):  # the generic filter helper's `LIKE '%value%'`
        return func.instr(column, value) > 0
    if ref.faults.on("filter-case-insensitive"):  # a *_ci collation
        return func.lower(column) == value.lower()
    return column == value


def _impossible_filter(ref: Reference, query: Any) -> bool:
    def known(value: str, allowed: tuple[str, ...]) -> bool:
        return (value.lower() if ref.faults.on("filter-case-insensitive") else value) in allowed
    return (query.status is not None and not known(query.status, STATUSES)) or (
        query.sentiment is not None and not known(query.sentiment, SENTIMENTS))


def _listed(ref: Reference, row: Customer, custom_fields: dict[str, Any] | None = None) -> dict[str, Any]:
    faults, cache_key = ref.faults, (row.id, row.updated_us)
    if faults.on("list-row-cache-ticketcount") and cache_key in ref.row_cache:
        return dict(ref.row_cache[cache_key])  # the bug: keyed by updated_at, which a new ticket leaves alone
    customer = ref.render.customer(row)
    if faults.on("list-ascii-folded"):  # the list's copy comes from an ASCII-folding search index
        customer["name"] = unicodedata.normalize("NFKD", row.name).encode("ascii", "ignore").decode()
    if faults.on("list-tags-sorted"):  # a join table aggregated without ORDER BY position
        customer["tags"] = sorted(customer["tags"])
    if custom_fields is not None:
        customer["customFields"] = custom_fields
    if faults.on("list-timestamps-local-zone"):  # wall time of a '+01:00' DB session, labelled UTC
        customer["createdAt"] = ref.render.timestamp(row.created_us + LIST_SESSION_OFFSET_US)
        customer["updatedAt"] = ref.render.timestamp(row.updated_us + LIST_SESSION_OFFSET_US)
    if faults.on("list-row-cache-ticketcount"):
        ref.row_cache[cache_key] = dict(customer)
    return customer


LIST_SESSION_OFFSET_US = 3_600_000_000


def _flattened_custom_fields(session: Session, rows: list[Customer]) -> dict[str, dict[str, Any]]:
    """The list-customfields-json-group fault: customFields rebuilt in SQL (SQLite gives true/false as 1/0)."""
    if not rows:
        return {}
    rebuilt = literal_column("(SELECT json_group_object(key, value) FROM json_each(customers.custom_fields))")
    found = session.execute(select(Customer.id, rebuilt).where(Customer.id.in_([row.id for row in rows])))
    return {customer_id: json.loads(flat) for customer_id, flat in found}


def _like_escaped(term: str, specials: str = "\\%_") -> str:
    return "".join("\\" + ch if ch in specials else ch for ch in term)


def _search_condition(ref: Reference, search: str) -> Any:
    """Name or email contains the term, in any letter case — and the ways real search code gets it wrong."""
    faults, c = ref.faults, Customer
    needle = search.lower()
    if faults.on("search-plus-as-space"):  # the decoded term goes through unquote_plus once more
        needle = unquote_plus(needle)
    if faults.on("search-accent-folded-term"):  # the query analyzer folds accents, the indexed columns do not
        needle = "".join(ch for ch in unicodedata.normalize("NFKD", needle) if not unicodedata.combining(ch))
    if faults.on("search-short-term-ignored") and len(needle) < TRIGRAM:
        return true()  # the bug: no trigrams, so no condition at all
    if faults.on("search-words-anded") and len(needle.split()) > 1:  # a full-text query parser, operator AND
        return and_(*[or_(func.instr(c.name_lower, word) > 0, func.instr(c.email_lower, word) > 0)
                      for word in needle.split()])
    if faults.on("search-nul-500") and "\x00" in search:  # PostgreSQL text
        raise StorageError('invalid byte sequence for encoding "UTF8": 0x00')
    if faults.on("search-sql-interpolated"):  # the bug: the term is part of the SQL text
        return text(f"(instr(customers.name_lower, '{needle}') > 0 OR instr(customers.email_lower, '{needle}') > 0)")
    if faults.on("search-index-stale-on-update"):  # the index holds what each customer was created with
        return c.id.in_([cid for cid, (name, email) in ref.create_index.items() if needle in name or needle in email])
    matches: list[Any]
    if faults.on("search-like-wildcards"):  # LIKE without ESCAPE
        matches = [column.like(f"%{needle}%") for column in (c.name_lower, c.email_lower)]
    elif faults.on("search-wildcard-star"):  # a query-string syntax: * is a wildcard
        pattern = f"%{_like_escaped(needle).replace('*', '%')}%"
        matches = [column.like(pattern, escape="\\") for column in (c.name_lower, c.email_lower)]
    elif faults.on("search-backslash-escapes"):  # backslash is LIKE's escape, the term's own are not doubled
        pattern = f"%{_like_escaped(needle, '%_')}%"
        matches = [column.like(pattern, escape="\\") for column in (c.name_lower, c.email_lower)]
    elif faults.on("search-case-sensitive"):
        matches = [func.instr(c.name, search) > 0, func.instr(c.email, search) > 0]
    elif faults.on("search-lower-ascii-only"):  # SQL lower(): ASCII letters only
        matches = [func.instr(func.lower(column), func.lower(search)) > 0 for column in (c.name, c.email)]
    elif faults.on("search-email-as-typed"):
        matches = [func.instr(c.name_lower, needle) > 0, func.instr(c.email, needle) > 0]
    else:
        matches = [func.instr(c.name_lower, needle) > 0, func.instr(c.email_lower, needle) > 0]
    if faults.on("search-name-only"):
        matches = matches[:1]
    if faults.on("search-all-text-columns"):  # a full-text index over every text column
        matches += [func.instr(func.lower(c.notes), needle) > 0,
                    func.instr(func.lower(cast(c.tags, Text)), needle) > 0]
    condition = or_(*matches)
    if faults.on("search-index-lag"):  # the index has not seen the last seconds' writes yet
        condition = and_(condition, c.created_us <= now_us() - SEARCH_INDEX_LAG_US)
    return condition


SEARCH_INDEX_LAG_US = 5_000_000
TRIGRAM = 3


def _order(ref: Reference) -> tuple[Any, ...]:
    if ref.faults.on("order-without-tiebreaker"):  # equal names in whatever order the plan gives
        return Customer.name_lower.asc(), func.random()
    order = ref.mode.get("list-order")
    if order == "newest-first":
        return (Customer.seq.desc(),)
    if order == "by-name":
        return Customer.name_lower.asc(), Customer.seq.asc()
    return (Customer.seq.asc(),)


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
    notes = state["notes"]
    stamp = now_us()
    row = Customer(
        id=str(uuid.uuid4()), team_id=caller.team_id, name=name, name_lower=name.lower(), email=email,
        email_lower=email_key(ref, email), status=state["status"], sentiment=state["sentiment"],
        tags=stored_tags(ref, state["tags"]),
        notes=stored_text(ref, notes) if notes is not None else None,
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
    customer = ref.render.customer(row)
    if faults.on("created-at-rounded-on-store"):  # DATETIME(0) columns; the answer is the in-memory object
        _store_whole_seconds(unit.session, row)
    if faults.on("search-index-stale-on-update"):  # the search index is written here and nowhere else
        ref.create_index[row.id] = (row.name_lower, row.email_lower)
    if not faults.on("rejected-duplicate-emits-created"):
        unit.publish(caller.team_id, "customer.created", customer)
    answer = {"id": row.id} if faults.on("create-returns-id-only") else customer
    return idempotency.remember(unit, key, ref.render.ok(answer, status))


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


def get_customer(ref: Reference, session: Session, caller: Caller, raw_id: str) -> Response:
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
                "ticket-for-deleted-customer")


def delete_customer(ref: Reference, unit: Unit, caller: Caller, raw_id: str) -> Response:
    customer_id = parse_customer_id(ref, raw_id)
    session, faults = unit.session, ref.faults
    row = find_customer(session, caller.team_id, customer_id)
    if row is None:
        if faults.on("delete-repeat-answers-2xx"):  # the bug: the DELETE's rowcount is never looked at
            return ref.render.deleted("delete-answer", customer_id)
        raise not_found("customer", "customerId")
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
