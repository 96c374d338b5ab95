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
import pytest
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


JSON = {"Content-Type": "application/json"}
CLIENT_MISTAKES: dict[str, tuple[str, str, bytes | None, dict[str, str]]] = {
    "truncated JSON": ("POST", "/customers", b'{"name": "x",', JSON),
    "JSON array": ("POST", "/customers", b"[]", JSON),
    "JSON null": ("POST", "/customers", b"null", JSON),
    "JSON string": ("POST", "/customers", b'"customer"', JSON),
    "empty body": ("POST", "/customers", b"", JSON),
    "lone surrogate": ("POST", "/customers", b'{"name": "\\ud800", "email": "a@b.co"}', JSON),
    "surrogate key": ("POST", "/customers", b'{"name": "x", "email": "a@b.co", "customFields": {"\\udfff": 1}}', JSON),
    "NaN": ("POST", "/customers", b'{"name": "x", "email": "a@b.co", "customFields": {"n": NaN}}', JSON),
    "Infinity": ("POST", "/customers", b'{"name": "x", "email": "a@b.co", "customFields": {"n": -Infinity}}', JSON),
    "huge float": ("POST", "/customers", b'{"name": 1e999, "email": "a@b.co"}', JSON),
    "5000-digit integer": ("POST", "/customers", b'{"name": "x", "email": "a@b.co", "customFields": {"n": '
                           + b"9" * 5000 + b"}}", JSON),
    "deep nesting": ("POST", "/customers", b'{"name": "x", "email": "a@b.co", "customFields": {"n": '
                     + b"[" * 5000 + b"]" * 5000 + b"}}", JSON),
    "NUL in the email": ("POST", "/customers", b'{"name": "x", "email": "a\\u0000b@b.co"}', JSON),
    "invalid UTF-8": ("POST", "/customers", b'{"name": "\xff\xfe", "email": "a@b.co"}', JSON),
    "Latin-1 body": ("POST", "/customers", '{"name": "Zo\u00eb", "email": "a@b.co"}'.encode("latin-1"), JSON),
    "no Content-Type": ("POST", "/customers", b'{"name": "x", "email": "a@b.co"}', {}),
    "text/plain": ("POST", "/customers", b'{"name": "x", "email": "a@b.co"}', {"Content-Type": "text/plain"}),
    "form body": ("POST", "/customers", b"name=x&email=a%40b.co",
                  {"Content-Type": "application/x-www-form-urlencoded"}),
    "oversize body": ("POST", "/customers", b'{"name": "' + b"x" * 1_100_000 + b'", "email": "a@b.co"}', JSON),
    "PATCH with an array": ("PATCH", "/customers/{id}", b"[]", JSON),
    "PATCH with bad JSON": ("PATCH", "/customers/{id}", b"{", JSON),
    "PATCH with no body": ("PATCH", "/customers/{id}", None, {}),
    "ticket with a number title": ("POST", "/tickets", b'{"title": 5, "customerId": "x"}', JSON),
    "webhook with a bad URL": ("POST", "/webhooks", b'{"url": "ftp://x", "events": ["*"]}', JSON),
    "webhook with no events": ("POST", "/webhooks", b'{"url": "http://127.0.0.1:1/x", "events": []}', JSON),
    "page=5000 digits": ("GET", "/customers?page=" + "9" * 5000, None, {}),
    "pageSize=-1": ("GET", "/customers?pageSize=-1", None, {}),
    "page=1.5": ("GET", "/customers?page=1.5", None, {}),
    "page=1e3": ("GET", "/customers?page=1e3", None, {}),
    "page=٣ (Arabic-Indic digit)": ("GET", "/customers?page=%D9%A3", None, {}),
    "search of NULs": ("GET", "/customers?search=" + "%00" * 5000, None, {}),
    "tickets page=0": ("GET", "/tickets?page=0", None, {}),
    "malformed customer id": ("GET", "/customers/%C3%BC", None, {}),
    "malformed ticket id": ("DELETE", "/tickets/not-a-uuid", None, {}),
}


@pytest.mark.parametrize("case", list(CLIENT_MISTAKES))
def test_a_client_mistake_gets_a_4xx_envelope_never_a_5xx(client: httpx.Client, case: str) -> None:
    method, path, content, headers = CLIENT_MISTAKES[case]
    if "{id}" in path:
        path = path.replace("{id}", create(client)["id"])
    response = client.request(method, path, content=content, headers=headers)
    if case == "search of NULs":
        assert response.status_code == 200
        return
    assert 400 <= response.status_code < 500, f"{case}: {response.status_code} {response.text[:200]}"
    body = response.json()
    assert body["success"] is False and isinstance(body["error"]["code"], str) and "detail" not in body
    assert isinstance(body["error"]["message"], str) and "\n" not in body["error"]["message"]


def test_bodies_are_strictly_typed(client: httpx.Client) -> None:
    base = {"name": "Strict", "email": unique_email()}
    for wrong in ({"name": 12}, {"email": 12}, {"status": 1}, {"sentiment": True}, {"tags": "vip"},
                  {"tags": [1]}, {"notes": 5}, {"customFields": []}, {"customFields": "x"}, {"name": ""},
                  {"status": "archived"}, {"name": None}):
        response = client.post("/customers", json=base | wrong)
        assert response.status_code == 400, (wrong, response.text)
    customer = create(client)
    for wrong in ({"tags": [True]}, {"status": None}, {"email": None}, {"name": 1.5}):
        response = client.patch(f"/customers/{customer['id']}", json=wrong)
        assert response.status_code == 400, (wrong, response.text)
    assert client.get(f"/customers/{customer['id']}").json()["data"] == customer


ORDINARY_EMAILS = ["first.last+tag@mail.example.co.uk", "x@conformance.example", "MiXeD.Case+Tag@Example.COM",
                   "o'brien@example.ie", "user_name-1@sub.domain.example.org"]


def test_ordinary_email_addresses_are_accepted_and_stored_exactly_as_sent(client: httpx.Client) -> None:
    for address in ORDINARY_EMAILS:
        local, _, domain = address.partition("@")
        sent = f"{local}{uuid.uuid4().hex[:6]}@{domain}"
        created = client.post("/customers", json={"name": "Mail", "email": sent})
        assert created.status_code == 201, created.text
        assert created.json()["data"]["email"] == sent
        assert client.get(f"/customers/{created.json()['data']['id']}").json()["data"]["email"] == sent
    customer = create(client)
    upper = "Again+" + customer["email"].upper()
    assert client.patch(f"/customers/{customer['id']}", json={"email": upper}).json()["data"]["email"] == upper


@pytest.mark.parametrize("address", ["not-an-email", "a@b", "", "a@@b.co", "a b@c.co", "a@b..co", "@b.co"])
def test_invalid_email_addresses_are_rejected(client: httpx.Client, address: str) -> None:
    response = client.post("/customers", json={"name": "Bad mail", "email": address})
    assert response.status_code == 400 and response.json()["error"]["message"].startswith("email: ")


def test_custom_field_values_keep_their_json_type(client: httpx.Client) -> None:
    values = {"n": 12, "f": 1.5, "t": True, "off": False, "s": "true", "twelve": "12", "big": 10**40, "none": None,
              "neg": -0.25, "list": [1, "a"], "nested": {"k": {"deep": [True]}}}
    created = create(client, customFields=values)
    assert created["customFields"] == values
    got = client.get(f"/customers/{created['id']}").json()["data"]["customFields"]
    assert got == values and type(got["n"]) is int and type(got["t"]) is bool and type(got["f"]) is float


def test_absurd_page_numbers_give_an_honest_empty_page(client: httpx.Client) -> None:
    body = client.get("/customers", params={"page": 10**30, "pageSize": 100}).json()
    assert body["data"] == [] and body["pagination"]["page"] == 10**30 and body["pagination"]["hasMore"] is False


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
