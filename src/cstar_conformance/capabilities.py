"""Blame where it belongs. A check that relies on another capability of the target — search to count
records, GET to read one back, a webhook to observe that no event came — proves that capability on
the spot, from the very exchange it needs anyway, and when the capability is broken it reports
``blocked by RULE-ID: <what failed>`` (a pytest skip) instead of failing its own rule with a
misleading message. The capability's own rule fails in its own tests.

A check is blocked only on proof: an exchange that by itself breaches the named MUST rule (a customer
that exists and carries the search term is missing from the search; a GET answered 200 without the
success envelope; a change's webhook event never came). A check is never blocked by one of its own
rules — then it fails. And because a blocked check stands on an observed breach, a run must never end
green because of it: `unconfirmed` lists the blocks whose rule no red check of the run reports, and
the scenario suite turns them into an error at the end of the session.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NoReturn

import httpx
import pytest

from cstar_conformance import expect
from cstar_conformance.client import ApiClient
from cstar_conformance.factory import DataFactory
from cstar_conformance.rules import BY_ID, Level

BLOCKED = "blocked by "
SEARCH = "SEARCH-NAME-OR-EMAIL"
SEARCH_PAGE = 100  # the witnesses of one search always fit on one page
_RULE_IN_MESSAGE = re.compile(r"^\[([A-Z0-9-]+)\]")
RED = ("failed", "error", "finding")


@dataclass(frozen=True)
class Block:
    rule: str
    what: str
    check: str  # the node id of the blocked check


class _Ledger:
    """The rules of the check that is running, and every block of the session (one per process)."""

    def __init__(self) -> None:
        self.rules: tuple[str, ...] = ()
        self.check = ""
        self.blocks: list[Block] = []
        self._lock = threading.Lock()


_ledger = _Ledger()


@contextmanager
def checking(node_id: str, rule_ids: Collection[str]) -> Iterator[None]:
    """Run a check (its test body and function fixtures) whose own rules are `rule_ids`."""
    _ledger.rules, _ledger.check = tuple(rule_ids), node_id
    try:
        yield
    finally:
        _ledger.rules, _ledger.check = (), ""


def block(rule_id: str, what: str) -> NoReturn:
    """The running check cannot be judged because `rule_id` is broken (shown by `what`): skip it as
    ``blocked by RULE-ID: what`` — or, when `rule_id` is one of the check's own rules, fail it."""
    if rule_id not in BY_ID or BY_ID[rule_id].level is not Level.MUST:
        raise KeyError(f"{rule_id!r} is no MUST rule: only a MUST breach may block a check")
    if rule_id in _ledger.rules:
        raise AssertionError(f"[{rule_id}] {what}")
    with _ledger._lock:
        _ledger.blocks.append(Block(rule_id, what, _ledger.check))
    pytest.skip(f"{BLOCKED}{rule_id}: {what}")


def blocks() -> list[Block]:
    with _ledger._lock:
        return list(_ledger.blocks)


def unconfirmed(results: list[dict[str, Any]]) -> list[Block]:
    """Blocks whose rule has no red check among `results` (the run's verdicts): the breach they stand on
    would otherwise go unreported."""
    red = {rule for r in results if r.get("verdict") in RED for rule in r.get("rules", [])}
    return [b for b in blocks() if b.rule not in red]


def _rule_of(error: AssertionError, default: str) -> str:
    """The MUST rule an `expect` assertion names first (`[ENV-LIST] …`), else `default`."""
    found = _RULE_IN_MESSAGE.match(str(error))
    named = BY_ID.get(found.group(1)) if found else None
    return named.id if named is not None and named.level is Level.MUST else default


def _envelope_or_block(check: Any, response: httpx.Response, default: str) -> Any:
    """`check(response)`, blocking the running check by the envelope rule the answer breaks."""
    try:
        return check(response)
    except AssertionError as exc:
        block(_rule_of(exc, default), _RULE_IN_MESSAGE.sub("", str(exc), count=1).strip())


def listed(response: httpx.Response) -> tuple[list[Any], dict[str, Any]]:
    """(data, pagination) of a list answer a check reads: a status other than 200 fails the check, a 200
    without the list envelope or without JSON blocks it (ENV-LIST, ENV-SUCCESS, CONTENT-TYPE-JSON)."""
    assert response.status_code == 200, f"expected a list (200): {expect.describe(response)}"
    return _envelope_or_block(expect.listing, response, "ENV-LIST")  # type: ignore[no-any-return]


# ------------------------------------------------------------------------------------------- create

CUSTOMER_FIELDS = ("id", "name", "email", "status", "sentiment", "tags", "notes", "customFields", "ticketCount",
                   "createdAt", "updatedAt")


def create_customer(factory: DataFactory, label: str = "c", api: ApiClient | None = None,
                    **fields: Any) -> dict[str, Any]:
    """A run-tagged customer a check builds on (`DataFactory.create_customer`), proven on the spot: a
    create that is refused, or answered without the whole customer, blocks the check by CREATE-2XX
    (or by the envelope rule the answer breaks) instead of failing it with a KeyError later."""
    response = factory.post_customer(factory.tagged_body(label, **fields), api)
    if not 200 <= response.status_code < 300:
        block("CREATE-2XX", f"set-up: a valid create was refused: {expect.describe(response)}")
    return created(response)


def created(response: httpx.Response) -> dict[str, Any]:
    """The customer of a 2xx create answer the check builds on: an answer without the success envelope or
    without every field of the customer blocks the check (CREATE-2XX, ENV-SUCCESS, CONTENT-TYPE-JSON)."""
    data = _envelope_or_block(lambda r: expect.success(r, range(200, 300)), response, "ENV-SUCCESS")
    missing = [name for name in CUSTOMER_FIELDS if not isinstance(data, dict) or name not in data]
    if missing:
        block("CREATE-2XX", f"the create answer lacks {', '.join(missing)}: {expect.describe(response)}")
    return data  # type: ignore[no-any-return]


# ------------------------------------------------------------------------------------------- search


@dataclass(frozen=True)
class Found:
    """One search answer whose witnesses were all in it: the count it gives can be trusted."""

    data: list[Any]
    pagination: dict[str, Any]
    response: httpx.Response

    def ids(self) -> set[str]:
        return set(expect.ids_of(self.data))


def search(api: ApiClient, term: str, witnesses: Collection[Mapping[str, Any]], where: str = "email",
           **params: Any) -> Found:
    """List the team's customers matching `search=term` (one page of 100) and prove the search works:
    every witness — a customer known to exist that carries `term` in its `where` (name, email or both),
    just as the records the check looks for would — must be in the answer (see `searched`)."""
    return searched(api, api.get("/customers", params={"search": term, "pageSize": SEARCH_PAGE, **params}),
                    term, witnesses, where)


def searched(api: ApiClient, response: httpx.Response, term: str, witnesses: Collection[Mapping[str, Any]],
             where: str = "email") -> Found:
    """Judge the answer to `search=term` made earlier: when a witness is missing, the check is blocked by
    SEARCH-NAME-OR-EMAIL (or by the envelope rule the answer breaks); a missing witness is first
    confirmed to exist with one GET."""
    if response.status_code != 200:
        block(SEARCH, f"a search for {term!r} was not answered with a list: {expect.describe(response)}")
    data, pagination = listed(response)
    found = set(expect.ids_of(data))
    for witness in witnesses:
        if str(witness.get("id")) in found:
            continue
        label = f"customer {witness.get('id')} <{witness.get('email')}>"
        check = api.get(f"/customers/{witness.get('id')}")
        if check.status_code == 404:
            raise AssertionError(f"{label}, which the check relies on, is gone (GET → 404), so the search for "
                                 f"{term!r} could not be judged: {expect.describe(check)}")
        block(SEARCH, f"{label} carries {term!r} in its {where} and exists (GET → {check.status_code}), but "
                      f"a search for it did not return it: {expect.describe(response)}")
    return Found(data, pagination, response)


def holders(found: Found, email: str) -> list[dict[str, Any]]:
    """The customers of a search answer whose address is `email`, in any letter case."""
    return [c for c in found.data if isinstance(c, dict) and str(c.get("email", "")).lower() == email.lower()]


@dataclass(frozen=True)
class Proof:
    """A capability tested once for many checks: None when it held, else the rule and what failed."""

    rule: str | None = None
    what: str = ""
    total: int | None = None  # pagination.total of the answer that proved it, for checks that compare with it

    def require(self) -> None:
        if self.rule is not None:
            block(self.rule, self.what)


def search_narrows(api: ApiClient, term: str, ids: Collection[str]) -> Proof:
    """Whether `search=term` returns exactly the customers `ids` (all of them carry `term` in name and
    email; nothing else on the target does): the premise of every check that narrows a list to a
    seeded dataset. One request. Only the items are judged, not `total` (its own checks judge it)."""
    response = api.get("/customers", params={"search": term, "pageSize": SEARCH_PAGE})
    if response.status_code != 200:
        return Proof(SEARCH, f"a search for the dataset token {term!r} was not answered with a list: "
                             f"{expect.describe(response)}")
    try:
        data, _ = expect.listing(response)
    except AssertionError as exc:
        return Proof(_rule_of(exc, SEARCH), _RULE_IN_MESSAGE.sub("", str(exc), count=1).strip())
    got = expect.ids_of(data)
    missing, strangers = set(ids) - set(got), set(got) - set(ids)
    if missing or strangers or len(got) != len(set(got)):
        return Proof(SEARCH, f"a search for {term!r}, which exactly {len(ids)} customers carry in their name and "
                             f"email, returned {len(got)} items ({len(missing)} of them missing, {len(strangers)} "
                             f"others): {expect.describe(response)}")
    return Proof(total=int(response.json()["pagination"]["total"]))


# ---------------------------------------------------------------------------------------------- GET


def instant(value: Any, name: str) -> datetime:
    """A customer timestamp a check compares in time: one that is not RFC 3339 blocks the check by
    CUSTOMER-SHAPE (its order cannot be judged)."""
    try:
        return expect.timestamp(value, name)
    except AssertionError as exc:
        block("CUSTOMER-SHAPE", str(exc))


def read_back(api: ApiClient, customer_id: str, answered: Mapping[str, Any] | None = None,
              earlier: Collection[Mapping[str, Any]] = ()) -> dict[str, Any]:
    """GET a customer the check knows to exist, to see what the target stored (see `stored`)."""
    return stored(api.get(f"/customers/{customer_id}"), customer_id, answered, earlier)


def stored(response: httpx.Response, customer_id: str, answered: Mapping[str, Any] | None = None,
           earlier: Collection[Mapping[str, Any]] = ()) -> dict[str, Any]:
    """The customer of a GET the check made to read back what the target stored. A 200 without the
    success envelope, without JSON or without that customer blocks the check (ENV-SUCCESS,
    CONTENT-TYPE-JSON, GET-EQUALS); any other status fails it — the record the check wrote to is gone.
    With `answered` (the last write's answer) and `earlier` (states the target answered before it), a
    GET that serves one of those earlier states instead is a stale read: blocked by GET-EQUALS."""
    if response.status_code != 200:
        raise AssertionError(f"reading customer {customer_id} back failed — it should exist: "
                             f"{expect.describe(response)}")
    data = _envelope_or_block(expect.success, response, "ENV-SUCCESS")
    if not isinstance(data, dict) or data.get("id") != customer_id:
        block("GET-EQUALS", f"GET of existing customer {customer_id} answered 200 without that customer: "
                            f"{expect.describe(response)}")
    differs = expect.same_customer(data, dict(answered)) if answered is not None else []
    if differs and any(not expect.same_customer(data, dict(state)) for state in earlier):
        block("GET-EQUALS", f"GET of customer {customer_id} serves a state the target answered before the last "
                            f"write, not that write's answer: {differs}")
    return data


@dataclass(frozen=True)
class Step:
    """PATCHes of a customer and what GET shows once they were answered. Checks that share a customer take
    turns on it, each judged against the state the one before read back: a fault one of them finds does not
    show again in the next."""

    before: dict[str, Any]  # the customer as its create or the last GET showed it
    answers: list[httpx.Response]  # the step's PATCHes, in the order sent
    after: httpx.Response  # GET once they were answered

    def stored(self) -> dict[str, Any]:
        """The customer the GET after the step shows (see `stored`)."""
        return stored(self.after, self.before["id"])


def step(api: ApiClient, before: dict[str, Any], bodies: list[dict[str, Any]]) -> Step:
    path = f"/customers/{before['id']}"
    answers = [api.patch(path, body) for body in bodies]
    return Step(before, answers, api.get(path))


# ---------------------------------------------------------------------------------------- webhooks


def sentinel_arrived(delivery: Any, event_type: str, what: str, seconds: float) -> None:
    """A check that proves "no event came" waits first for the event of a valid change made after the
    requests it judges; without it the silence proves nothing (blocked by WEBHOOK-EVENTS)."""
    if delivery is None:
        block("WEBHOOK-EVENTS", f"the {event_type} of {what} did not arrive within {seconds:.0f} s, so the "
                                f"absence of other events proves nothing")
