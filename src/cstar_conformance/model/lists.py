"""List answers judged against the model: the page arithmetic, the parameters honoured, every item against
the filters and the search, every item the run owns against its state, and — for a query only the run's own
records can match (its search term carries the run's marker) — the count, the page's completeness and the
stability of a walk."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cstar_conformance.model.exchange import Exchange, Violation
from cstar_conformance.model.state import Life, State, clock_rules, differences, rules_of, view
from cstar_conformance.model.values import SENTIMENTS, STATUSES, Match, search_match, shape_problems, text_kind

MAX_PAGE = 100
DEFAULT_PAGE_SIZE = 20


@dataclass(frozen=True)
class Query:
    page: int | None  # None: not a whole number ≥ 1 (or given twice)
    page_size: int | None  # the size the page must have: asked 1..100, 20 by default, 100 when clamped
    over_100: bool
    status: str | None
    sentiment: str | None
    invalid_filter: bool  # an unknown status/sentiment value
    empty_filter: bool  # status= or sentiment=: no filter, or an invalid one (MAY)
    search: str | None
    odd_search: bool  # a term a target may refuse (control characters, over 255 characters, given twice)
    tag: bool  # the MAY tag filter: the items' selection cannot be judged
    repeated: bool = False  # a parameter given twice: which value a target reads is its own choice

    @property
    def valid(self) -> bool:
        return self.page is not None and self.page_size is not None


ABSURD = 2**31  # a page number from here on is an absurd number (§1): a target may refuse it as a client mistake


def _whole(values: list[str], default: int) -> int | None:
    if not values:
        return default
    if len(values) > 1 or not values[0].isascii() or not values[0].isdigit() or not 1 <= int(values[0]) < ABSURD:
        return None
    return int(values[0])


def parse_query(ex: Exchange) -> Query:
    page = _whole(ex.params("page"), 1)
    size = _whole(ex.params("pageSize"), DEFAULT_PAGE_SIZE)
    over = size is not None and size > MAX_PAGE
    filters: dict[str, str | None] = {}
    invalid = empty = False
    for name, allowed in (("status", STATUSES), ("sentiment", SENTIMENTS)):
        values = ex.params(name)
        if not values or len(values) > 1:
            filters[name] = None  # given twice: which one a target reads is its choice (judged as `repeated`)
        elif values == [""]:
            empty, filters[name] = True, None
        elif len(values) == 1 and values[0] in allowed:
            filters[name] = values[0]
        else:
            invalid, filters[name] = True, None
    searches = ex.params("search")
    search = searches[0] if len(searches) == 1 and searches[0] != "" else None
    odd = len(searches) > 1 or (search is not None and text_kind(search).value != "ordinary")
    repeated = any(len(ex.params(name)) > 1 for name in ("search", "status", "sentiment", "page", "pageSize", "tag"))
    return Query(page, min(size, MAX_PAGE) if size is not None else None, over, filters["status"],
                 filters["sentiment"], invalid, empty, search, odd, bool(ex.params("tag")), repeated)


def judge_list(state: State, ex: Exchange, team: str, marker: str, skew: float = 300.0) -> list[Violation]:
    query = parse_query(ex)
    status, body = ex.status, ex.json
    found: list[Violation] = []

    def v(rules: tuple[str, ...], message: str) -> None:
        found.append(Violation(rules, message, (ex,)))

    if status is None or status >= 500:
        return found
    if 400 <= status < 500:
        if query.valid and not query.over_100 and not query.invalid_filter and not query.empty_filter \
                and not query.odd_search and status not in (401, 403, 404, 413, 429):
            if query.page is not None and query.page > 1:
                v(("LIST-PAST-END",), f"page {query.page} of a valid list was refused ({status}): a page past the "
                                      "end is 200 with data []")
            elif query.status or query.sentiment:
                v(("FILTER-EXACT",), f"a list with valid filters was refused ({status})")
            elif query.search is not None:
                v(("SEARCH-NAME-OR-EMAIL",), f"a search for an ordinary term was refused ({status})")
            elif ex.params("pageSize"):
                v(("LIST-PAGESIZE-RANGE",), f"pageSize {ex.param('pageSize')} (1 to 100) was refused ({status})")
            else:
                v(("LIST-DEFAULTS",), f"a plain list was refused ({status})")
        return found
    if not 200 <= status < 300 or not isinstance(body, dict):
        return found
    data, pagination = body.get("data"), body.get("pagination")
    if not isinstance(data, list) or not isinstance(pagination, dict) or not all(
            isinstance(pagination.get(k), int) and not isinstance(pagination.get(k), bool)
            for k in ("total", "page", "pageSize")) or not isinstance(pagination.get("hasMore"), bool):
        v(("ENV-LIST",), "a list answer must hold data (an array) and pagination {total, page, pageSize, hasMore} "
                         "of integers and a boolean at the top level")
        return found
    total, page, size, more = (pagination["total"], pagination["page"], pagination["pageSize"],
                               pagination["hasMore"])
    if len(data) > MAX_PAGE:
        v(("LIST-PAGINATION-HONEST", "LIST-PAGESIZE-MAX"), f"{len(data)} items on one page (at most {MAX_PAGE})")
    if size < 1 or size > MAX_PAGE or page < 1 or total < 0:
        v(("LIST-PAGINATION-HONEST",), f"pagination {pagination} cannot describe a page")
    else:
        want = min(size, max(0, total - (page - 1) * size))
        if len(data) != want:
            v(("LIST-TOTAL-HASMORE",) + (("LIST-PAST-END",) if page > 1 and (page - 1) * size >= total else ()),
              f"{len(data)} items, but page {page} of size {size} with total {total} holds {want}")
        if more != (page * size < total):
            v(("LIST-TOTAL-HASMORE",), f"hasMore {more}, but page × pageSize = {page * size} and total = {total}")
    if query.page is not None and page != query.page:
        v(("LIST-PAGINATION-HONEST",), f"page {query.page} was asked, pagination.page says {page}")
    if query.page_size is not None and size != query.page_size:
        rule = ("LIST-PAGESIZE-MAX",) if query.over_100 else ("LIST-DEFAULTS",) if not ex.params("pageSize") \
            else ("LIST-PAGESIZE-RANGE",)
        v(rule + ("LIST-PAGINATION-HONEST",), f"pageSize {ex.param('pageSize') or '(default 20)'} was asked, "
                                              f"pagination.pageSize says {size}")
    if query.invalid_filter and (data or total):
        v(("FILTER-INVALID-NOT-UNFILTERED",), f"an unknown filter value must give 400/422 or an empty result, "
                                              f"not {total} customers")
    ids = [str(item.get("id")) for item in data if isinstance(item, dict)]
    if len(ids) != len(set(ids)):
        v(("LIST-WALK-COMPLETE", "LIST-TOTAL-HASMORE"), f"one page lists a customer more than once "
                                                        f"({len(ids) - len(set(ids))} repeats)")
    for item in data:
        problems = shape_problems(item)
        if problems:
            v(("CUSTOMER-SHAPE",), f"a list item is no customer: {'; '.join(problems[:3])}")
            continue
        found += _item(state, ex, query, item, team, skew)
    if query.valid and not query.invalid_filter and not query.tag and not query.repeated and not (
            query.empty_filter and not data):
        found += _counts(state, ex, query, data, pagination, team, marker)
    return found


def envelope(ex: Exchange, paginated: bool = True) -> list[Violation]:
    """Any list answer (tickets, webhook registrations): the list envelope and its arithmetic. Not `paginated`
    (a list the contract does not define, such as the webhook registrations: cStar's own carries no
    pagination): the arithmetic is judged only where the answer gives pagination."""
    body = ex.json
    if not (ex.status and 200 <= ex.status < 300) or not isinstance(body, dict):
        return []
    if not paginated and body.get("pagination") is None:
        return []
    data, pagination = body.get("data"), body.get("pagination")
    if not isinstance(data, list) or not isinstance(pagination, dict) or not all(
            isinstance(pagination.get(k), int) and not isinstance(pagination.get(k), bool)
            for k in ("total", "page", "pageSize")) or not isinstance(pagination.get("hasMore"), bool):
        return [Violation(("ENV-LIST",), "a list answer must hold data (an array) and pagination {total, page, "
                                         "pageSize, hasMore} of integers and a boolean at the top level", (ex,))]
    total, page, size, more = (pagination["total"], pagination["page"], pagination["pageSize"],
                               pagination["hasMore"])
    if size >= 1 and page >= 1 and (more != (page * size < total)
                                    or len(data) != min(size, max(0, total - (page - 1) * size))):
        return [Violation(("LIST-TOTAL-HASMORE",), f"{len(data)} items and hasMore {more}, but page {page} of size "
                                                   f"{size} with total {total}", (ex,))]
    return []


def _selects(query: Query, value: dict[str, Any]) -> Match:
    if query.status is not None and value.get("status") != query.status:
        return Match.NOT
    if query.sentiment is not None and value.get("sentiment") != query.sentiment:
        return Match.NOT
    if query.search is None:
        return Match.MUST
    return search_match(query.search, value.get("name"), value.get("email"))


def _item(state: State, ex: Exchange, query: Query, item: dict[str, Any], team: str, skew: float
          ) -> list[Violation]:
    found = []
    if query.status is not None and item.get("status") != query.status:
        found.append(Violation(("FILTER-EXACT",), f"status={query.status} returned customer {item.get('id')} "
                                                  f"with status {item.get('status')!r}", (ex,)))
    if query.sentiment is not None and item.get("sentiment") != query.sentiment:
        found.append(Violation(("FILTER-EXACT",), f"sentiment={query.sentiment} returned customer {item.get('id')} "
                                                  f"with sentiment {item.get('sentiment')!r}", (ex,)))
    if query.search is not None and not query.odd_search and \
            search_match(query.search, item.get("name"), item.get("email")) is Match.NOT:
        found.append(Violation(("SEARCH-NAME-OR-EMAIL",), f"search={query.search!r:.60} returned customer "
                               f"{item.get('id')} whose name {item.get('name')!r:.60} and email "
                               f"{item.get('email')!r:.60} do not contain it", (ex,)))
    rec = state.customers.get(str(item.get("id")).lower())
    if rec is None:
        email = item.get("email")
        ghost = state.ghosts.get(email.lower()) if isinstance(email, str) else None
        if ghost is not None:
            found.append(Violation(ghost.rules, f"customer {item.get('id')} <{email}> is listed, made by a request "
                                   f"that must have changed nothing ({ghost.exchange.method}, answered "
                                   f"{ghost.exchange.status})", (ghost.exchange, ex)))
        return found
    if rec.team != team:
        found.append(Violation(("LIST-TEAM-ONLY",), f"customer {rec.id} of team {rec.team} is listed in team {team}",
                               (ex,)))
        return found
    if rec.id in state.unsettled:
        return found  # written while this list was read: either state may show
    if rec.life is Life.DELETED:
        rejected = [r for r in rec.rejected if "__delete__" in r.fields]
        rules = ("REJECTED-CHANGES-NOTHING", *rejected[0].rules) if rejected else ("DELETE-GONE",)
        found.append(Violation(rules, f"customer {rec.id}, deleted, is still listed", (ex,)))
        return found
    if rec.life is Life.MAYBE:
        return found
    low_high = rec.ticket_range()
    diffs_by_value = [differences(item, value, low_high) for value in rec.values]
    if any(not diffs for diffs in diffs_by_value):
        rec.settle(item)
        return found
    diffs = min(diffs_by_value, key=len)
    stale = any(not differences(item, old, None) for old in rec.history)
    rules = rules_of(diffs) + clock_rules(item, rec, ex.answered, skew)
    if rec.rejected:
        rules = ("REJECTED-CHANGES-NOTHING", *rec.rejected[-1].rules, *rules)
    elif stale:
        rules = ("GET-EQUALS", *rules) + (("SEARCH-NAME-OR-EMAIL",) if query.search else ())
    found.append(Violation(tuple(dict.fromkeys(rules)), f"customer {rec.id} is listed unlike its last answer"
                           f"{' (an earlier state of it)' if stale else ''}: {'; '.join(d for _, d in diffs[:4])}",
                           (ex,)))
    return found


def _counts(state: State, ex: Exchange, query: Query, data: list[Any], pagination: dict[str, Any], team: str,
            marker: str) -> list[Violation]:
    """What the run's own records say about `total` and the page: at least every live record of the run that
    must match is counted; for a query only the run's records can match, also at most those that may, and a
    page that holds everything holds every one of them; pages of one walk (no write between) agree."""
    found: list[Violation] = []
    rule = ("SEARCH-NAME-OR-EMAIL",) if query.search else ("FILTER-EXACT",) if (query.status or query.sentiment) \
        else ()
    must, may = [], 0
    for rec in state.customers.values():
        if rec.team != team or (rec.life is Life.DELETED and rec.id not in state.unsettled):
            continue
        matches = {_selects(query, value) for value in rec.values}
        if matches == {Match.MUST} and rec.life is Life.LIVE and rec.id not in state.unsettled:
            must.append(rec)
        elif matches != {Match.NOT}:
            may += 1
    total = pagination["total"]
    # a search or filter page that agrees with itself (one page with room left, total = its items) but leaves
    # out records that match is the search's or filter's fault alone; any other disagreement (a full page may
    # have been cut short) is also the count's
    whole = pagination["page"] == 1 and not pagination["hasMore"] and total == len(data) < pagination["pageSize"]
    blamed = rule if rule and whole else ("LIST-TOTAL-HASMORE", *rule)
    if total < len(must):
        found.append(Violation(blamed, f"total {total}, but at least {len(must)} of the run's "
                               "own customers match this list", (ex,)))
    narrowed = query.search is not None and marker and marker in query.search.lower()
    if not narrowed:
        return found
    ids = [str(item.get("id")).lower() for item in data if isinstance(item, dict)]
    upper = len(must) + may + sum(1 for email, t in state.lost_creates.items() if t == team and marker in email)
    if total > upper:  # which records are counted wrongly (deleted, another team's, stored by a refusal) shows
        # where they are listed: the items' own checks name that rule
        found.append(Violation(("LIST-TOTAL-HASMORE", *rule), f"total {total}, but only {upper} customers can match "
                               "this query (it names the run's own marker)", (ex,)))
    if pagination["page"] == 1 and not pagination["hasMore"]:
        missing = [rec.id for rec in must if rec.id not in ids]
        if missing:
            found.append(Violation(blamed, f"{len(missing)} of the run's customers that match are missing from "
                                   f"the only page: {', '.join(missing[:3])}", (ex,)))
    found += _walk(state, ex, query, ids, pagination, must)
    return found


def _walk(state: State, ex: Exchange, query: Query, ids: list[str], pagination: dict[str, Any],
          must: list[Any]) -> list[Violation]:
    key = (ex.path, tuple(sorted((k, v) for k, v in ex.query if k != "page")), pagination["pageSize"])
    pages = state.pages.setdefault(key, {})
    found = []
    page = pagination["page"]
    for number, (version, seen, earlier) in list(pages.items()):
        if version != state.version:
            del pages[number]
            continue
        if number == page and seen != ids:
            found.append(Violation(("LIST-WALK-COMPLETE",), f"page {page} read twice with no write between gave "
                                   "other items or another order", (earlier, ex)))
        elif number != page and set(seen) & set(ids):
            found.append(Violation(("LIST-WALK-COMPLETE",), f"pages {number} and {page} of one walk share "
                                   f"{len(set(seen) & set(ids))} customer(s)", (earlier, ex)))
    pages[page] = (state.version, ids, ex)
    size, total = pagination["pageSize"], pagination["total"]
    last = max(1, -(-total // size)) if size > 0 else 1
    if all(n in pages for n in range(1, last + 1)) and last > 1:
        walked = {i for n in range(1, last + 1) for i in pages[n][1]}
        gap = [rec.id for rec in must if rec.id not in walked]
        if gap:
            found.append(Violation(("LIST-WALK-COMPLETE",), f"walking pages 1..{last} missed {len(gap)} matching "
                                   f"customer(s) of the run: {', '.join(gap[:3])}", (ex,)))
    return found


def seen_items(body: Any) -> list[dict[str, Any]]:
    data = body.get("data") if isinstance(body, dict) else None
    return [item for item in data if isinstance(item, dict)] if isinstance(data, list) else []


def as_view(item: dict[str, Any]) -> dict[str, Any]:
    return view(item)
