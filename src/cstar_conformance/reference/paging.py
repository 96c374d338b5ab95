"""Pagination shared by every list: the page size actually served (its cap and the mode's answer above
100), the SQL window of a page, and the `pagination` object."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from .context import Reference

MAX_PAGE_SIZE = 100
CONFIGURED_MAX_OF_THE_FAULT = 50


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
    offset = (page.number - 1) * page.size
    if page.number >= 2 and ref.faults.on("page2-offset-off-by-one"):
        offset -= 1
    if ref.faults.on("huge-page-500"):
        return offset, page.size  # the bug: SQLite overflows on a huge offset
    if offset >= total:
        if ref.faults.on("past-end-returns-last-page") and total > 0:
            return ((total - 1) // page.size) * page.size, page.size
        return None
    return offset, page.size
