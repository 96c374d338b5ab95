"""§3 List, filters and search: exact status/sentiment filters (combined = AND) with honest totals,
invalid filter values (a valid value in another letter case included), search by a substring of name
or email (and its letter case) with terms that mean something to SQL and search engines, odd bytes
in a search term, and tenant isolation of the list (with a search, and with filters alone).

Every query narrows to the shared listing dataset (`search=<dataset token>`, or a token that only
the dataset carries), so the expected result is computed from the seeded records alone; a check that
narrows so is blocked by SEARCH-NAME-OR-EMAIL when that search does not return exactly the dataset
(`searchable_dataset`). The `tag` filter is a MAY (opt-in only) and is not checked here.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import httpx
import pytest

from cstar_conformance import capabilities, expect
from cstar_conformance.client import ApiClient
from cstar_conformance.datasets import SENTIMENTS, STATUSES, ListingDataset
from cstar_conformance.factory import DataFactory
from cstar_conformance.session import Session
from cstar_conformance.waves import together

ALL = 100  # the dataset fits on one page of this size

Filter = tuple[str | None, str | None]  # (status, sentiment)
SINGLE_FILTERS: list[Filter] = [*((s, None) for s in STATUSES), *((None, m) for m in SENTIMENTS)]
COMBINED_FILTERS: list[Filter] = [("inactive", "angry"), ("active", "happy")]
# The gate filters by every status and every sentiment, alone or combined: these three alone are variants the
# thorough profile adds (the combined filters hold them, and test_pagination's filtered walk happy and angry alone)
THOROUGH_ONLY: list[Filter] = [("active", None), (None, "happy"), (None, "angry")]


def _name(f: Filter) -> str:
    return "&".join(f"{k}={v}" for k, v in (("status", f[0]), ("sentiment", f[1])) if v is not None)


def _search(api: ApiClient, term: str, **params: Any) -> httpx.Response:
    return api.get("/customers", params={"search": term, "pageSize": ALL, **params})


@pytest.fixture(scope="module")
def filtered(cstar: Session, api: ApiClient, listing_dataset: ListingDataset) -> dict[Filter, httpx.Response]:
    """One request per filter combination of the profile over the dataset, shared by the data and total checks."""
    token = listing_dataset.search_token
    return together({f: partial(_search, api, token, **{k: v for k, v in (("status", f[0]), ("sentiment", f[1]))
                                                       if v is not None})
                     for f in SINGLE_FILTERS + COMBINED_FILTERS
                     if f not in THOROUGH_ONLY or cstar.profile == "thorough"})


def _assert_exact(response: httpx.Response, dataset: ListingDataset, f: Filter) -> None:
    data, _ = expect.listing(response, "FILTER-EXACT")
    wrong = [(c.get("id"), c.get("status"), c.get("sentiment")) for c in data
             if (f[0] is not None and c.get("status") != f[0]) or (f[1] is not None and c.get("sentiment") != f[1])]
    got = expect.ids_of(data)
    want = dataset.ids_where(*f)
    assert not wrong and set(got) == want and len(got) == len(want), (
        f"[FILTER-EXACT] {_name(f)} must return exactly the {len(want)} matching records (all filters ANDed); "
        f"got {len(got)} items, {len(wrong)} not matching {wrong[:3]}, {len(want - set(got))} matches missing: "
        f"{expect.describe(response)}")


@pytest.mark.rule("FILTER-EXACT")
@pytest.mark.parametrize("f", [pytest.param(f, marks=pytest.mark.thorough(
    "FILTER-EXACT by the combined filters and the filtered walk")) if f in THOROUGH_ONLY else f
    for f in SINGLE_FILTERS], ids=_name)
def test_status_or_sentiment_filter_returns_exactly_the_matching_records(
        filtered: dict[Filter, httpx.Response], searchable_dataset: ListingDataset, f: Filter) -> None:
    _assert_exact(filtered[f], searchable_dataset, f)


@pytest.mark.rule("FILTER-EXACT")
@pytest.mark.parametrize("f", COMBINED_FILTERS, ids=_name)
def test_combined_status_and_sentiment_filters_are_anded(
        filtered: dict[Filter, httpx.Response], searchable_dataset: ListingDataset, f: Filter) -> None:
    _assert_exact(filtered[f], searchable_dataset, f)


@pytest.mark.rule("LIST-TOTAL-HASMORE")
def test_total_counts_only_the_records_matching_every_filter(
        filtered: dict[Filter, httpx.Response], searchable_dataset: ListingDataset) -> None:
    wrong = []
    for f, response in filtered.items():
        data, pagination = expect.listing(response, "LIST-TOTAL-HASMORE")
        problems = expect.page_problems(data, pagination, total=len(searchable_dataset.ids_where(*f)))
        if problems:
            wrong.append(f"{_name(f)}: {'; '.join(problems)}")
    assert not wrong, (
        f"[LIST-TOTAL-HASMORE] total must count the team's records matching all filters "
        f"(seeded spread {searchable_dataset.spread()}): {' | '.join(wrong)}")


# ------------------------------------------------------------------------------- invalid filters

# an unknown status, and a known sentiment in another letter case (which a *_ci collation would match)
INVALID_FILTERS = {"status": "archived", "sentiment": "Happy"}


@pytest.fixture(scope="module")
def invalid_answers(api: ApiClient, listing_dataset: ListingDataset) -> dict[str, httpx.Response]:
    return together({param: partial(_search, api, listing_dataset.search_token, **{param: value})
                     for param, value in INVALID_FILTERS.items()})


@pytest.mark.rule("FILTER-INVALID-NOT-UNFILTERED")
@pytest.mark.parametrize("param", list(INVALID_FILTERS))
def test_invalid_filter_value_never_returns_the_unfiltered_list(
        invalid_answers: dict[str, httpx.Response], searchable_dataset: ListingDataset, param: str) -> None:
    response = invalid_answers[param]
    value = INVALID_FILTERS[param]
    expect.no_server_error(response)
    if response.status_code in expect.VALIDATION:
        return
    data, pagination = expect.listing(response, "FILTER-INVALID-NOT-UNFILTERED")
    unmatched = [c.get(param) for c in data if c.get(param) != value]
    assert not unmatched and pagination["total"] == len(data), (
        f"[FILTER-INVALID-NOT-UNFILTERED] {param}={value} must be rejected (400/422) or match nothing, "
        f"never return the unfiltered list: {len(unmatched)} items with another {param}, total "
        f"{pagination['total']}: {expect.describe(response)}")


# ------------------------------------------------------------------------------------- search


def _assert_search(response: httpx.Response, want: frozenset[str], rule: str, what: str) -> None:
    """The items found (not `total`, which test_total_counts_… and the pagination suite judge); a list
    answer without its envelope blocks the check (ENV-LIST, CONTENT-TYPE-JSON)."""
    got = expect.ids_of(capabilities.listed(response)[0])
    assert set(got) == want and len(got) == len(want), (
        f"[{rule}] search for {what} must find exactly the {len(want)} records carrying it; got {len(got)} "
        f"items, {len(want - set(got))} missing, {len(set(got) - want)} others: {expect.describe(response)}")


def _exact_term(dataset: ListingDataset, where: str) -> tuple[str, frozenset[str], str]:
    """(term, ids that carry it, what it is) for the exact-case searches."""
    if where == "name":
        return (dataset.name_token, dataset.ids_with_name_token,
                f"{dataset.name_token!r} (wildcards, a quote, a trailing backslash; decoys and notes/tags carry "
                f"variants of it), found only in the names")
    if where == "email":
        return dataset.email_token, dataset.ids_with_email_token, "a mixed-case token found only in the emails"
    witness = dataset.customers[-1]
    return str(witness["email"]), frozenset({witness["id"]}), "one customer's whole email address"


@pytest.fixture(scope="module")
def exact_searches(api: ApiClient, listing_dataset: ListingDataset) -> dict[str, httpx.Response]:
    """One exact-case search per term, shared by the MUST check and, as its premise, the letter-case one."""
    return together({where: partial(_search, api, _exact_term(listing_dataset, where)[0])
                     for where in ("name", "email", "whole email")})


@pytest.mark.rule("SEARCH-NAME-OR-EMAIL")
@pytest.mark.parametrize("where", ["name", "email", "whole email"])
def test_search_finds_a_substring_of_the_name_or_of_the_email(
        exact_searches: dict[str, httpx.Response], listing_dataset: ListingDataset, where: str) -> None:
    """The tokens sit in the middle of the string (a substring, not a prefix), each in one field only; a
    whole address (with `@` and dots) is what other checks search by to count holders of an email."""
    term, want, what = _exact_term(listing_dataset, where)
    if where == "email":
        _require_stored_case(listing_dataset, term, want)
    _assert_search(exact_searches[where], want, "SEARCH-NAME-OR-EMAIL", what)


def _require_stored_case(dataset: ListingDataset, term: str, carriers: frozenset[str]) -> None:
    """The email term is searched as it was sent: a target that changed the letter case of the addresses
    breaks EMAIL-ORDINARY, and such a search proves nothing then."""
    altered = [c["email"] for c in dataset.customers if c["id"] in carriers and term not in str(c["email"])]
    if altered:
        capabilities.block("EMAIL-ORDINARY", f"addresses sent with {term!r} came back as {altered[:2]}")


@pytest.mark.rule("SEARCH-CASE-INSENSITIVE")
@pytest.mark.parametrize("where", ["name", pytest.param("email", marks=pytest.mark.thorough(
    "SEARCH-CASE-INSENSITIVE by the name's token, whose letters go beyond ASCII"))])
def test_search_ignores_letter_case(api: ApiClient, exact_searches: dict[str, httpx.Response],
                                    listing_dataset: ListingDataset, where: str) -> None:
    _, carriers, what = _exact_term(listing_dataset, where)
    try:
        _assert_search(exact_searches[where], carriers, "SEARCH-NAME-OR-EMAIL", what)
    except AssertionError as exc:
        capabilities.block("SEARCH-NAME-OR-EMAIL", f"the same search in the stored letter case fails: {exc}")
    if where == "name":  # stored mixed case (ë included), searched with every letter's case swapped
        token, want = listing_dataset.name_token.swapcase(), listing_dataset.ids_with_name_token
    else:  # stored mixed case, searched with every letter's case swapped
        token, want = listing_dataset.email_token.swapcase(), listing_dataset.ids_with_email_token
    _assert_search(_search(api, token), want, "SEARCH-CASE-INSENSITIVE", f"{token!r} (another letter case)")


# ---------------------------------------------------------------------------------- team only


@pytest.mark.rule("LIST-TEAM-ONLY")
def test_another_teams_customer_never_appears_in_the_list_or_its_total(
        api: ApiClient, other_api: ApiClient, factory: DataFactory, searchable_dataset: ListingDataset,
        dataset_search: capabilities.Proof) -> None:
    """The other team's customer carries every token of the dataset and a rare status × sentiment: neither
    the search nor the filters alone (a query path of its own in many backends) may bring it in."""
    if dataset_search.total != searchable_dataset.count:  # the same search, before the other team's record
        capabilities.block("LIST-TOTAL-HASMORE", f"before any other team's customer carried the token, the search "
                                                 f"already said total {dataset_search.total} for "
                                                 f"{searchable_dataset.count} matches")
    foreign = capabilities.create_customer(factory, "listing-foreign", api=other_api, status="inactive",
                                           sentiment="angry", **searchable_dataset.foreign_body("foreign"))
    response = _search(api, searchable_dataset.search_token)
    filtered = api.get("/customers", params={"status": "inactive", "sentiment": "angry", "pageSize": ALL})
    if other_api.delete(f"/customers/{foreign['id']}").status_code in (200, 204):  # no later list may meet it
        factory.forget("customer", foreign["id"])
    data, pagination = expect.listing(response, "LIST-TEAM-ONLY")
    leaked = foreign["id"] in expect.ids_of(data) or foreign["email"] in response.text
    assert not leaked and pagination["total"] == searchable_dataset.count, (
        f"[LIST-TEAM-ONLY] another team's customer carrying this search token must not appear in data or "
        f"total (expected total {searchable_dataset.count}, got {pagination['total']}, leaked in data: {leaked}): "
        f"{expect.describe(response)}")
    expect.listing(filtered, "LIST-TEAM-ONLY")
    assert foreign["id"] not in filtered.text and foreign["email"] not in filtered.text, (
        f"[LIST-TEAM-ONLY] status=inactive&sentiment=angry (no search) lists another team's customer "
        f"{foreign['id']}: {expect.describe(filtered)}")


# ------------------------------------------------------------------------------------ odd bytes

ODD_SEARCHES = {  # raw query strings: a NUL, and percent-escapes that are not UTF-8
    "NUL": "search=%00{token}",
    "invalid UTF-8": "search=%FF%FE{token}",
}


@pytest.mark.rule("NO-5XX", "ENV-ERROR")
@pytest.mark.parametrize("kind", list(ODD_SEARCHES))
def test_search_term_with_odd_bytes_is_answered_never_5xx(api: ApiClient, listing_dataset: ListingDataset,
                                                          kind: str) -> None:
    """A list (of whatever matches) or a 400/422 refusal; never a server error."""
    query = ODD_SEARCHES[kind].format(token=listing_dataset.search_token)
    response = api.get(f"/customers?{query}&pageSize={ALL}")
    expect.no_server_error(response)
    if response.status_code in expect.VALIDATION:
        expect.error(response, expect.VALIDATION)
        return
    expect.listing(response, "NO-5XX")
