"""§3 Delete and §4 Tickets: delete answers, the customer is gone everywhere, its tickets go with it;
tickets count on their customer and only a customer of the team can get one.

One dataset for the module: a customer that gets deleted (with two tickets) and one that stays (with
one ticket). A target without the Tickets API gets the ticket tests skipped, never passed."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import httpx
import pytest

from cstar_conformance import capabilities, expect
from cstar_conformance.client import ApiClient
from cstar_conformance.factory import EMAIL_DOMAIN, DataFactory
from cstar_conformance.session import Session
from cstar_conformance.waves import together

BAD_CUSTOMER = (400, 404, 422)


@dataclass
class Tickets:
    missing: str | None = None  # the skip reason when the target has no Tickets API
    doomed: list[httpx.Response] = field(default_factory=list)  # creates for the customer that gets deleted
    kept: list[httpx.Response] = field(default_factory=list)  # creates for the customer that stays
    doomed_after: httpx.Response | None = None  # GET of the doomed customer after its tickets

    def require(self) -> None:
        if self.missing:
            pytest.skip(self.missing)


@pytest.fixture(scope="module")
def doomed(factory: DataFactory) -> dict[str, Any]:
    return capabilities.create_customer(factory, "doomed")


@pytest.fixture(scope="module")
def keeper(factory: DataFactory, doomed: dict[str, Any]) -> dict[str, Any]:
    """Its email extends the doomed one's local part: a search for that part must find the keeper (which
    proves the search) and no longer the doomed customer."""
    return capabilities.create_customer(factory, "keeper", email=f"{shared_term(doomed)}-keeper@{EMAIL_DOMAIN}")


@pytest.fixture(scope="module")
def tickets(api: ApiClient, factory: DataFactory, doomed: dict[str, Any], keeper: dict[str, Any]) -> Tickets:
    """Two tickets for `doomed`, one for `keeper`; detects a target without the Tickets API."""
    first = factory.create_ticket(doomed["id"])
    if first.status_code in (404, 405):
        probe = api.get("/tickets", params={"customerId": doomed["id"]})
        if probe.status_code in (404, 405):
            return Tickets(missing=f"the target has no Tickets API (POST /tickets → {first.status_code}, "
                                   f"GET /tickets → {probe.status_code})")
    made = Tickets(doomed=[first, factory.create_ticket(doomed["id"])], kept=[factory.create_ticket(keeper["id"])])
    made.doomed_after = api.get(f"/customers/{doomed['id']}")
    return made


def ticket_ids(responses: list[httpx.Response], rule: str) -> list[str]:
    ids = []
    for response in responses:
        assert response.status_code in (200, 201), (
            f"[{rule}] set-up: creating a ticket for a customer of the team failed: {expect.describe(response)}")
        ids.append(expect.success(response, (200, 201))["id"])
    return ids


def shared_term(doomed: dict[str, Any]) -> str:
    """The doomed customer's email local part, which the keeper's address extends."""
    return str(doomed["email"]).split("@")[0]


@pytest.fixture(scope="module")
def listed_before_delete(api: ApiClient, doomed: dict[str, Any], keeper: dict[str, Any]) -> httpx.Response:
    """The search for the shared term while both exist: it shows whether the list's total is honest before
    the delete, so a wrong total afterwards can be blamed on the delete or not."""
    return api.get("/customers", params={"search": shared_term(doomed), "pageSize": 100})


@pytest.fixture(scope="module")
def deletion(api: ApiClient, factory: DataFactory, doomed: dict[str, Any], tickets: Tickets,
             listed_before_delete: httpx.Response) -> httpx.Response:
    """Deletes `doomed` once its tickets exist (the tickets fixture never skips)."""
    response = api.delete(f"/customers/{doomed['id']}")
    if response.status_code in (200, 204):
        factory.forget("customer", doomed["id"])
    return response


def require_deleted(deletion: httpx.Response, rule: str) -> None:
    assert 200 <= deletion.status_code < 300, (
        f"[{rule}] set-up: deleting the customer failed: {expect.describe(deletion)}")


@pytest.mark.rule("TICKET-COUNT")
def test_two_new_tickets_raise_ticket_count_by_two(doomed: dict[str, Any], tickets: Tickets) -> None:
    tickets.require()
    ticket_ids(tickets.doomed, "TICKET-COUNT")
    assert tickets.doomed_after is not None
    got = capabilities.stored(tickets.doomed_after, doomed["id"])
    want = doomed["ticketCount"] + 2
    assert got.get("ticketCount") == want, (
        f"[TICKET-COUNT] after 2 tickets ticketCount must be {want} (was {doomed['ticketCount']}): "
        f"{expect.describe(tickets.doomed_after)}")


def assert_no_ticket_for(api: ApiClient, customer_id: str, rule: str) -> None:
    response = api.get("/tickets", params={"customerId": customer_id})
    data, pagination = capabilities.listed(response)
    leaked = [t.get("id") for t in data if isinstance(t, dict) and t.get("customerId") == customer_id]
    assert not leaked and pagination["total"] == 0, (
        f"[{rule}] a ticket was created for a customer that is not the team's: {expect.describe(response)}")


@pytest.mark.rule("TICKET-BAD-CUSTOMER")
def test_ticket_for_an_unknown_customer_is_refused(api: ApiClient, factory: DataFactory, tickets: Tickets) -> None:
    tickets.require()
    stranger = str(uuid.uuid4())
    response = factory.create_ticket(stranger)
    assert response.status_code in BAD_CUSTOMER, (
        f"[TICKET-BAD-CUSTOMER] a ticket for an unknown customer must get 400/404/422: {expect.describe(response)}")
    assert_no_ticket_for(api, stranger, "TICKET-BAD-CUSTOMER")


@pytest.fixture(scope="module")
def foreign(other_api: ApiClient, factory: DataFactory) -> dict[str, Any]:
    """The other team's customer: this team may open no ticket for it (first), the other team one (later)."""
    return capabilities.create_customer(factory, "foreign", api=other_api)


@pytest.mark.rule("TICKET-BAD-CUSTOMER")
def test_ticket_for_another_teams_customer_is_refused(api: ApiClient, factory: DataFactory, foreign: dict[str, Any],
                                                      tickets: Tickets) -> None:
    tickets.require()
    response = factory.create_ticket(foreign["id"])  # this team's path and key, the other team's customer
    assert response.status_code in BAD_CUSTOMER, (
        f"[TICKET-BAD-CUSTOMER] a ticket for another team's customer must get 400/404/422: "
        f"{expect.describe(response)}")
    assert_no_ticket_for(api, foreign["id"], "TICKET-BAD-CUSTOMER")


@pytest.mark.rule("DELETE-STATUS")
def test_delete_answers_200_with_json_or_204_without_body(deletion: httpx.Response) -> None:
    if deletion.status_code == 204:
        assert deletion.content == b"", f"[DELETE-STATUS] 204 must have no body: {expect.describe(deletion)}"
    else:
        assert deletion.status_code == 200, f"[DELETE-STATUS] expected 200 or 204: {expect.describe(deletion)}"
        expect.success(deletion)


@pytest.mark.rule("DELETE-GONE")
def test_deleted_customer_is_404_and_gone_from_lists(api: ApiClient, doomed: dict[str, Any], keeper: dict[str, Any],
                                                     listed_before_delete: httpx.Response,
                                                     deletion: httpx.Response) -> None:
    require_deleted(deletion, "DELETE-GONE")
    path = f"/customers/{doomed['id']}"
    problems = []
    for response in (api.get(path), api.patch(path, {"notes": "after delete"}), api.delete(path)):
        if response.status_code != 404:
            problems.append(f"expected 404: {expect.describe(response)}")
    term = shared_term(doomed)
    found = capabilities.search(api, term, [keeper])
    if doomed["id"] in found.ids():
        problems.append(f"still in the list (only the keeper should match): {expect.describe(found.response)}")
    assert not problems, "[DELETE-GONE] " + "; ".join(problems)
    if found.pagination["total"] != len(found.data):
        before = capabilities.searched(api, listed_before_delete, term, [keeper])
        if before.pagination["total"] != len(before.data):
            capabilities.block("LIST-TOTAL-HASMORE", f"before the delete, the search for {term!r} listed "
                                                     f"{len(before.data)} customers but said total "
                                                     f"{before.pagination['total']}")
        raise AssertionError(f"[DELETE-GONE] still counted in the total (only the keeper should match): "
                             f"{expect.describe(found.response)}")


@pytest.mark.rule("DELETE-CASCADE")
def test_delete_removes_the_customers_tickets_only(api: ApiClient, factory: DataFactory, doomed: dict[str, Any],
                                                   keeper: dict[str, Any], tickets: Tickets,
                                                   deletion: httpx.Response) -> None:
    tickets.require()
    doomed_ids = ticket_ids(tickets.doomed, "DELETE-CASCADE")
    kept_ids = ticket_ids(tickets.kept, "DELETE-CASCADE")
    require_deleted(deletion, "DELETE-CASCADE")
    problems = []
    for ticket_id in doomed_ids:
        response = api.get(f"/tickets/{ticket_id}")
        if response.status_code == 404:
            factory.forget("ticket", ticket_id)
        else:
            problems.append(f"the deleted customer's ticket must be 404: {expect.describe(response)}")
    listed = api.get("/tickets", params={"customerId": doomed["id"]})
    data, pagination = capabilities.listed(listed)
    if any(t.get("id") in doomed_ids for t in data) or pagination["total"] != 0:
        problems.append(f"the deleted customer's tickets are still listed: {expect.describe(listed)}")
    for ticket_id in kept_ids:
        response = api.get(f"/tickets/{ticket_id}")
        if response.status_code != 200 or expect.success(response).get("customerId") != keeper["id"]:
            problems.append(f"another customer's ticket was touched: {expect.describe(response)}")
    assert not problems, "[DELETE-CASCADE] " + "; ".join(problems)


@pytest.mark.rule("AUTH-CROSS-TEAM")
def test_other_team_cannot_read_this_teams_tickets(other_api: ApiClient, keeper: dict[str, Any],
                                                   tickets: Tickets) -> None:
    """With its own key on its own path: a ticket of this team by id (403 or 404), and the tickets of this
    team's customer by customerId (a refusal or a list without them)."""
    tickets.require()
    ticket_id = ticket_ids(tickets.kept, "AUTH-CROSS-TEAM")[0]
    by_id = other_api.get(f"/tickets/{ticket_id}")
    expect.error(by_id, (403, 404))
    assert keeper["id"] not in by_id.text, f"[AUTH-CROSS-TEAM] the answer names the customer: {expect.describe(by_id)}"
    by_customer = other_api.get("/tickets", params={"customerId": keeper["id"]})
    assert by_customer.status_code < 500 and ticket_id not in by_customer.text, (
        f"[AUTH-CROSS-TEAM] another team lists this team's tickets by their customer's id: "
        f"{expect.describe(by_customer)}")


@pytest.mark.rule("TICKET-BAD-CUSTOMER")
def test_ticket_for_a_deleted_customer_is_refused(factory: DataFactory, doomed: dict[str, Any], tickets: Tickets,
                                                  deletion: httpx.Response) -> None:
    """After the cascade check in the file (a wrongly created ticket must not meet it): a deleted customer is
    no customer of the team any more."""
    tickets.require()
    require_deleted(deletion, "TICKET-BAD-CUSTOMER")
    response = factory.create_ticket(doomed["id"])
    assert response.status_code in BAD_CUSTOMER, (
        f"[TICKET-BAD-CUSTOMER] a ticket for a deleted customer must get 400/404/422: {expect.describe(response)}")


@pytest.mark.rule("AUTH-CROSS-TEAM")
def test_the_tickets_list_never_shows_another_teams_tickets(api: ApiClient, other_api: ApiClient,
                                                            factory: DataFactory, keeper: dict[str, Any],
                                                            foreign: dict[str, Any], tickets: Tickets) -> None:
    created = factory.create_ticket(foreign["id"], api=other_api)
    if created.status_code in (404, 405):
        pytest.skip(f"the target has no Tickets API (POST /tickets → {created.status_code})")
    ticket = expect.success(created, (200, 201))
    # both ways (this team's ticket of the kept customer, listed by the other team): a team condition
    # compared with `<=` instead of `==` (found by a mutant) leaks in one direction only
    ours = ticket_ids(tickets.kept, "AUTH-CROSS-TEAM")[0]
    for lister, customer_id, unseen in ((api, foreign["id"], ticket["id"]), (other_api, keeper["id"], ours)):
        response = lister.get("/tickets", params={"customerId": customer_id})
        if response.status_code in (400, 404, 422):  # no customer of the lister's team: refusing is fine
            expect.error(response, (400, 404, 422))
            continue
        data, pagination = capabilities.listed(response)
        leaked = [t for t in data if isinstance(t, dict) and t.get("id") == unseen]
        assert not leaked and pagination["total"] == 0, (
            f"[AUTH-CROSS-TEAM] a team's tickets list shows another team's ticket {unseen}: "
            f"{expect.describe(response)}")


# Found by machine-made mutants of the reference (docs/mutation-survivors.md): a delete that lowers the
# count by two, and a tickets list whose team condition is inverted.
@pytest.mark.rule("CUSTOMER-SHAPE", "TICKET-COUNT")
def test_deleting_a_ticket_leaves_ticket_count_or_lowers_it_by_one(api: ApiClient, factory: DataFactory,
                                                                   keeper: dict[str, Any], tickets: Tickets) -> None:
    """Last but one in the file: it deletes the keeper's ticket, which the checks before it read."""
    # three tickets: a count lowered by more than one (or halved) shows, where one ticket would hide it;
    # and the keeper as a bystander with a ticket of its own, whose count no other customer's ticket may
    # touch — each deletes one ticket while the other is watched, so an update that matches customers with
    # `>=` or `<=` instead of `==` (found by mutants) reaches the watched one in one of the two directions
    tickets.require()
    own = ticket_ids(tickets.kept, "TICKET-COUNT")[0]
    customer = capabilities.create_customer(factory, "ticket-delete")
    opened = together({n: partial(factory.create_ticket, customer["id"]) for n in range(3)})  # one wave (waves.py)
    made = [expect.success(opened[n], (200, 201)) for n in range(3)]
    count = capabilities.read_back(api, customer["id"]).get("ticketCount")
    assert count == customer["ticketCount"] + 3, (
        f"[TICKET-COUNT] three new tickets must raise ticketCount by three: {customer['ticketCount']} → {count!r}")
    delete_ticket(api, factory, made[0]["id"])
    after = expect.customer(capabilities.read_back(api, customer["id"]))  # [CUSTOMER-SHAPE]: an integer ≥ 0
    # §2: the number of the customer's tickets; §4: a delete may lower it (by the ticket deleted) or leave it
    assert after["ticketCount"] in (count, count - 1), (
        f"[TICKET-COUNT] deleting one ticket may lower ticketCount by one or leave it; {count} became "
        f"{after['ticketCount']!r}")
    problems = []
    watched = capabilities.read_back(api, keeper["id"]).get("ticketCount")
    if watched != keeper["ticketCount"] + len(tickets.kept):
        problems.append(f"deleting a ticket of {customer['id']} made the keeper's count "
                        f"{keeper['ticketCount'] + len(tickets.kept)} → {watched!r}")
    delete_ticket(api, factory, own)
    again = capabilities.read_back(api, customer["id"]).get("ticketCount")
    if again != after["ticketCount"]:
        problems.append(f"deleting the keeper's ticket made the count of {customer['id']} "
                        f"{after['ticketCount']} → {again!r}")
    assert not problems, f"[TICKET-COUNT] a ticket's delete changed another customer's ticketCount: {problems}"


def delete_ticket(api: ApiClient, factory: DataFactory, ticket_id: str) -> None:
    gone = api.delete(f"/tickets/{ticket_id}")
    assert gone.status_code in (200, 204), f"set-up: deleting a ticket failed: {expect.describe(gone)}"
    factory.forget("ticket", ticket_id)


MANY_TICKETS = 130  # past a byte's counter (127) and a cascade done in batches of 50


@pytest.mark.rule("TICKET-COUNT", "DELETE-CASCADE")
def test_a_customer_with_many_tickets_counts_them_all_and_takes_them_all_when_deleted(
        cstar: Session, api: ApiClient, factory: DataFactory) -> None:
    """130 tickets (the thorough profile only: 135 requests): ticketCount counts every one, and deleting the
    customer deletes every one."""
    if cstar.profile != "thorough":
        pytest.skip(f"{MANY_TICKETS} tickets for one customer: the thorough profile only")
    customer = capabilities.create_customer(factory, "many-tickets")
    opened = [factory.create_ticket(customer["id"]) for _ in range(MANY_TICKETS)]
    if opened[0].status_code in (404, 405):
        pytest.skip("the target has no Tickets API")
    ids = [r.json()["data"]["id"] for r in opened if r.status_code in (200, 201)]
    got = capabilities.read_back(api, customer["id"])
    assert got.get("ticketCount") == len(ids), (
        f"[TICKET-COUNT] {len(ids)} tickets opened, ticketCount {got.get('ticketCount')}")
    assert api.delete(f"/customers/{customer['id']}").status_code in (200, 204)
    factory.forget("customer", customer["id"])
    data, pagination = expect.listing(api.get("/tickets", params={"customerId": customer["id"], "pageSize": 100}),
                                      "DELETE-CASCADE")
    if pagination["total"] == 0:
        for ticket in ids:
            factory.forget("ticket", ticket)
    assert pagination["total"] == 0 and api.get(f"/tickets/{ids[-1]}").status_code == 404, (
        f"[DELETE-CASCADE] after the delete of a customer with {len(ids)} tickets, {pagination['total']} remain")
