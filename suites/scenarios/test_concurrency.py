"""Requests in flight together, released at one instant (every request but its last byte on its own connection,
then every last byte at once): two PATCHes of one customer naming different fields, two tickets for one
customer, both teams listing at once. The contract model judges each batch — some serial order of its
requests must explain every answer — and the read-backs after it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pytest

from cstar_conformance import capabilities, expect
from cstar_conformance.client import ApiClient
from cstar_conformance.factory import DataFactory
from cstar_conformance.release import Held, release_together

LANDING_STAGGER = 0.03  # the create after the list: inside the time a server spends serving the list


@pytest.fixture(scope="module")
def raced(factory: DataFactory) -> dict[str, Any]:
    """One customer for the PATCHes in flight together, then for the tickets opened together (its ticketCount is
    untouched by the PATCHes; its address, by which the ticket check lists it, too)."""
    return capabilities.create_customer(factory, "race")


@pytest.mark.rule("PATCH-NO-LOST-UPDATE", "PATCH-KEEPS-OMITTED")
def test_two_patches_of_different_fields_in_flight_together_both_land(api: ApiClient, factory: DataFactory,
                                                                       raced: dict[str, Any]) -> None:
    made = raced
    notes, tags = f"set by one PATCH {factory.unique('n')}", [f"set-by-the-other-{factory.unique('t')}"]
    answers = release_together(api, [Held("PATCH", f"/customers/{made['id']}", {"notes": notes}),
                                     Held("PATCH", f"/customers/{made['id']}", {"tags": tags})])
    assert all(a is not None and 200 <= a.status < 300 for a in answers), (
        f"[PATCH-KEEPS-OMITTED] two valid PATCHes in flight together: {[a and a.status for a in answers]}")
    got = capabilities.read_back(api, made["id"])
    assert got.get("notes") == notes and got.get("tags") == tags, (
        f"[PATCH-NO-LOST-UPDATE] after two PATCHes of different fields in flight together, one was lost: "
        f"notes {got.get('notes')!r}, tags {got.get('tags')!r}")


@pytest.mark.rule("TICKET-COUNT")
def test_two_tickets_opened_together_raise_ticket_count_by_two(api: ApiClient, factory: DataFactory,
                                                               raced: dict[str, Any]) -> None:
    """Read by GET and in a list (listed before the tickets too: a list cache keyed by updatedAt shows here)."""
    made = raced
    listed = {"search": made["email"], "pageSize": 5}
    api.get("/customers", params=listed)
    body = {"title": f"Opened together {factory.run_id}", "customerId": made["id"]}
    answers = release_together(api, [Held("POST", "/tickets", body), Held("POST", "/tickets", body)])
    if any(a is not None and a.status in (404, 405) for a in answers):
        pytest.skip("the target has no Tickets API")
    opened = 0
    for answer in answers:
        data = (answer.json() or {}).get("data") if answer is not None and 200 <= answer.status < 300 else None
        if isinstance(data, dict) and isinstance(data.get("id"), str):
            factory.track("ticket", data["id"], customer=made["id"])
            opened += 1
    got = capabilities.read_back(api, made["id"])
    assert got.get("ticketCount") == opened, (
        f"[TICKET-COUNT] {opened} tickets opened together, ticketCount {got.get('ticketCount')}")
    data, _ = expect.listing(api.get("/customers", params=listed), "TICKET-COUNT")
    counts = [c.get("ticketCount") for c in data if c.get("id") == made["id"]]
    assert counts in ([opened], []), f"[TICKET-COUNT] {opened} tickets opened, the list says {counts}"


@dataclass(frozen=True)
class TwoTeams:
    token: str  # in the names of all three
    tag: str  # in the tags of all three
    mine: list[dict[str, Any]]  # two of this team
    theirs: dict[str, Any]  # one of the other team


@pytest.fixture(scope="module")
def two_teams(factory: DataFactory, other_api: ApiClient) -> TwoTeams:
    """Customers of both teams that share a token and a tag, read (never changed) by the two checks below."""
    token, tag = factory.unique("both"), factory.unique("shared-tag")
    mine = [capabilities.create_customer(factory, f"both-a{n}", name=f"Both {token}", tags=[tag]) for n in (1, 2)]
    theirs = capabilities.create_customer(factory, "both-b", api=other_api, name=f"Both {token}", tags=[tag])
    return TwoTeams(token, tag, mine, theirs)


@pytest.mark.rule("LIST-TEAM-ONLY", "LIST-TOTAL-HASMORE")
def test_both_teams_listing_one_query_at_once_and_in_turn_see_their_own(api: ApiClient, other_api: ApiClient,
                                                                       two_teams: TwoTeams) -> None:
    """Each team has a customer carrying one token; each team's list for that token, asked at one instant and
    then one after the other, holds its own customer only, and its total counts it alone."""
    token, mine, theirs = two_teams.token, two_teams.mine, [two_teams.theirs]
    path = f"/customers?{urlencode({'search': token, 'pageSize': 20})}"
    release_together(api, [Held("GET", path), Held("GET", path, client=other_api)])
    for client, own, foreign in ((api, mine, theirs), (other_api, theirs, mine)):  # in turn: a cache shows here
        data, pagination = expect.listing(client.get(path), "LIST-TEAM-ONLY")
        ids = set(expect.ids_of(data))
        assert not ids & {c["id"] for c in foreign} and pagination["total"] == len(own), (
            f"[LIST-TEAM-ONLY] team {client.team_id}'s list for {token} holds {sorted(ids)} (total "
            f"{pagination['total']}); {len(own)} of them are its own")


@pytest.mark.rule("LIST-TEAM-ONLY", "AUTH-CROSS-TEAM")
def test_a_search_for_another_teams_address_or_tag_finds_none_of_its_customers(
        api: ApiClient, two_teams: TwoTeams) -> None:
    """The other team's customer carries a tag this team's customers carry too."""
    theirs, tag = two_teams.theirs, two_teams.tag
    for params in ({"search": theirs["email"]}, {"tag": tag}):
        data, _ = expect.listing(api.get("/customers", params=params), "LIST-TEAM-ONLY")
        assert theirs["id"] not in expect.ids_of(data), (
            f"[LIST-TEAM-ONLY] {params} in this team listed the other team's customer {theirs['id']}")


@pytest.mark.rule("AUTH-CROSS-TEAM")
def test_another_teams_webhook_registration_cannot_be_deleted(api: ApiClient, other_api: ApiClient,
                                                              factory: DataFactory) -> None:
    response = factory.create_webhook(f"https://{factory.run_id}.invalid/other-team-hook", ["*"], api=other_api)
    if response.status_code in (404, 405):
        pytest.skip("the target has no webhook registration")
    hook: Any = expect.success(response, (200, 201))
    refused = api.delete(f"/webhooks/{hook['id']}")
    if other_api.delete(f"/webhooks/{hook['id']}").status_code in (200, 202, 204, 404):
        factory.forget("webhook", hook["id"])
    assert refused.status_code in (403, 404), (
        f"[AUTH-CROSS-TEAM] this team's key deleted the other team's webhook registration: {expect.describe(refused)}")


@pytest.mark.rule("CREATE-2XX", "CREATE-ROUNDTRIP", "IDEMPOTENCY-KEY")
def test_creates_in_flight_together_each_answer_their_own_customer(api: ApiClient, factory: DataFactory) -> None:
    """Two creates of two addresses at one instant: each answer is its own customer. Then two creates of one body
    with one Idempotency-Key at one instant: one customer, the other answer its replay."""
    bodies = [factory.customer_body("together"), factory.customer_body("together")]
    answers = release_together(api, [Held("POST", "/customers", body) for body in bodies])
    seen = []
    for body, answer in zip(bodies, answers, strict=True):
        data = (answer.json() or {}).get("data") if answer is not None and 200 <= answer.status < 300 else None
        if isinstance(data, dict) and isinstance(data.get("id"), str):
            factory.track("customer", data["id"])
            seen.append(data.get("email"))
        assert isinstance(data, dict) and data.get("email") == body["email"], (
            f"[CREATE-ROUNDTRIP] a create of {body['email']} in flight with another answered "
            f"{answer and answer.status}: {data!r:.300}")
    keyed = factory.customer_body("keyed-together")
    key = {"Idempotency-Key": f"{factory.run_id}-{factory.unique('k')}"}
    answers = release_together(api, [Held("POST", "/customers", keyed, key), Held("POST", "/customers", keyed, key)])
    ids = set()
    for answer in answers:
        data = (answer.json() or {}).get("data") if answer is not None and 200 <= answer.status < 300 else None
        if isinstance(data, dict) and isinstance(data.get("id"), str):
            factory.track("customer", data["id"])
            ids.add(data["id"])
    assert len(ids) <= 1, f"[IDEMPOTENCY-KEY] one key and one body in flight together made {len(ids)} customers"


@pytest.mark.rule("LIST-TOTAL-HASMORE")
def test_a_list_read_while_a_create_lands_is_honest(api: ApiClient, factory: DataFactory) -> None:
    """A create of a matching customer landing while a list is being served (released 30 ms after it: a server
    that counts the total apart from reading the page has a window between the two): the list may or may not hold
    the new customer, but its total, its page and hasMore agree with one another."""
    token = factory.unique("landing")
    capabilities.create_customer(factory, "landing-1", name=f"Landing {token}")
    path = f"/customers?{urlencode({'search': token, 'pageSize': 20})}"
    answers = release_together(api, [Held("GET", path),
                                     Held("POST", "/customers", factory.customer_body("landing-2",
                                                                                      name=f"Landing {token}"))],
                               stagger=LANDING_STAGGER)
    created = answers[1]
    data = (created.json() or {}).get("data") if created is not None and 200 <= created.status < 300 else None
    if isinstance(data, dict) and isinstance(data.get("id"), str):
        factory.track("customer", data["id"])
    listing = answers[0]
    assert listing is not None and listing.status == 200, f"[LIST-TOTAL-HASMORE] the list answered {listing}"
    body = listing.json()
    items, total = body.get("data") or [], (body.get("pagination") or {}).get("total")
    assert total == len(items), f"[LIST-TOTAL-HASMORE] one page of {len(items)} items says total {total}"
