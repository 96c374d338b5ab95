"""§3 Create / Update / Delete: the email is unique per team — duplicates, letter case, other teams,
PATCH conflicts, reuse after delete, and concurrent creates of one new address."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from cstar_conformance import capabilities, expect
from cstar_conformance.client import ApiClient
from cstar_conformance.datasets import upper_but
from cstar_conformance.factory import DataFactory
from cstar_conformance.session import Session

CLIENT_ERRORS = tuple(range(400, 500))
SUCCESS_2XX = tuple(range(200, 300))
# creates of one address released together: any two that overlap show a check-then-insert race; thorough sends
# more, for the narrower windows of real stacks
CONCURRENT_CREATES = {"thorough": 10}
CONCURRENT_CREATES_DEFAULT = 4


def holders(api: ApiClient, email: str, witness: dict[str, Any]) -> list[dict[str, Any]]:
    """The team's customers whose address is `email`, in any letter case (one search for the address,
    proven by `witness`, a customer known to hold it)."""
    return capabilities.holders(capabilities.search(api, email, [witness]), email)


@pytest.fixture(scope="module")
def duplicate(factory: DataFactory) -> tuple[dict[str, Any], httpx.Response]:
    """A customer, and a second create that reuses its address exactly (other name and notes). The checks below
    that only need an address somebody holds use that customer too (read-only: a wrongly accepted create or PATCH
    of theirs adds or changes another record, never this one; its holders are counted first, in file order)."""
    first = capabilities.create_customer(factory, "dup", notes="the first holder")
    second = factory.customer_body("dup-second", email=first["email"], notes="the second attempt")
    return first, factory.post_customer(second)


@pytest.mark.rule("EMAIL-UNIQUE", "ENV-ERROR")
def test_second_create_with_the_same_email_is_rejected_and_creates_nothing(
        api: ApiClient, duplicate: tuple[dict[str, Any], httpx.Response]) -> None:
    first, response = duplicate
    assert 400 <= response.status_code < 500, (
        f"[EMAIL-UNIQUE] a duplicate email must be refused with a 4xx: {expect.describe(response)}")
    expect.error(response, CLIENT_ERRORS)
    found = holders(api, first["email"], first)
    assert len(found) == 1, f"[EMAIL-UNIQUE] {len(found)} customers hold {first['email']}: {found}"
    diffs = expect.same_customer(found[0], first)
    assert not diffs, f"[EMAIL-UNIQUE] the first record changed after the duplicate create: {diffs}"


@pytest.mark.rule("EMAIL-UNIQUE-409")
def test_second_create_with_the_same_email_is_409(duplicate: tuple[dict[str, Any], httpx.Response]) -> None:
    _, response = duplicate
    assert response.status_code == 409, (
        f"[EMAIL-UNIQUE-409] a duplicate email should be answered with 409: {expect.describe(response)}")


@pytest.mark.rule("EMAIL-UNIQUE-CASE")
def test_duplicate_email_in_other_letter_case_is_rejected(
        factory: DataFactory, duplicate: tuple[dict[str, Any], httpx.Response]) -> None:
    first, _ = duplicate
    shouted = upper_but(first["email"], factory.run_id)
    assert shouted != first["email"], "set-up: the address has no letters to change"
    response = factory.post_customer(factory.customer_body("case-second", email=shouted))
    assert 400 <= response.status_code < 500, (
        f"[EMAIL-UNIQUE-CASE] {shouted} duplicates {first['email']} and should be refused: "
        f"{expect.describe(response)}")


@pytest.mark.rule("EMAIL-OTHER-TEAM-OK")
def test_same_email_in_another_team_is_accepted(other_api: ApiClient, factory: DataFactory,
                                               duplicate: tuple[dict[str, Any], httpx.Response]) -> None:
    mine, _ = duplicate
    response = factory.post_customer(factory.customer_body("otherteam-b", email=mine["email"]), api=other_api)
    assert 200 <= response.status_code < 300, (
        f"[EMAIL-OTHER-TEAM-OK] another team's use of {mine['email']} must not block this one: "
        f"{expect.describe(response)}")
    theirs = capabilities.created(response)
    assert theirs["email"] == mine["email"] and theirs["id"] != mine["id"], (
        f"[EMAIL-OTHER-TEAM-OK] the other team's customer is not a new record with that email: {theirs!r}")


@pytest.fixture(scope="module")
def conflict(api: ApiClient, factory: DataFactory,
             duplicate: tuple[dict[str, Any], httpx.Response]) -> capabilities.Step:
    """A second customer's PATCH to the duplicate check's address, and its GET afterwards."""
    taken, _ = duplicate
    other = capabilities.create_customer(factory, "conflict-b", notes="must stay")
    return capabilities.step(api, other, [{"email": taken["email"], "notes": "changed with a taken email"}])


@pytest.mark.rule("PATCH-EMAIL-CONFLICT", "ENV-ERROR")
def test_patch_to_another_customers_email_is_rejected_and_changes_nothing(
        conflict: capabilities.Step, duplicate: tuple[dict[str, Any], httpx.Response]) -> None:
    taken, _ = duplicate
    response, other = conflict.answers[0], conflict.before
    assert 400 <= response.status_code < 500, (
        f"[PATCH-EMAIL-CONFLICT] {taken['email']} belongs to another customer; the PATCH must be refused: "
        f"{expect.describe(response)}")
    expect.error(response, CLIENT_ERRORS)
    diffs = expect.same_customer(conflict.stored(), other)
    assert not diffs, f"[PATCH-EMAIL-CONFLICT] the refused PATCH changed the customer: {diffs}"


@pytest.mark.rule("PATCH-OWN-EMAIL-OK", "EMAIL-ORDINARY")
def test_patch_to_own_email_in_any_letter_case_is_no_conflict(api: ApiClient, factory: DataFactory,
                                                              conflict: capabilities.Step) -> None:
    """And the address is then stored exactly as sent: a PATCH that changes only its letter case is a change.
    On PATCH-EMAIL-CONFLICT's customer, as its GET showed it after the refused PATCH."""
    me = conflict.stored()
    path = f"/customers/{me['id']}"
    for email in (me["email"], upper_but(me["email"], factory.run_id)):
        response = api.patch(path, {"email": email})
        assert 200 <= response.status_code < 300, (
            f"[PATCH-OWN-EMAIL-OK] setting the customer's own email {email} again is no conflict: "
            f"{expect.describe(response)}")
        got = expect.success(response, SUCCESS_2XX)
        assert str(got.get("email", "")).lower() == me["email"].lower(), (
            f"[PATCH-OWN-EMAIL-OK] the email became something else: {expect.describe(response)}")
        assert got.get("email") == email, (
            f"[EMAIL-ORDINARY] the address must come back exactly as sent (letter case included) after a "
            f"PATCH: sent {email!r}, got {got.get('email')!r}: {expect.describe(response)}")


@pytest.mark.rule("DELETE-EMAIL-REUSABLE")
def test_email_is_free_again_after_delete(api: ApiClient, factory: DataFactory) -> None:
    gone = capabilities.create_customer(factory, "reuse")
    deleted = api.delete(f"/customers/{gone['id']}")
    assert deleted.status_code in (200, 204), f"set-up: delete failed: {expect.describe(deleted)}"
    factory.forget("customer", gone["id"])
    response = factory.post_customer(factory.customer_body("reuse-again", email=gone["email"]))
    assert 200 <= response.status_code < 300, (
        f"[DELETE-EMAIL-REUSABLE] {gone['email']} should be free after its customer was deleted: "
        f"{expect.describe(response)}")


@pytest.mark.rule("EMAIL-UNIQUE-CONCURRENT")
def test_concurrent_creates_of_one_new_email_let_exactly_one_win(cstar: Session, api: ApiClient,
                                                                 factory: DataFactory) -> None:
    creates = CONCURRENT_CREATES.get(cstar.profile, CONCURRENT_CREATES_DEFAULT)
    email = factory.email("race")
    bodies = [factory.customer_body(f"race{i}", email=email) for i in range(creates)]
    barrier = threading.Barrier(creates)

    # every other create carries an Idempotency-Key of its own (a client that retries safely): the header
    # changes nothing here, and a store that locks too late for it (found by a mutant: SQLite's write lock
    # taken at the first write instead of at BEGIN) answers those creates 500 instead of 409
    keys = [{"Idempotency-Key": f"{factory.run_id}-race-{uuid.uuid4()}"} if i % 2 else None
            for i in range(creates)]

    def create(index: int) -> httpx.Response:
        barrier.wait(timeout=10)
        return factory.post_customer(bodies[index], headers=keys[index])

    with ThreadPoolExecutor(max_workers=creates) as pool:
        responses = list(pool.map(create, range(creates)))
    statuses = sorted(r.status_code for r in responses)
    won = [r for r in responses if 200 <= r.status_code < 300]
    refused = [r for r in responses if 400 <= r.status_code < 500]
    assert len(won) == 1 and len(refused) == creates - 1, (
        f"[EMAIL-UNIQUE-CONCURRENT] {creates} concurrent creates of {email}: want exactly one 2xx "
        f"and the rest 4xx, got statuses {statuses}")
    winner = expect.success(won[0], SUCCESS_2XX)
    if not isinstance(winner, dict) or not isinstance(winner.get("id"), str):
        capabilities.block("CREATE-2XX", f"the winning create did not return the customer: {expect.describe(won[0])}")
    found = holders(api, email, winner)
    assert len(found) == 1, f"[EMAIL-UNIQUE-CONCURRENT] {len(found)} customers hold {email}: {found}"


# Found by machine-made mutants of the reference (docs/mutation-survivors.md): a PATCH conflict query
# whose team condition is wrong looks into the other team.
def _patch_email(api: ApiClient, customer: dict[str, Any], email: str, whose: str) -> None:
    response = api.patch(f"/customers/{customer['id']}", {"email": email})
    assert 200 <= response.status_code < 300, (
        f"[PATCH-KEEPS-OMITTED] {email} belongs only to {whose} team's customer, and an address is unique per team "
        f"(EMAIL-OTHER-TEAM-OK): the PATCH must change the email: {expect.describe(response)}")
    got = expect.success(response, SUCCESS_2XX)
    assert isinstance(got, dict) and got.get("email") == email, (
        f"[PATCH-KEEPS-OMITTED] the PATCH answered without the new email {email}: {expect.describe(response)}")
    stored = capabilities.read_back(api, customer["id"])
    assert stored.get("email") == email, (
        f"[PATCH-KEEPS-OMITTED] the new email {email} was not stored: GET says {stored.get('email')!r}")


@pytest.mark.rule("PATCH-KEEPS-OMITTED", "EMAIL-OTHER-TEAM-OK")
def test_patch_to_an_address_used_only_in_another_team_is_accepted_both_ways(
        api: ApiClient, other_api: ApiClient, factory: DataFactory) -> None:
    # both directions: a conflict query whose team condition is wrong (`!=`, `<`, `>=`, none) looks into
    # the other team for one of the two teams at least
    mine = capabilities.create_customer(factory, "patch-xteam-a")
    theirs = capabilities.create_customer(factory, "patch-xteam-b", api=other_api)
    _patch_email(api, mine, theirs["email"], "the other")
    mine_again = capabilities.create_customer(factory, "patch-xteam-c")
    _patch_email(other_api, theirs, mine_again["email"], "this")
