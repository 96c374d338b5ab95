"""§1 transport: undefined methods (POST on a customer included), client mistakes that must stay 4xx
(bodies that are not JSON objects, PATCH bodies sent without a JSON content type), JSON content types."""

from __future__ import annotations

import json
from typing import Any

import pytest

from cstar_conformance import capabilities, expect
from cstar_conformance.client import ApiClient
from cstar_conformance.factory import DataFactory


@pytest.fixture(scope="module")
def own(factory: DataFactory) -> dict[str, Any]:
    return capabilities.create_customer(factory, "transport")


def assert_405_with_allow_or_404(response: Any) -> None:
    assert response.status_code in (404, 405), f"[UNKNOWN-METHOD] expected 405 or 404: {expect.describe(response)}"
    if response.status_code == 405:
        assert response.headers.get("allow"), f"[UNKNOWN-METHOD] 405 without Allow: {expect.describe(response)}"


@pytest.mark.rule("UNKNOWN-METHOD")
@pytest.mark.parametrize("method", ["PUT", pytest.param("TRACE", marks=pytest.mark.thorough(
    "UNKNOWN-METHOD by PUT and POST here and PUT on the collection")), "POST"])
def test_undefined_method_on_a_customer_is_405_with_allow_or_404(api: ApiClient, factory: DataFactory,
                                                                  own: dict[str, Any], method: str) -> None:
    """POST carries a valid create body (a route with an optional id would create a customer with it)."""
    # TRACE goes without a body: HTTP forbids one, and a server may refuse such a request with 400
    body = {"PUT": {"name": "Replaced by PUT"}, "POST": factory.customer_body("post-on-item")}.get(method)
    response = api.request(method, f"/customers/{own['id']}", json_body=body)
    if method == "POST":
        factory.track_response("customer", response)
    assert_405_with_allow_or_404(response)
    if method == "POST":
        return
    got = capabilities.read_back(api, own["id"])
    assert got.get("name") == own["name"], f"[UNKNOWN-METHOD] {method} changed the customer: {got.get('name')!r}"


@pytest.mark.rule("UNKNOWN-METHOD")
def test_undefined_method_on_the_collection_is_405_with_allow_or_404(api: ApiClient) -> None:
    response = api.request("PUT", "/customers", json_body=[])
    assert_405_with_allow_or_404(response)


MALFORMED_BODIES = {  # an address in a body is completed with the run id (should a target store it after all)
    "truncated JSON": b'{"name": "x", "email": ',
    "not JSON": b"name=x&email=y",
    "JSON array": b"[]",
    "JSON string": b'"customer"',
    "JSON null": b"null",
    "invalid UTF-8": b'{"name": "\xff\xfe", "email": "RUN-utf8@conformance.example"}',
    "huge number": b'{"name": 1e999999, "email": "RUN-huge@conformance.example"}',
}


# variants the thorough profile adds, each kept in the gate by another (create_and_read has the JSON array, and a
# number for a body)
THOROUGH_CREATE = {"JSON string": "a body that is no object by create_and_read's number and array",
                   "JSON null": "a body that is no object by create_and_read's number and array",
                   "truncated JSON": "a body that does not parse by the form-encoded one"}
THOROUGH_PATCH = {"truncated JSON": "a body that does not parse by the form-encoded one",
                  "JSON string": "a body that is no object by the JSON array and null"}


def _kinds(kinds: list[str], thorough: dict[str, str]) -> list[Any]:
    return [pytest.param(kind, marks=pytest.mark.thorough(thorough[kind])) if kind in thorough else kind
            for kind in kinds]


@pytest.mark.rule("NO-5XX", "CREATE-VALIDATION", "ENV-ERROR")
@pytest.mark.parametrize("kind", _kinds([kind for kind in MALFORMED_BODIES if kind != "JSON array"], THOROUGH_CREATE))
def test_malformed_create_body_is_400_or_422_never_5xx(api: ApiClient, factory: DataFactory, kind: str) -> None:
    body = MALFORMED_BODIES[kind].replace(b"RUN", factory.run_id.encode())
    response = api.request("POST", "/customers", content=body, headers={"Content-Type": "application/json"})
    factory.track_response("customer", response)
    expect.no_server_error(response)
    expect.error(response, expect.VALIDATION)


@pytest.mark.rule("NO-5XX", "PATCH-INVALID-NOCHANGE", "ENV-ERROR")
@pytest.mark.parametrize("kind", _kinds(["truncated JSON", "JSON array", "not JSON", "JSON null", "JSON string"],
                                         THOROUGH_PATCH))
def test_malformed_patch_body_is_400_or_422_never_5xx(api: ApiClient, own: dict[str, Any], kind: str) -> None:
    """A PATCH body must be a JSON object: null is no empty PATCH, a string has no fields."""
    response = api.request("PATCH", f"/customers/{own['id']}", content=MALFORMED_BODIES[kind],
                           headers={"Content-Type": "application/json"})
    expect.no_server_error(response)
    expect.error(response, expect.VALIDATION)


NOT_JSON_TYPES = {"no Content-Type": None, "text/plain": "text/plain"}


@pytest.mark.rule("NO-5XX", "PATCH-KEEPS-OMITTED", "ENV-ERROR")
@pytest.mark.parametrize("kind", ["no Content-Type", pytest.param("text/plain", marks=pytest.mark.thorough(
    "PATCH-KEEPS-OMITTED and NO-5XX by the PATCH sent without a Content-Type"))])
def test_patch_body_without_a_json_content_type_is_applied_or_refused_never_5xx(
        api: ApiClient, factory: DataFactory, own: dict[str, Any], kind: str) -> None:
    """A JSON object sent without `Content-Type: application/json`: refused with a 4xx, or applied — a 2xx
    that changed nothing would drop the client's change silently."""
    notes = f"sent as {kind} {factory.unique('ctype')}"
    content_type = NOT_JSON_TYPES[kind]
    response = api.request("PATCH", f"/customers/{own['id']}", content=json.dumps({"notes": notes}).encode(),
                           headers={"Content-Type": content_type} if content_type else None)
    expect.no_server_error(response)
    if 400 <= response.status_code < 500:
        expect.error(response, range(400, 500))
        return
    got = expect.success(response, range(200, 300))
    assert isinstance(got, dict) and got.get("notes") == notes, (
        f"[PATCH-KEEPS-OMITTED] a PATCH with a JSON object sent as {kind} was answered 2xx without the change "
        f"(notes {notes!r}): {expect.describe(response)}")
