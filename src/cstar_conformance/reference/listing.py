"""The customer list: pagination, filters and search as SQL over the customers table — and the faults of
real list endpoints (counts, caches, search indexes, tenant conditions) at the places they would live."""

from __future__ import annotations

import json
import re
import time
import unicodedata
from typing import Any
from urllib.parse import unquote_plus

from sqlalchemy import Text, and_, cast, false, func, literal_column, or_, select, text, true
from sqlalchemy.orm import Session
from starlette.responses import Response

from . import paging
from .auth import Caller
from .context import Reference, parse_json
from .models import SENTIMENTS, STATUSES
from .render import now_us
from .storage import Customer
from .writes import (
    StorageError,
)


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
    if faults.on("count-rls-previous-tenant"):  # the count leaves the team to RLS, on another pooled connection
        counted = [*(w for w in counted if w is not team), c.team_id == _pooled_connection_tenant(ref, team_id)]
    total = paging.customer_total(ref, session, counted, team_id, query)
    window = paging.customer_window(ref, page, total)
    in_python = by_name.get("sentiment") if faults.on("filter-sentiment-after-limit") else None
    skipped = [in_python]
    if page.number >= 2 and faults.on("filter-lost-on-later-pages"):  # the deep-page builder has no enum filters
        skipped += enums
    rows = [] if window is None else paging.customer_rows(
        ref, session, [w for w in where if all(w is not skip for skip in skipped)], _order(ref), page, window)
    if in_python is not None:  # the bug: a hybrid property the ORM never put in the SQL, checked after LIMIT
        rows = [row for row in rows if row.sentiment == query.sentiment]
    flat = _flattened_custom_fields(session, rows) if faults.on("list-customfields-json-group") else {}
    projected = _summary_columns(ref, session, rows)
    media_type = "text/plain" if faults.on("list-text-plain") else None
    pagination = page.pagination(ref, total)
    if query.search and faults.on("search-total-int8-string"):  # node-postgres: COUNT(*) is an int8, a string
        pagination["total"] = str(total)
    answer = ref.render.ok([_listed(ref, row, flat.get(row.id), projected.get(row.id)) for row in rows],
                           pagination=pagination, media_type=media_type)
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


def _pooled_connection_tenant(ref: Reference, team_id: str) -> str:
    """The count-rls-previous-tenant fault: the tenant of the pooled connection the count runs on is the one
    the previous list request SET on it (session-level, never reset); this request's SET lands afterwards."""
    slot = ref.pooled_tenant
    tenant = slot[0] if slot else team_id
    slot[:] = [team_id]
    return tenant


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


def _listed(ref: Reference, row: Customer, custom_fields: dict[str, Any] | None = None,
            projected: dict[str, Any] | None = None) -> dict[str, Any]:
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
    if faults.on("list-customfields-string-sniffed"):  # EAV text values decoded "as JSON if it parses"
        customer["customFields"] = {key: _sniffed(value) for key, value in customer["customFields"].items()}
    customer.update(projected or {})
    if faults.on("list-timestamps-local-zone"):  # wall time of a '+01:00' DB session, labelled UTC
        customer["createdAt"] = ref.render.timestamp(row.created_us + LIST_SESSION_OFFSET_US)
        customer["updatedAt"] = ref.render.timestamp(row.updated_us + LIST_SESSION_OFFSET_US)
    if faults.on("list-row-cache-ticketcount"):
        ref.row_cache[cache_key] = dict(customer)
    return customer


LIST_SESSION_OFFSET_US = 3_600_000_000


def _sniffed(value: Any) -> Any:
    """A value of an EAV text column as the list's decoder reads it: JSON if it parses, else the string."""
    if not isinstance(value, str):
        return value
    try:
        return parse_json(value.encode())
    except ValueError:
        return value


NOTES_EXCERPT = 120  # list-notes-excerpt: the summary projection's substr length


def _summary_columns(ref: Reference, session: Session, rows: list[Customer]) -> dict[str, dict[str, Any]]:
    """Columns the list reads through its own summary projection (only under the faults that do so)."""
    columns: dict[str, Any] = {}
    if ref.faults.on("list-tags-group-concat-split"):  # a tags join table aggregated into one string
        columns["tags"] = literal_column("(SELECT group_concat(value, ',') FROM json_each(customers.tags))")
    if ref.faults.on("list-notes-excerpt"):
        columns["notes"] = func.substr(Customer.notes, 1, NOTES_EXCERPT)
    if ref.faults.on("list-email-normalized-column"):  # the covering index's column, not the address as sent
        columns["email"] = Customer.email_lower
    if not columns or not rows:
        return {}
    found = session.execute(select(Customer.id, *columns.values()).where(Customer.id.in_([row.id for row in rows])))
    projected: dict[str, dict[str, Any]] = {}
    for customer_id, *values in found:
        fields = dict(zip(columns, values, strict=True))
        if "tags" in fields:  # the bug: split on the separator, which a tag may contain
            fields["tags"] = [] if fields["tags"] is None else fields["tags"].split(",")
        projected[customer_id] = fields
    return projected


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
    if faults.on("search-regex-unescaped"):  # MongoDB-style {$regex: term, $options: "i"}, never escaped
        return or_(*[column.regexp_match("(?i)" + search) for column in (c.name, c.email)])
    if faults.on("search-fts-word-prefix"):  # the FTS5 index, queried as a prefix phrase
        phrase = " ".join(re.findall(r"\w+", search))
        return text("customers.seq IN (SELECT rowid FROM customers_fts WHERE customers_fts MATCH :phrase)"
                    ).bindparams(phrase=f'"{phrase}"*') if phrase else false()
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
