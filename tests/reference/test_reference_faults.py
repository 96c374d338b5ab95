"""The faults of the contract's 2026-11-29 rules do exactly what their descriptions say (the suite's tests
for those rules are proven against them), and the clean reference does none of it."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from pytest_httpserver import HTTPServer

from cstar_conformance.reference.process import RunningReference


@pytest.fixture(scope="module")
def receiver() -> Iterator[HTTPServer]:
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    yield server
    server.stop()


def email(prefix: str = "f") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}@example.com"


def create(c: httpx.Client, **fields: Any) -> dict[str, Any]:
    response = c.post("/customers", json={"name": "Fault probe", "email": email()} | fields)
    assert response.status_code == 201, response.text
    return response.json()["data"]


@contextmanager
def hook(server: RunningReference, receiver: HTTPServer, events: list[str], team: int = 0) -> Iterator[str]:
    """A webhook registration at a fresh receiver path, removed afterwards (the clean server is shared)."""
    path = f"/h-{uuid.uuid4().hex[:10]}"
    receiver.expect_request(path).respond_with_data("ok")
    with server.client(team) as c:
        made = c.post("/webhooks", json={"url": receiver.url_for(path), "events": events})
        assert made.status_code == 201
        try:
            yield path
        finally:
            c.delete(f"/webhooks/{made.json()['data']['id']}")


def deliveries(receiver: HTTPServer, path: str, want: int = 1, wait: float = 1.5) -> list[dict[str, Any]]:
    """Payloads that reached `path`: waits until `want` arrived, then a little longer for any extra ones."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and sum(r.path == path for r, _ in receiver.log) < want:
        time.sleep(0.02)
    time.sleep(wait if want == 0 else 0.3)
    return [request.get_json() for request, _ in receiver.log if request.path == path]


Launch = Callable[..., RunningReference]


@pytest.fixture
def server(request: pytest.FixtureRequest, reference: RunningReference, launch: Launch) -> RunningReference:
    """The test's `fault` parameter switched on in a server of its own; no fault: the shared clean server."""
    fault = request.node.callspec.params["fault"]
    return launch("--fault", fault) if fault else reference


@pytest.mark.parametrize("fault", [None, "rejected-duplicate-emits-created"])
def test_a_refused_duplicate_create_sends_an_event_only_under_its_fault(
        server: RunningReference, receiver: HTTPServer, fault: str | None) -> None:
    with hook(server, receiver, ["customer.created"]) as path, server.client() as c:
        first = create(c)
        refused = c.post("/customers", json={"name": "The refused one", "email": first["email"]})
        assert refused.status_code == 409
        events = deliveries(receiver, path, want=2 if fault else 1, wait=1.0)
    customers = [event["data"]["customer"] for event in events]
    assert customers[0]["id"] == first["id"]
    if fault:
        assert len(events) == 2 and customers[1]["name"] == "The refused one"
        assert customers[1]["id"] not in (first["id"], None) and customers[1]["email"] == first["email"]
    else:
        assert len(events) == 1


@pytest.mark.parametrize("fault", [None, "rejected-patch-emits-updated"])
def test_an_invalid_patch_sends_an_event_only_under_its_fault(
        server: RunningReference, receiver: HTTPServer, fault: str | None) -> None:
    with hook(server, receiver, ["customer.updated"]) as path, server.client() as c:
        customer = create(c)
        assert c.patch(f"/customers/{customer['id']}", json={"notes": "x", "status": "archived"}).status_code == 400
        assert c.get(f"/customers/{customer['id']}").json()["data"] == customer
        events = deliveries(receiver, path, want=1 if fault else 0)
    if fault:
        assert len(events) == 1 and events[0]["data"]["customer"]["notes"] == customer["notes"]
    else:
        assert events == []


@pytest.mark.parametrize("fault", [None, "conflict-patch-partial-write"])
def test_a_patch_to_a_taken_email_writes_nothing_but_under_its_fault(server: RunningReference,
                                                                     fault: str | None) -> None:
    with server.client() as c:
        taken, other = create(c), create(c, notes="before")
        response = c.patch(f"/customers/{other['id']}", json={"email": taken["email"], "notes": "after"})
        assert response.status_code == 409
        stored = c.get(f"/customers/{other['id']}").json()["data"]
    assert stored["email"] == other["email"]
    assert stored["notes"] == ("after" if fault else "before")


@pytest.mark.parametrize("fault", [None, "cross-team-patch-writes"])
def test_another_teams_patch_is_refused_and_writes_nothing_but_under_its_fault(server: RunningReference,
                                                                              fault: str | None) -> None:
    with server.client() as mine:
        victim = create(mine, notes="mine")
        with server.client(team=1) as intruder:
            url = f"{server.base_url}/teams/{server.team_a['id']}/customers/{victim['id']}"
            response = intruder.patch(url, json={"notes": "changed by team B"})
        assert response.status_code == 403
        assert victim["id"] not in response.text
        stored = mine.get(f"/customers/{victim['id']}").json()["data"]
    assert stored["notes"] == ("changed by team B" if fault else "mine")


@pytest.mark.parametrize("fault", [None, "webhook-all-teams"])
def test_a_webhook_gets_another_teams_events_only_under_its_fault(
        server: RunningReference, receiver: HTTPServer, fault: str | None) -> None:
    with hook(server, receiver, ["*"], team=0) as path, server.client(team=1) as b:
        theirs = create(b)
        events = deliveries(receiver, path, want=1 if fault else 0)
    if fault:
        assert [(e["team_id"], e["data"]["customer"]["id"]) for e in events] == [(server.team_b["id"], theirs["id"])]
    else:
        assert events == []


@pytest.mark.parametrize("fault", [None, "pagesize-capped-50"])
def test_page_size_75_is_served_as_asked_but_under_its_fault(server: RunningReference,
        fault: str | None) -> None:
    token = uuid.uuid4().hex[:10]
    with server.client() as c:
        for i in range(60):
            create(c, name=f"Many {token} {i}")
        body = c.get("/customers", params={"search": token, "pageSize": 75}).json()
        hundred = c.get("/customers", params={"search": token, "pageSize": 100}).json()
        fifty = c.get("/customers", params={"search": token, "pageSize": 50}).json()
    size = 50 if fault else 75
    assert body["pagination"]["pageSize"] == size and len(body["data"]) == min(size, 60)
    assert hundred["pagination"]["pageSize"] == (50 if fault else 100)
    assert fifty["pagination"]["pageSize"] == 50 and len(fifty["data"]) == 50


@pytest.mark.parametrize("fault", [None, "email-lowercased"])
def test_the_address_keeps_its_letter_case_but_under_its_fault(server: RunningReference,
        fault: str | None) -> None:
    sent, patched = f"Mixed.Case+{uuid.uuid4().hex[:6]}@Example.COM", f"Other.{uuid.uuid4().hex[:6]}@Example.COM"
    with server.client() as c:
        customer = create(c, email=sent)
        after = c.patch(f"/customers/{customer['id']}", json={"email": patched}).json()["data"]
    assert customer["email"] == (sent.lower() if fault else sent)
    assert after["email"] == (patched.lower() if fault else patched)


@pytest.mark.parametrize("fault", [None, "email-plus-rejected"])
def test_plus_sub_addressing_is_accepted_but_under_its_fault(server: RunningReference,
        fault: str | None) -> None:
    with server.client() as c:
        response = c.post("/customers", json={"name": "Plus", "email": f"first.last+tag{uuid.uuid4().hex[:6]}"
                                                                         "@mail.example.co.uk"})
        plain = c.post("/customers", json={"name": "Plain", "email": email()})
    assert response.status_code == (400 if fault else 201)
    assert plain.status_code == 201


VALUES = {"n": 12, "f": 1.5, "t": True, "off": False, "s": "true", "twelve": "12"}
STORED = {
    None: VALUES,
    "customfields-stringified": {"n": "12", "f": "1.5", "t": "true", "off": "false", "s": "true", "twelve": "12"},
    "customfields-bool-as-int": {"n": 12, "f": 1.5, "t": 1, "off": 0, "s": "true", "twelve": "12"},
}


@pytest.mark.parametrize("fault", list(STORED))
def test_custom_field_values_keep_their_type_but_under_its_fault(server: RunningReference,
        fault: str | None) -> None:
    with server.client() as c:
        customer = create(c, customFields=VALUES)
        stored = c.get(f"/customers/{customer['id']}").json()["data"]["customFields"]
        patched = c.patch(f"/customers/{customer['id']}", json={"customFields": {"n": 13}}).json()["data"]
    def typed(values: dict[str, Any]) -> dict[str, tuple[str, Any]]:  # True == 1 in Python: compare types too
        return {key: (type(value).__name__, value) for key, value in values.items()}

    want = typed(STORED[fault])
    assert typed(customer["customFields"]) == want and typed(stored) == want
    assert patched["customFields"]["n"] == ("13" if fault == "customfields-stringified" else 13)


def test_a_real_server_bug_is_a_500_with_the_error_envelope(launch: Launch) -> None:
    server = launch("--fault", "malformed-id-500,malformed-json-500")
    with server.client() as c:
        for response in (c.get("/customers/not-a-uuid"),
                         c.post("/customers", content=b"{", headers={"Content-Type": "application/json"})):
            assert response.status_code == 500
            assert response.json() == {"success": False,
                                       "error": {"code": "internal_error", "message": "Internal server error"}}
        assert c.get("/customers").status_code == 200  # and the server goes on serving
