"""§3 List, pagination: defaults, the page-size cap, bad and absurd page parameters, and honest
`total`/`hasMore` on every page of a walk — including the exact boundary and past the end.

Every list query narrows to the shared listing dataset with `search=<dataset token>`, so the seeded
records are exactly the matches whatever else lives on the target (and a check is blocked by
SEARCH-NAME-OR-EMAIL when that search does not return exactly the dataset). The order is the target's choice:
the tests compare sets, and sequences only between two reads of the same page.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

import httpx
import pytest

from cstar_conformance import capabilities, expect
from cstar_conformance.client import ApiClient
from cstar_conformance.datasets import ListingDataset
from cstar_conformance.factory import DataFactory
from cstar_conformance.model.state import Life
from cstar_conformance.session import Session
from cstar_conformance.waves import together


@dataclass(frozen=True)
class Walk:
    pages: list[httpx.Response]  # pages 1..n
    past_end: httpx.Response | None  # page n+1 (the ragged walk's in the thorough profile only)


def _list(api: ApiClient, dataset: ListingDataset, **params: Any) -> httpx.Response:
    return api.get("/customers", params={"search": dataset.search_token, **params})


@pytest.fixture(scope="module")
def walks(cstar: Session, api: ApiClient, listing_dataset: ListingDataset) -> dict[int, Walk]:
    """Pages 1..n at the exact-boundary and at a ragged page size, and the page past the end (the ragged walk's:
    a variant the thorough profile adds).

    The walk requests a fixed number of pages (from the seeded count), never following `hasMore`."""
    sizes = (listing_dataset.page_size, listing_dataset.ragged_page_size)
    past = {size: size == listing_dataset.page_size or cstar.profile == "thorough" for size in sizes}
    pages = together({(size, page): partial(_list, api, listing_dataset, page=page, pageSize=size)
                      for size in sizes for page in range(1, listing_dataset.pages(size) + 1 + past[size])})
    return {size: Walk([pages[(size, page)] for page in range(1, listing_dataset.pages(size) + 1)],
                       pages[(size, listing_dataset.pages(size) + 1)] if past[size] else None) for size in sizes}


# --------------------------------------------------------------------------------------- defaults


@pytest.mark.rule("LIST-DEFAULTS", "ENV-LIST")
def test_list_without_page_parameters_is_page_1_of_size_20(api: ApiClient,
                                                           searchable_dataset: ListingDataset) -> None:
    response = _list(api, searchable_dataset)
    data, pagination = expect.listing(response, "LIST-DEFAULTS")
    assert pagination["page"] == 1 and pagination["pageSize"] == 20, (
        f"[LIST-DEFAULTS] defaults must be page=1, pageSize=20, got page={pagination['page']}, "
        f"pageSize={pagination['pageSize']}: {expect.describe(response)}")
    want = min(20, searchable_dataset.count)
    assert len(data) == want, (
        f"[LIST-DEFAULTS] the default page of {searchable_dataset.count} matches must hold {want} items, "
        f"got {len(data)}: {expect.describe(response)}")


# ------------------------------------------------------------------------------- page-size limit


@pytest.mark.rule("LIST-PAGESIZE-MAX", "LIST-PAGINATION-HONEST")
@pytest.mark.parametrize("size", [101, pytest.param(1000, marks=pytest.mark.thorough(
    "LIST-PAGESIZE-MAX by pageSize=101, and pageSize=1000 among the absurd page parameters"))])
def test_page_size_above_100_is_rejected_or_clamped_to_100(api: ApiClient, size: int) -> None:
    """On the unfiltered team list (any number of records): 400/422, or a page whose
    pagination.pageSize says 100 with at most 100 items — an echo above 100 is a lie or no cap."""
    response = api.get("/customers", params={"pageSize": size})
    expect.no_server_error(response)
    if response.status_code in expect.VALIDATION:
        return
    data, pagination = expect.listing(response, "LIST-PAGESIZE-MAX")
    assert pagination["pageSize"] == expect.MAX_PAGE_SIZE and len(data) <= expect.MAX_PAGE_SIZE, (
        f"[LIST-PAGESIZE-MAX] pageSize={size} must be rejected with 400/422 or clamped to 100 "
        f"(pagination.pageSize 100, at most 100 items); got pageSize {pagination['pageSize']} and "
        f"{len(data)} items: {expect.describe(response)}")
    assert pagination["page"] == 1, f"[LIST-PAGINATION-HONEST] page 1 reported as {pagination['page']}"


@pytest.mark.rule("LIST-PAGESIZE-RANGE")
@pytest.mark.parametrize("size", [1, pytest.param(100, marks=pytest.mark.thorough(
    "LIST-PAGESIZE-RANGE by pageSize=1 here and pageSize=100 on the whole team list"))])
def test_page_size_from_1_to_100_is_honoured(api: ApiClient, searchable_dataset: ListingDataset, size: int) -> None:
    """Over the dataset: pagination.pageSize says `size` and the page holds min(size, matches) items."""
    response = _list(api, searchable_dataset, pageSize=size)
    data, pagination = capabilities.listed(response)
    want = min(size, searchable_dataset.count)
    assert pagination["pageSize"] == size and len(data) == want, (
        f"[LIST-PAGESIZE-RANGE] pageSize={size} must be served as asked: pagination.pageSize {size} and "
        f"{want} of the {searchable_dataset.count} matches; got pageSize {pagination['pageSize']} and "
        f"{len(data)} items: {expect.describe(response)}")


@pytest.mark.rule("LIST-PAGESIZE-RANGE")
def test_page_size_100_is_honoured_on_the_whole_team_list(api: ApiClient) -> None:
    """Unfiltered, so that more than 50 records match on a target holding a few dozen customers (and on
    the embedded reference at this point of the run): the page holds min(100, total) items."""
    response = api.get("/customers", params={"pageSize": 100})
    data, pagination = capabilities.listed(response)
    want = min(100, pagination["total"])
    assert pagination["pageSize"] == 100 and len(data) == want, (
        f"[LIST-PAGESIZE-RANGE] pageSize=100 must be served as asked: pagination.pageSize 100 and "
        f"min(100, total {pagination['total']}) = {want} items; got pageSize {pagination['pageSize']} and "
        f"{len(data)} items: {expect.describe(response)}")


# ------------------------------------------------------------------ bad and absurd page parameters

BAD_PARAMS: dict[str, dict[str, Any]] = {
    "page=0": {"page": 0},
    "page=-1": {"page": -1},
    "pageSize=0": {"pageSize": 0},
    "page=abc": {"page": "abc"},
    "page=1.5": {"page": "1.5"},  # parseInt reads 1
}
ABSURD_PARAMS: dict[str, dict[str, Any]] = {
    **BAD_PARAMS,
    "page=10**20": {"page": 10**20},
    "pageSize=-5": {"pageSize": -5},
    "pageSize=1000": {"pageSize": 1000},
}
# variants the thorough profile adds: a page below 0 (the gate sends 0), a word for a page (the gate sends 1.5,
# which a lenient parser reads as 1), a page size below 0 (the gate sends 0)
THOROUGH_ONLY = ("page=-1", "page=abc", "pageSize=-5")
WHY_THOROUGH = "page=0, page=1.5 and pageSize=0"


def _params(cases: dict[str, dict[str, Any]]) -> list[Any]:
    return [pytest.param(case, marks=pytest.mark.thorough(WHY_THOROUGH)) if case in THOROUGH_ONLY else case
            for case in cases]


@pytest.fixture(scope="module")
def odd_answers(cstar: Session, api: ApiClient, listing_dataset: ListingDataset) -> dict[str, httpx.Response]:
    """One request per odd parameter set of the profile, shared by the MUST (honest) and SHOULD (4xx) checks."""
    return together({name: partial(_list, api, listing_dataset, **params) for name, params in ABSURD_PARAMS.items()
                     if name not in THOROUGH_ONLY or cstar.profile == "thorough"})


@pytest.mark.rule("LIST-BAD-PARAMS-4XX")
@pytest.mark.parametrize("case", _params(BAD_PARAMS))
def test_page_or_page_size_below_1_or_not_an_integer_is_400_or_422(odd_answers: dict[str, httpx.Response],
                                                                   case: str) -> None:
    response = odd_answers[case]
    assert response.status_code in expect.VALIDATION, (
        f"[LIST-BAD-PARAMS-4XX] {case} should be rejected with 400 or 422: {expect.describe(response)}")


@pytest.mark.rule("LIST-PAGINATION-HONEST", "NO-5XX")
@pytest.mark.parametrize("case", _params(ABSURD_PARAMS))
def test_any_page_parameters_give_no_5xx_and_an_honest_page(odd_answers: dict[str, httpx.Response],
                                                             searchable_dataset: ListingDataset,
                                                             dataset_search: capabilities.Proof, case: str) -> None:
    """`total` is held to the dataset's size only when the plain search reported it right (else that is
    LIST-TOTAL-HASMORE's finding, not one of these parameters)."""
    response = odd_answers[case]
    assert response.status_code < 500, (
        f"[LIST-PAGINATION-HONEST] {case} must never give a 5xx: {expect.describe(response)}")
    assert response.status_code == 200 or 400 <= response.status_code < 500, (
        f"[LIST-PAGINATION-HONEST] {case} must give a page (200) or a client error: {expect.describe(response)}")
    if response.status_code != 200:
        return
    data, pagination = expect.listing(response, "LIST-PAGINATION-HONEST")
    honest_total = dataset_search.total == searchable_dataset.count
    problems = expect.page_problems(data, pagination, total=searchable_dataset.count if honest_total else None)
    strangers = set(expect.ids_of(data)) - searchable_dataset.ids
    if strangers:
        problems.append(f"{len(strangers)} items outside the searched dataset")
    assert not problems, (
        f"[LIST-PAGINATION-HONEST] {case}: pagination does not describe the page returned: "
        f"{'; '.join(problems)}: {expect.describe(response)}")


# ---------------------------------------------------------------------------------- page walks


@pytest.mark.rule("LIST-TOTAL-HASMORE")
@pytest.mark.parametrize("which", ["exact boundary", "ragged"])
def test_every_page_of_a_walk_has_consistent_total_hasmore_and_length(
        walks: dict[int, Walk], searchable_dataset: ListingDataset, which: str) -> None:
    size = searchable_dataset.page_size if which == "exact boundary" else searchable_dataset.ragged_page_size
    for page, response in enumerate(walks[size].pages, start=1):  # the page past the end: LIST-PAST-END
        data, pagination = expect.listing(response, "LIST-TOTAL-HASMORE")
        problems = expect.page_problems(data, pagination, total=searchable_dataset.count, page=page, page_size=size)
        assert not problems, (
            f"[LIST-TOTAL-HASMORE] page {page} of size {size} over {searchable_dataset.count} matches: "
            f"{'; '.join(problems)}: {expect.describe(response)}")


@pytest.mark.rule("LIST-PAST-END")
@pytest.mark.parametrize("which", ["exact boundary", pytest.param("ragged", marks=pytest.mark.thorough(
    "LIST-PAST-END by the exact-boundary walk's page past the end"))])
def test_page_past_the_end_is_200_empty_without_more(walks: dict[int, Walk], searchable_dataset: ListingDataset,
                                                     which: str) -> None:
    """hasMore follows total: a wrong hasMore with a wrong total is LIST-TOTAL-HASMORE's finding."""
    size = searchable_dataset.page_size if which == "exact boundary" else searchable_dataset.ragged_page_size
    response = walks[size].past_end
    assert response is not None
    assert response.status_code == 200, (
        f"[LIST-PAST-END] page {len(walks[size].pages) + 1} (past the end) must be 200: {expect.describe(response)}")
    data, pagination = expect.listing(response, "LIST-PAST-END")
    if data == [] and pagination["hasMore"] is not False and pagination["total"] != searchable_dataset.count:
        capabilities.block("LIST-TOTAL-HASMORE", f"hasMore {pagination['hasMore']} past the end follows total "
                                                 f"{pagination['total']}, which should be {searchable_dataset.count}")
    assert data == [] and pagination["hasMore"] is False, (
        f"[LIST-PAST-END] a page past the end must have data [] and hasMore false, got {len(data)} items, "
        f"hasMore {pagination['hasMore']}: {expect.describe(response)}")


@pytest.mark.rule("LIST-WALK-COMPLETE")
@pytest.mark.parametrize("which", ["exact boundary", "ragged"])
def test_walking_all_pages_yields_every_match_exactly_once(walks: dict[int, Walk], searchable_dataset: ListingDataset,
                                                           which: str) -> None:
    size = searchable_dataset.page_size if which == "exact boundary" else searchable_dataset.ragged_page_size
    seen: list[str] = []
    for response in walks[size].pages:  # pages 1..n (the page past the end is LIST-PAST-END's)
        seen += expect.ids_of(expect.listing(response, "LIST-WALK-COMPLETE")[0])
    repeated = sorted({i for i in seen if seen.count(i) > 1})
    missing = searchable_dataset.ids - set(seen)
    strangers = set(seen) - searchable_dataset.ids
    assert not repeated and not missing and not strangers, (
        f"[LIST-WALK-COMPLETE] walking {len(walks[size].pages)} pages of size {size} over {searchable_dataset.count} "
        f"matches: {len(repeated)} seen twice {repeated[:3]}, {len(missing)} never seen {sorted(missing)[:3]}, "
        f"{len(strangers)} outside the search")


@pytest.mark.rule("LIST-WALK-COMPLETE")
def test_reading_a_page_again_gives_the_same_records_in_the_same_order(
        api: ApiClient, walks: dict[int, Walk], searchable_dataset: ListingDataset) -> None:
    size = searchable_dataset.page_size
    first = expect.ids_of(expect.listing(walks[size].pages[1], "LIST-WALK-COMPLETE")[0])
    response = _list(api, searchable_dataset, page=2, pageSize=size)
    again = expect.ids_of(expect.listing(response, "LIST-WALK-COMPLETE")[0])
    assert again == first, (
        f"[LIST-WALK-COMPLETE] page 2 of size {size} changed between two reads while nothing changed: "
        f"{first} then {again}: {expect.describe(response)}")


WALKED_SENTIMENTS = ("happy", "angry")  # two of the dataset's records each


@pytest.mark.rule("LIST-WALK-COMPLETE", "FILTER-EXACT", "LIST-TOTAL-HASMORE")
def test_a_filtered_walk_in_small_pages_yields_every_match_once(api: ApiClient,
                                                                searchable_dataset: ListingDataset) -> None:
    """The dataset's happy customers, one to a page, and its angry ones: each page honest, every item of the
    filtered value, every match once. A filter applied after the page is cut, or lost on later pages, shows in
    at least one of the two walks whatever the target's order: one walk hides it only when the dataset's first
    two records (in that order) are its two matches — or its second is — and they cannot be both happy and angry."""
    want = {value: searchable_dataset.ids_where(sentiment=value) for value in WALKED_SENTIMENTS}
    pages = together({(value, page): partial(_list, api, searchable_dataset, sentiment=value, pageSize=1, page=page)
                      for value in WALKED_SENTIMENTS for page in range(1, len(want[value]) + 1)})
    for value in WALKED_SENTIMENTS:
        seen: list[str] = []
        for page in range(1, len(want[value]) + 1):
            data, pagination = expect.listing(pages[(value, page)], "LIST-WALK-COMPLETE")
            problems = expect.page_problems(data, pagination, total=len(want[value]), page=page, page_size=1)
            assert not problems, f"[LIST-TOTAL-HASMORE] sentiment={value}, page {page} of size 1: {problems}"
            assert all(c.get("sentiment") == value for c in data), (
                f"[FILTER-EXACT] page {page} of sentiment={value} holds {[c.get('sentiment') for c in data]}")
            seen += expect.ids_of(data)
        assert sorted(seen) == sorted(want[value]), (
            f"[LIST-WALK-COMPLETE] the walk saw {len(seen)} items for {len(want[value])} {value} customers "
            f"({len(set(seen))} distinct)")


# ------------------------------------------------------------------ past 100 matches

PAST_CAP = 101  # one more match than a page can hold
AFTER_PAGINATION = 150  # about what the modules after this one send (thorough), besides their cleanup


@pytest.mark.rule("LIST-TOTAL-HASMORE", "LIST-WALK-COMPLETE")
@pytest.mark.thorough("more than 100 matches needs 101 live records of the run (about 200 requests on a gate's "
                      "budget; thorough tops up what its checks already hold)")
def test_a_search_past_100_matches_counts_and_pages_them_all(cstar: Session, api: ApiClient,
                                                             factory: DataFactory) -> None:
    """The run's own records, searched by the run id: at least 101 live (created here when the run holds fewer,
    counted by the contract model as the run's customers that carry the id in every value they may have). A total
    or a page cut at the 100th row (a COUNT over a query that keeps its safety LIMIT) shows."""
    team = cstar.target.team.id
    held = [c for c in cstar.observer.model.state.live_customers(team) if c.life is Life.LIVE
            and all(factory.run_id in f"{v.get('name')} {v.get('email')}" for v in c.values)]
    needed = max(0, PAST_CAP - len(held))
    spare = cstar.traffic.budget.spare(cstar.stats) - AFTER_PAGINATION
    if 2 * needed > spare:  # each top-up record is a create and, at the end, a delete
        pytest.skip(f"the run holds {len(held)} live customers; topping it up to {PAST_CAP} costs {2 * needed} "
                    f"requests, more than the {max(spare, 0)} its budget leaves after the checks still to come "
                    "(a whole thorough run in one process holds most of them already)")
    together({n: partial(capabilities.create_customer, factory, "past100") for n in range(needed)})
    first, second = (api.get("/customers", params={"search": factory.run_id, "pageSize": 100, "page": page})
                     for page in (1, 2))
    data, pagination = expect.listing(first, "LIST-TOTAL-HASMORE")
    more, _ = expect.listing(second, "LIST-WALK-COMPLETE")
    assert len(data) == 100 and pagination.get("total", 0) >= PAST_CAP and pagination.get("hasMore") is True, (
        f"[LIST-TOTAL-HASMORE] {PAST_CAP} or more customers match search={factory.run_id!r}: page 1 of size 100 must "
        f"be full with hasMore true and a total of at least {PAST_CAP}; got {len(data)} items, total "
        f"{pagination.get('total')!r}, hasMore {pagination.get('hasMore')!r}")
    assert more, f"[LIST-WALK-COMPLETE] page 2 of {PAST_CAP} or more matches is empty: {expect.describe(second)}"
