"""Pagination shared by every list: the page size actually served (its cap and the mode's answer above
100), the SQL window of a page, and the `pagination` object."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from .context import Reference
from .errors import ApiError
from .storage import Customer, Ticket

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20
CONFIGURED_MAX_OF_THE_FAULT = 50
COUNT_CACHE_SECONDS = 30.0
INT32 = 2**32  # the page-offset-int32-wrap fault's offset arithmetic
COUNT_TO_PAGE_WINDOW_S = 0.1  # list-count-separate-snapshot: from the count's statement to the page query's


@dataclass(frozen=True)
class Page:
    number: int
    size: int  # rows the query takes
    reported: int  # what pagination.pageSize says
    echoed: frozenset[str] = frozenset()  # the pagination-echoes-query-strings fault: members echoed as sent

    def pagination(self, ref: Reference, total: int) -> dict[str, Any]:
        pagination = ref.render.pagination(self.number, self.reported, total)
        for name in self.echoed:
            pagination[name] = str(pagination[name])  # the bug: req.query's string, not the parsed number
        return pagination


def page_of(ref: Reference, query: Any) -> Page:
    """The page a validated query asks for, with the server's page-size policy applied."""
    page = _sized_page(ref, query)
    if ref.faults.on("pagination-echoes-query-strings"):
        return replace(page, echoed=frozenset({"page", "pageSize"} & query.model_fields_set))
    return page


def _sized_page(ref: Reference, query: Any) -> Page:
    number, size = query.page, query.pageSize
    if ref.faults.on("pagesize-capped-50") and CONFIGURED_MAX_OF_THE_FAULT < size <= MAX_PAGE_SIZE:
        return Page(number, CONFIGURED_MAX_OF_THE_FAULT, CONFIGURED_MAX_OF_THE_FAULT)
    if ref.faults.on("pagesize-max-exclusive") and size == MAX_PAGE_SIZE:  # the bug: `size < 100`
        raise ref.errors.invalid("pageSize", f"pageSize must be less than {MAX_PAGE_SIZE}")
    if size <= MAX_PAGE_SIZE:
        return Page(number, size, size)
    if ref.faults.on("pagesize-unbounded"):
        return Page(number, min(size, 2**62), size)
    if ref.faults.on("pagination-echoes-requested-pagesize"):
        return Page(number, MAX_PAGE_SIZE, size)
    if ref.mode.takes("pagesize-over-100", "clamp"):
        return Page(number, MAX_PAGE_SIZE, MAX_PAGE_SIZE)
    raise ref.errors.invalid("pageSize", f"pageSize must be at most {MAX_PAGE_SIZE}")


def window(page: Page, total: int) -> tuple[int, int] | None:
    """(offset, limit) of a page, or None past the end (a huge page number never reaches SQLite)."""
    offset = (page.number - 1) * page.size
    return None if offset >= total else (offset, page.size)


def customer_window(ref: Reference, page: Page, total: int) -> tuple[int, int] | None:
    """The window of a customer list page — where the list's offset bugs live."""
    step = DEFAULT_PAGE_SIZE if ref.faults.on("offset-from-default-pagesize") else page.size  # the bug: the default
    offset = (page.number - 1) * step
    if ref.faults.on("page-offset-int32-wrap"):  # `int offset = (page - 1) * size`: wraps past 2^31 - 1
        offset = (offset + INT32 // 2) % INT32 - INT32 // 2  # negative: SQLite takes it as OFFSET 0
    if page.number >= 2 and ref.faults.on("page2-offset-off-by-one"):
        offset -= 1
    if ref.faults.on("huge-page-500"):
        return offset, page.size  # the bug: SQLite overflows on a huge offset
    if page.number >= 2 and ref.faults.on("last-partial-page-empty") and page.number > total // page.size:
        return None  # the bug: the page count is total // pageSize, the last partial page "does not exist"
    if offset >= total:
        if ref.faults.on("past-end-returns-last-page") and total > 0:
            return ((total - 1) // page.size) * page.size, page.size
        if page.number >= 2 and ref.faults.on("past-end-page-404"):  # DRF's paginator raises NotFound
            raise ApiError(404, "not_found", "Invalid page.", param="page")
        return None
    return offset, page.size


def customer_total(ref: Reference, session: Session, counted: list[Any], team_id: str, query: Any) -> int:
    """The `total` of a customer list — and where the count's cache, cap and search index go wrong."""
    faults = ref.faults
    key = repr(sorted(query.model_dump(exclude={"page", "pageSize"}).items()))  # the bug: no team id in it
    cached = ref.count_cache.get(key) if faults.on("count-cache-without-team") else None
    if cached is not None and time.monotonic() - cached[0] < COUNT_CACHE_SECONDS:
        return cached[1]
    if faults.on("total-capped-100"):  # the count wraps the statement with its safety LIMIT still on
        capped = select(Customer.id).where(*counted).limit(MAX_PAGE_SIZE).subquery()
        total = session.scalar(select(func.count()).select_from(capped)) or 0
    elif faults.on("list-count-separate-snapshot"):  # an autocommit statement of its own, not the page's snapshot
        with ref.db.reader() as own:
            total = own.scalar(select(func.count()).select_from(Customer).where(*counted)) or 0
        time.sleep(COUNT_TO_PAGE_WINDOW_S)  # the handler's work between the count and the page query
    else:
        total = session.scalar(select(func.count()).select_from(Customer).where(*counted)) or 0
    if query.search and faults.on("search-total-counts-deleted"):  # the index's hit count: deletes never reached it
        total += sum(1 for doc in ref.search_tombstones if _index_hit(doc, team_id, query))
    if faults.on("count-cache-without-team"):
        ref.count_cache[key] = (time.monotonic(), total)
    return total


def _index_hit(doc: tuple[str, str, str, str, str], team_id: str, query: Any) -> bool:
    team, name, email, status, sentiment = doc
    needle = query.search.lower()
    return team == team_id and (needle in name or needle in email) and (
        query.status in (None, status) and query.sentiment in (None, sentiment))


def customer_rows(ref: Reference, session: Session, where: list[Any], order: tuple[Any, ...], page: Page,
                  window: tuple[int, int]) -> list[Customer]:
    """The rows of a customer list page — and the ways the page query goes wrong."""
    statement = select(Customer).where(and_(*where)).order_by(*order)
    if ref.faults.on("list-tickets-join-fanout"):  # the bug: a join to tickets, no DISTINCT
        statement = statement.outerjoin(Ticket, Ticket.customer_id == Customer.id)
    offset, limit = window
    if page.number >= 2 and ref.faults.on("keyset-created-second"):
        after = _keyset_after(ref, session, statement, offset)
        if after is not None:
            statement, offset = statement.where(after), 0
    unlimited = limit == 0 and ref.faults.on("pagesize-zero-unlimited")  # a MongoDB-style limit(0): no limit
    rows = list(session.scalars(statement.offset(offset).limit(None if unlimited else limit)).all())
    if ref.faults.on("list-hydrate-by-email"):  # the page gives keys; rows are loaded by the "unique" email
        emails = [row.email_lower for row in rows]
        rows = list(session.scalars(select(Customer).where(  # the bug: no team condition
            Customer.email_lower.in_(emails), Customer.deleted.is_(False)).order_by(*order)).all())
    return rows


def _keyset_after(ref: Reference, session: Session, statement: Any, offset: int) -> Any:
    """The keyset-created-second fault: page n starts after the previous page's last created_at, a DATETIME
    with whole seconds — rows created in that same second are skipped."""
    order = ref.mode.get("list-order")
    if order == "by-name":
        return None
    anchor = session.scalar(statement.with_only_columns(Customer.created_us).offset(offset - 1).limit(1))
    if anchor is None:
        return None
    second = anchor // 1_000_000
    if order == "newest-first":
        return Customer.created_us < second * 1_000_000
    return Customer.created_us >= (second + 1) * 1_000_000
