"""§1 transport: undefined methods, client mistakes that must stay 4xx, JSON content types."""

from __future__ import annotations

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
@pytest.mark.parametrize("method", ["PUT", "TRACE"])
def test_undefined_method_on_a_customer_is_405_with_allow_or_404(api: ApiClient, own: dict[str, Any],
                                                                  method: str) -> None:
    # TRACE goes without a body: HTTP forbids one, and a server may refuse such a request with 400
    body = {"name": "Replaced by PUT"} if method == "PUT" else None
    response = api.request(method, f"/customers/{own['id']}", json_body=body)
    assert_405_with_allow_or_404(response)
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


@pytest.mark.rule("NO-5XX", "CREATE-VALIDATION", "ENV-ERROR")
@pytest.mark.parametrize("kind", list(MALFORMED_BODIES))
def test_malformed_create_body_is_400_or_422_never_5xx(api: ApiClient, factory: DataFactory, kind: str) -> None:
    body = MALFORMED_BODIES[kind].replace(b"RUN", factory.run_id.encode())
    response = api.request("POST", "/customers", content=body, headers={"Content-Type": "application/json"})
    factory.track_response("customer", response)
    expect.no_server_error(response)
    expect.error(response, expect.VALIDATION)


@pytest.mark.rule("NO-5XX", "PATCH-INVALID-NOCHANGE", "ENV-ERROR")
@pytest.mark.parametrize("kind", ["truncated JSON", "JSON array", "not JSON"])
def test_malformed_patch_body_is_400_or_422_never_5xx(api: ApiClient, own: dict[str, Any], kind: str) -> None:
    response = api.request("PATCH", f"/customers/{own['id']}", content=MALFORMED_BODIES[kind],
                           headers={"Content-Type": "application/json"})
    expect.no_server_error(response)
    expect.error(response, expect.VALIDATION)


@pytest.mark.rule("CONTENT-TYPE-JSON", "ENV-SUCCESS", "ENV-LIST", "ENV-ERROR")
def test_every_json_response_says_application_json(api: ApiClient, own: dict[str, Any]) -> None:
    expect.listing(api.get("/customers", params={"pageSize": 1}))
    expect.success(api.get(f"/customers/{own['id']}"))
    expect.error(api.get("/customers/00000000-0000-4000-8000-000000000000"), (404,))
