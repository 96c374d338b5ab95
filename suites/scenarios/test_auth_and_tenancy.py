"""§1 auth and tenant isolation: every customer operation × every wrong credential gets the
contract's status — and never the other team's data, in the body as well as the code."""

from __future__ import annotations

import secrets
from typing import Any

import pytest

from cstar_conformance import capabilities, expect
from cstar_conformance.client import ApiClient
from cstar_conformance.factory import EMAIL_DOMAIN, DataFactory

OPERATIONS = ["list", "create", "get", "patch", "delete"]
WRITES = ["create", "patch", "delete"]


@pytest.fixture(scope="module")
def victim(factory: DataFactory) -> dict[str, Any]:
    """A customer of the team under test that no wrong credential may read or change."""
    return capabilities.create_customer(factory, "victim", notes="must not change", tags=["auth-matrix", factory.tag])


def refused_body(factory: DataFactory, victim: dict[str, Any], label: str) -> dict[str, Any]:
    """A create body for a request that must be refused. Its email extends the victim's local part, so one
    search for that part counts every refused create, with the victim as its witness."""
    local = victim["email"].split("@")[0]
    number = factory.unique(label).rsplit("-", 1)[-1]
    return factory.customer_body(label, email=f"{local}-{label}{number}@{EMAIL_DOMAIN}")


def call(api: ApiClient, operation: str, customer: dict[str, Any], factory: DataFactory) -> Any:
    path = f"/customers/{customer['id']}"
    if operation == "list":
        return api.get("/customers", params={"search": customer["email"]})
    if operation == "create":
        return factory.post_customer(refused_body(factory, customer, "intruder"), api)
    if operation == "get":
        return api.get(path)
    if operation == "patch":
        return api.patch(path, {"notes": "changed by an intruder"})
    return api.delete(path)


def assert_no_leak(response: Any, customer: dict[str, Any]) -> None:
    """The protected customer's id, email and name are nowhere in the answer — except a value the request
    itself carried (an error message may legally echo the id or search term it was given)."""
    sent = str(response.request.url) + response.request.content.decode("utf-8", "replace")
    for name in ("id", "email", "name"):
        value = str(customer[name])
        assert value in sent or value not in response.text, (
            f"[AUTH-CROSS-TEAM] the response carries the protected customer's {name}: {expect.describe(response)}")


WRONG_KEYS = {
    "no key": None,
    "malformed header": "Token abc",
    "bearer without a key": "Bearer",
    "unknown key": "Bearer sk_test_" + secrets.token_urlsafe(24),
}


# A route that forgets authentication shows with no key at all, on every operation; a key the lookup misreads shows
# on a read and a write; a header the parser misreads on any route (one parser serves them all): the gate sends no
# key to every operation, an unknown key to a read and a write, each malformed header to a read (9 requests; the
# almost-right keys of test_hostile_inputs add their own); thorough sends the whole matrix (20).
GATE_ROUTES = {"no key": OPERATIONS, "unknown key": ["list", "patch"]}


def _credentials_by_operation() -> list[Any]:
    routes = {credential: GATE_ROUTES.get(credential, ["list"]) for credential in WRONG_KEYS}
    return [(credential, operation) if operation in routes[credential] else
            pytest.param(credential, operation, marks=pytest.mark.thorough(
                f"AUTH-401: no key on {operation}, and {credential!r} on {' and '.join(routes[credential])}"))
            for credential in WRONG_KEYS for operation in OPERATIONS]


@pytest.mark.rule("AUTH-401", "ENV-ERROR")
@pytest.mark.parametrize(("credential", "operation"), _credentials_by_operation(),
                         ids=[f"{c}-{o}" for c in WRONG_KEYS for o in OPERATIONS])
def test_missing_malformed_or_unknown_key_is_401(api: ApiClient, factory: DataFactory, victim: dict[str, Any],
                                                  operation: str, credential: str) -> None:
    header = WRONG_KEYS[credential]
    anonymous = api.with_key(None)
    headers = {"Authorization": header} if header is not None else {}
    path = f"/customers/{victim['id']}"
    if operation == "list":
        response = anonymous.get("/customers", headers=headers)
    elif operation == "create":
        response = factory.post_customer(refused_body(factory, victim, "anon"), anonymous, headers=headers)
    elif operation == "get":
        response = anonymous.get(path, headers=headers)
    elif operation == "patch":
        response = anonymous.patch(path, {"notes": "changed without a key"}, headers=headers)
    else:
        response = anonymous.delete(path, headers=headers)
    expect.error(response, (401,))
    assert_no_leak(response, victim)


@pytest.mark.rule("AUTH-CROSS-TEAM", "ENV-ERROR")
@pytest.mark.parametrize("operation", OPERATIONS)
def test_other_teams_key_on_this_team_is_403_or_404_without_data(
        api: ApiClient, other_api: ApiClient, factory: DataFactory, victim: dict[str, Any], operation: str) -> None:
    intruder = other_api.with_key(other_api.api_key, api.team_id)  # B's key, A's path
    response = call(intruder, operation, victim, factory)
    expect.error(response, (403, 404))
    assert_no_leak(response, victim)


@pytest.mark.rule("AUTH-CROSS-TEAM")
@pytest.mark.parametrize("operation", ["get", "patch", "delete"])
def test_other_team_cannot_reach_a_customer_by_id_through_its_own_path(
        other_api: ApiClient, factory: DataFactory, victim: dict[str, Any], operation: str) -> None:
    response = call(other_api, operation, victim, factory)  # B's key, B's path, A's customer id
    expect.error(response, (403, 404))
    assert_no_leak(response, victim)


@pytest.mark.rule("PK-READ-ONLY")
@pytest.mark.parametrize("operation", [
    "create", *(pytest.param(op, marks=pytest.mark.thorough("PK-READ-ONLY by test_every_write_with_a_publishable_key_"
                                                             "is_403")) for op in ("patch", "delete"))])
def test_publishable_key_cannot_write(publishable_api: ApiClient, factory: DataFactory, victim: dict[str, Any],
                                      operation: str) -> None:
    response = call(publishable_api, operation, victim, factory)
    expect.error(response, (403,))


@pytest.mark.rule("PK-READ-ONLY")
def test_publishable_key_can_read(publishable_api: ApiClient, victim: dict[str, Any]) -> None:
    got = capabilities.read_back(publishable_api, victim["id"])
    assert got["id"] == victim["id"], f"[PK-READ-ONLY] GET with the publishable key returned {got!r}"


@pytest.mark.rule("AUTH-401", "AUTH-CROSS-TEAM", "PK-READ-ONLY", "REJECTED-CHANGES-NOTHING")
def test_refused_writes_left_the_customer_unchanged(api: ApiClient, victim: dict[str, Any]) -> None:
    """Runs after the matrix (file order): every refused PATCH/DELETE must have changed nothing."""
    got = capabilities.read_back(api, victim["id"])
    diffs = expect.same_customer(got, victim)
    assert not diffs, f"[REJECTED-CHANGES-NOTHING] a refused request changed the customer: {diffs}"


@pytest.mark.rule("AUTH-401", "AUTH-CROSS-TEAM", "PK-READ-ONLY", "REJECTED-CHANGES-NOTHING")
def test_refused_creates_created_nothing(api: ApiClient, victim: dict[str, Any]) -> None:
    """Every refused create extended the victim's email local part: one search, with the victim as witness."""
    local = victim["email"].split("@")[0]
    found = capabilities.search(api, local, [victim])
    leaked = [c.get("email") for c in found.data if c.get("id") != victim["id"] and local in str(c.get("email"))]
    assert not leaked, f"[REJECTED-CHANGES-NOTHING] refused creates made customers: {leaked}"
