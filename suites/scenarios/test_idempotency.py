"""§3 Create: a repeated POST with the same Idempotency-Key and body replays the first response — to the
team that sent it, and to no other team."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from cstar_conformance import capabilities, expect
from cstar_conformance.client import ApiClient
from cstar_conformance.factory import DataFactory
from cstar_conformance.session import Session


@dataclass(frozen=True)
class Keyed:
    body: dict[str, Any]
    headers: dict[str, str]
    first: httpx.Response

    def created(self) -> dict[str, Any]:
        if not 200 <= self.first.status_code < 300:
            capabilities.block("CREATE-2XX", f"set-up: the first create failed: {expect.describe(self.first)}")
        return capabilities.created(self.first)


@pytest.fixture(scope="module")
def keyed(factory: DataFactory) -> Keyed:
    body = factory.customer_body("idem", notes="idempotent create")
    headers = {"Idempotency-Key": f"{factory.run_id}-{uuid.uuid4()}"}
    return Keyed(body, headers, factory.post_customer(body, headers=headers))


@pytest.mark.rule("CREATE-2XX")
def test_a_valid_create_carrying_an_idempotency_key_is_answered_2xx(keyed: Keyed) -> None:
    # the header is a SHOULD to honour, never a reason to fail the create (a store that breaks on the
    # first use of a key — found by a mutant — shows here, on this check, not only as blocked set-up)
    assert 200 <= keyed.first.status_code < 300, (
        f"[CREATE-2XX] a valid create that carries an Idempotency-Key must be answered 2xx like any other: "
        f"{expect.describe(keyed.first)}")
    expect.customer(capabilities.created(keyed.first))


@pytest.mark.rule("IDEMPOTENCY-KEY")
def test_repeated_create_with_the_same_idempotency_key_replays_and_creates_nothing(
        api: ApiClient, factory: DataFactory, keyed: Keyed) -> None:
    created = keyed.created()
    again = factory.post_customer(keyed.body, headers=keyed.headers)
    try:
        replayed = again.json().get("data")
    except (ValueError, AttributeError):
        replayed = None
    same_id = isinstance(replayed, dict) and replayed.get("id") == created["id"]
    assert again.status_code == keyed.first.status_code and same_id, (
        f"[IDEMPOTENCY-KEY] the repeated POST should replay the first response ({keyed.first.status_code}, id "
        f"{created['id']}): {expect.describe(again)}")
    holders = capabilities.holders(capabilities.search(api, keyed.body["email"], [created]), keyed.body["email"])
    assert len(holders) == 1, f"[IDEMPOTENCY-KEY] the repeated POST created another record: {holders}"


@pytest.mark.rule("AUTH-CROSS-TEAM")
def test_another_team_repeating_an_idempotency_key_never_gets_this_teams_answer(
        other_api: ApiClient, factory: DataFactory, keyed: Keyed) -> None:
    """The same key and body from another team (the address is free there): a customer of its own, or a
    refusal — never this team's stored answer."""
    created = keyed.created()
    response = factory.post_customer(keyed.body, other_api, headers=keyed.headers)
    assert created["id"] not in response.text, (
        f"[AUTH-CROSS-TEAM] another team repeating this team's Idempotency-Key got this team's customer "
        f"{created['id']}: {expect.describe(response)}")


@pytest.mark.rule("AUTH-401", "PK-READ-ONLY")
def test_a_repeat_without_the_teams_secret_key_is_never_replayed(cstar: Session, api: ApiClient,
                                                                 factory: DataFactory, keyed: Keyed) -> None:
    """The stored answer belongs to the caller who made it: the same key and body without a key, or with the
    team's publishable key, is refused like any such request."""
    keyed.created()
    callers = [("no key", api.with_key(None), (401,))]
    if cstar.target.team.publishable_key:
        callers.append(("the publishable key", api.with_key(cstar.target.team.publishable_key), (403,)))
    for label, client, wanted in callers:
        response = factory.post_customer(keyed.body, client, headers=keyed.headers)
        assert response.status_code in wanted, (
            f"[AUTH-401] a repeat with {label} of an Idempotency-Key must be refused: {expect.describe(response)}")


@pytest.mark.rule("REJECTED-CHANGES-NOTHING")
def test_a_key_reused_for_another_body_stores_nothing_when_refused(api: ApiClient, factory: DataFactory,
                                                                    keyed: Keyed) -> None:
    """The same Idempotency-Key with another body (another address): refused, it stores nothing — the address
    is found nowhere; accepted, it is a create of its own (a target that ignores keys)."""
    keyed.created()
    other = factory.customer_body("idem-other")
    response = factory.post_customer(other, headers=keyed.headers)
    if 200 <= response.status_code < 300:
        return
    found = api.get("/customers", params={"search": other["email"], "pageSize": 5})
    data, _ = expect.listing(found, "REJECTED-CHANGES-NOTHING")
    assert not data, (f"[REJECTED-CHANGES-NOTHING] a create refused {response.status_code} (a key reused for another "
                      f"body) stored {other['email']}: {expect.describe(found)}")
