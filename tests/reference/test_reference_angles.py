"""The clean reference keeps the contract on the inputs the suite uses to attack it from the angles real stacks
break: terms that mean something to SQL or a search engine, NUL and odd Unicode, letter case of enums,
255 characters outside ASCII, bodies without a JSON content type, methods it does not serve, the tenancy
of tickets and idempotency keys, numbers where strings belong, strings over 255 characters and pageSize
at its limit."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest

from cstar_conformance.reference.process import RunningReference

TOKEN = "Qu%3f_a1*c7'Zël\\"


def email(prefix: str = "a") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}@example.com"


def create(client: httpx.Client, **fields: object) -> dict:
    response = client.post("/customers", json={"name": "Angle probe", "email": email()} | fields)
    assert response.status_code == 201, response.text
    return response.json()["data"]


def search(client: httpx.Client, term: str) -> set[str]:
    response = client.get("/customers", params={"search": term, "pageSize": 100})
    assert response.status_code == 200, response.text
    return {c["id"] for c in response.json()["data"]}


def test_search_terms_with_wildcards_quotes_and_backslashes_match_literally(client: httpx.Client) -> None:
    carrier = create(client, name=f"Ada {TOKEN}son")
    decoys = [create(client, name=f"Ada {TOKEN.replace(wildcard, other)}son")
              for wildcard, other in (("%", "Xx"), ("_", "Q"), ("*", "Ww"))]
    in_notes = create(client, notes=f"Note {TOKEN}", tags=[TOKEN])
    assert search(client, TOKEN) == {carrier["id"]}
    assert search(client, TOKEN.swapcase()) == {carrier["id"]}  # ë/Ë folded too
    assert not {d["id"] for d in decoys} & search(client, TOKEN[:-1])
    assert in_notes["id"] not in search(client, "Note")


def test_a_mixed_case_address_is_found_by_its_stored_spelling(client: httpx.Client) -> None:
    customer = create(client, email=f"Mixed.{uuid.uuid4().hex[:8]}@Example.COM")
    assert search(client, customer["email"].split("@")[0]) == {customer["id"]}


@pytest.mark.parametrize("query", ["search=%00x", "search=%FF%FEx"])
def test_odd_bytes_in_a_search_give_a_list(client: httpx.Client, query: str) -> None:
    response = client.get(f"/customers?{query}")
    assert response.status_code == 200 and response.json()["data"] == []


def test_nul_and_255_characters_outside_ascii_round_trip(client: httpx.Client) -> None:
    long = ("éñü中文ß0123456789" * 20)[:255]
    sent = {"name": "N\x00ul", "notes": long, "tags": ["t\x00g", long], "customFields": {"k": "v\x00w"}}
    created = create(client, **sent)
    got = client.get(f"/customers/{created['id']}").json()["data"]
    assert {k: got[k] for k in sent} == sent == {k: created[k] for k in sent}
    patched = client.patch(f"/customers/{created['id']}", json={"name": long})
    assert patched.status_code == 200 and patched.json()["data"]["name"] == long


@pytest.mark.parametrize("raw", [b'{"name": "x\\ud800", "email": "s@example.com"}'])
def test_a_lone_surrogate_is_refused_with_400(client: httpx.Client, raw: bytes) -> None:
    response = client.post("/customers", content=raw, headers={"Content-Type": "application/json"})
    assert response.status_code == 400


def test_an_address_outside_ascii_is_accepted(client: httpx.Client) -> None:
    assert create(client, email=f"zo\u00eb-{uuid.uuid4().hex[:6]}@ex\u00e4mple.example")["email"].startswith("zo")


def test_enum_values_in_another_letter_case_are_refused(client: httpx.Client) -> None:
    assert client.post("/customers", json={"name": "x", "email": email(), "sentiment": "Happy"}).status_code == 400
    assert client.get("/customers", params={"sentiment": "Happy"}).status_code == 400
    assert client.get("/customers", params={"page": "1.5"}).status_code == 400


def test_a_charset_parameter_is_accepted_and_non_json_patch_bodies_are_refused(client: httpx.Client) -> None:
    body = json.dumps({"name": "Charset", "email": email()}).encode()
    created = client.post("/customers", content=body, headers={"Content-Type": "application/json; charset=utf-8"})
    assert created.status_code == 201
    path = f"/customers/{created.json()['data']['id']}"
    notes = json.dumps({"notes": "x"}).encode()
    assert client.patch(path, content=notes, headers={"Content-Type": "text/plain"}).status_code == 400
    bare = client.build_request("PATCH", path, content=notes)
    assert "content-type" not in bare.headers and client.send(bare).status_code == 400
    for raw in (b"null", b'"x"', b"42"):
        assert client.patch(path, content=raw, headers={"Content-Type": "application/json"}).status_code == 400
    post = client.post(path, json={"name": "On an item", "email": email()})
    assert post.status_code == 405 and "POST" not in post.headers["allow"]


def test_another_team_cannot_read_tickets_nor_replay_idempotency_keys(reference: RunningReference) -> None:
    with reference.client(0) as a, reference.client(1) as b:
        customer = create(a)
        ticket = a.post("/tickets", json={"title": "t", "customerId": customer["id"]}).json()["data"]
        assert b.get(f"/tickets/{ticket['id']}").status_code == 404
        assert ticket["id"] not in b.get("/tickets", params={"customerId": customer["id"]}).text
        body, key = {"name": "Idem", "email": email()}, {"Idempotency-Key": uuid.uuid4().hex}
        first = a.post("/customers", json=body, headers=key).json()["data"]
        theirs = b.post("/customers", json=body, headers=key)
        assert theirs.status_code == 201 and theirs.json()["data"]["id"] != first["id"]
        assert a.delete(f"/customers/{customer['id']}").status_code == 200
        again = a.post("/tickets", json={"title": "late", "customerId": customer["id"]})
        assert again.status_code == 404


def test_numbers_for_strings_are_refused_long_strings_kept_and_page_size_100_served(client: httpx.Client) -> None:
    for fields in ({"name": 123}, {"notes": 5}, {"tags": [1]}):
        assert client.post("/customers", json={"name": "x", "email": email()} | fields).status_code == 400
    assert create(client, name="n" * 256, notes="n" * 10_000)["notes"] == "n" * 10_000
    response = client.get("/customers", params={"pageSize": 100})
    assert response.status_code == 200 and response.json()["pagination"]["pageSize"] == 100
