"""Behaviour of the reference server over real HTTP (clean variant unless a test says otherwise)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
from pytest_httpserver import HTTPServer

from cstar_conformance.reference.process import RunningReference


def unique_email(prefix: str = "c") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}@example.com"


def create(client: httpx.Client, **fields: object) -> dict:
    body = {"name": "Jane Doe", "email": unique_email()} | fields
    response = client.post("/customers", json=body)
    assert response.status_code == 201, response.text
    return response.json()["data"]


def test_crud_round_trip(client: httpx.Client) -> None:
    created = create(client, tags=["vip"], customFields={"plan": "pro", "n": 10**40})
    assert created["status"] == "active" and created["sentiment"] == "neutral"
    assert created["notes"] is None and created["ticketCount"] == 0
    assert created["createdAt"].endswith("Z")
    got = client.get(f"/customers/{created['id']}")
    assert got.headers["content-type"] == "application/json"
    assert got.json() == {"success": True, "data": created}

    patched = client.patch(f"/customers/{created['id']}", json={"sentiment": "happy",
                                                                 "customFields": {"plan": None}})
    assert patched.status_code == 200
    data = patched.json()["data"]
    assert data["sentiment"] == "happy" and data["tags"] == ["vip"]
    assert data["customFields"] == {"n": 10**40}

    listed = client.get("/customers", params={"search": created["email"].upper()}).json()
    assert [c["id"] for c in listed["data"]] == [created["id"]]
    assert listed["pagination"] == {"total": 1, "page": 1, "pageSize": 20, "hasMore": False}

    deleted = client.delete(f"/customers/{created['id']}")
    assert deleted.json() == {"success": True, "data": {"id": created["id"], "deleted": True}}
    assert client.get(f"/customers/{created['id']}").status_code == 404


def test_second_create_with_same_email_is_409(client: httpx.Client) -> None:
    first = create(client)
    again = client.post("/customers", json={"name": "Other", "email": first["email"].upper()})
    assert again.status_code == 409
    assert again.json()["success"] is False and again.json()["error"]["code"] == "email_taken"


def test_same_email_in_other_team_is_accepted(reference: RunningReference, client: httpx.Client) -> None:
    first = create(client)
    with reference.client(team=1) as other:
        assert other.post("/customers", json={"name": "B", "email": first["email"]}).status_code == 201


def test_other_teams_path_is_403(reference: RunningReference, client: httpx.Client) -> None:
    response = client.get(f"{reference.base_url}/teams/{reference.team_b['id']}/customers")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "team_access_denied"


def test_delete_cascades_to_tickets(client: httpx.Client) -> None:
    customer = create(client)
    ticket = client.post("/tickets", json={"title": "Help", "customerId": customer["id"]})
    assert ticket.status_code == 201
    assert client.get(f"/customers/{customer['id']}").json()["data"]["ticketCount"] == 1
    assert client.delete(f"/customers/{customer['id']}").status_code == 200
    assert client.get(f"/tickets/{ticket.json()['data']['id']}").status_code == 404
    assert client.post("/customers", json={"name": "Again", "email": customer["email"]}).status_code == 201


def _concurrent_creates(server: RunningReference, count: int = 10) -> list[int]:
    email = unique_email("race")
    with server.client() as c, ThreadPoolExecutor(count) as pool:
        return sorted(pool.map(
            lambda i: c.post("/customers", json={"name": f"N{i}", "email": email}).status_code, range(count)))


def test_concurrent_creates_of_one_email_yield_one_201(reference: RunningReference) -> None:
    statuses = _concurrent_creates(reference)
    assert statuses.count(201) == 1 and statuses.count(409) == 9


def test_email_unique_race_fault_lets_concurrent_creates_win(launch: Callable[..., RunningReference]) -> None:
    statuses = _concurrent_creates(launch("--fault", "email-unique-race"))
    assert statuses.count(201) >= 2


def test_webhook_delivery_is_signed(client: httpx.Client, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    hook = client.post("/webhooks", json={"url": httpserver.url_for("/hook"), "events": ["customer.created"]})
    assert hook.status_code == 201
    secret = hook.json()["data"]["secret"]
    try:
        customer = create(client, customFields={"k": "v"})
        deadline = time.monotonic() + 5
        while not httpserver.log and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(httpserver.log) == 1
        request = httpserver.log[0][0]
        raw = request.get_data()
        t, v1 = (part.split("=", 1)[1] for part in request.headers["X-Signature"].split(","))
        assert abs(int(t) - time.time()) < 300
        assert hmac.compare_digest(v1, hmac.new(secret.encode(), f"{t}.".encode() + raw,
                                                hashlib.sha256).hexdigest())
        payload = json.loads(raw)
        assert payload["type"] == request.headers["X-Event-Type"] == "customer.created"
        assert payload["data"]["customer"]["custom_fields"] == {"k": "v"}
        assert payload["data"]["customer"]["id"] == customer["id"]
    finally:
        client.delete(f"/webhooks/{hook.json()['data']['id']}")


def test_undefined_method_is_405_with_allow(client: httpx.Client) -> None:
    customer = create(client)
    response = client.put(f"/customers/{customer['id']}", json={"name": "X"})
    assert response.status_code == 405
    assert set(response.headers["allow"].split(", ")) == {"GET", "PATCH", "DELETE"}
    assert response.json()["success"] is False


def test_malformed_json_is_400(client: httpx.Client) -> None:
    response = client.post("/customers", content=b'{"name": "x",', headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_json"


def test_absurd_inputs_are_4xx_never_5xx(client: httpx.Client) -> None:
    for params in ({"page": "9" * 30}, {"pageSize": "-1"}, {"page": "1.5"}, {"search": "\x00" * 10_000}):
        assert client.get("/customers", params=params).status_code in (200, 400), params
    for body in (b"[]", b"null", b'{"name": "\\ud800", "email": "a@b.co"}', b'{"name": 1e999}', b"\xff"):
        assert client.post("/customers", content=body).status_code == 400, body
    assert client.get("/customers/%C3%BC").status_code == 404


def test_alt_variant_takes_the_other_legal_choices(launch: Callable[..., RunningReference]) -> None:
    server = launch("--variant", "alt")
    with server.client() as c:
        created = c.post("/customers", json={"name": "A", "email": unique_email()}).json()
        assert created["data"]["notes"] == "" and created["meta"]["requestId"].startswith("req_")
        assert c.get("/customers", params={"pageSize": "500"}).json()["pagination"]["pageSize"] == 100
        assert c.put(f"/customers/{created['data']['id']}", json={}).status_code == 404
        assert c.post("/customers", json={"name": "A"}).status_code == 422
        assert c.delete(f"/customers/{created['data']['id']}").status_code == 204


def test_stats_counts_every_request_the_server_received(reference: RunningReference) -> None:
    """Self-tests compare the suite's own request count with this number."""
    stats_url = reference.base_url.removesuffix("/api/v1") + "/_reference/stats"
    before = httpx.get(stats_url).json()["requests"]
    with reference.client() as c:
        c.get("/customers")
        c.get("/customers", headers={"Authorization": "Bearer nope"})
        c.put("/customers")
    assert httpx.get(stats_url).json()["requests"] - before == 3
