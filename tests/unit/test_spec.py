"""Fast checks of openapi/customers.yaml: valid, loadable by Schemathesis, and free of MAY choices."""

from __future__ import annotations

import pathlib
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
import yaml
from openapi_spec_validator import validate

SPEC_PATH = pathlib.Path(__file__).resolve().parents[2] / "openapi" / "customers.yaml"

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

EXPECTED_OPERATION_IDS = {
    "listCustomers",
    "createCustomer",
    "getCustomer",
    "updateCustomer",
    "deleteCustomer",
    "listTickets",
    "createTicket",
    "getTicket",
    "deleteTicket",
    "listWebhooks",
    "createWebhook",
    "deleteWebhook",
}


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))


def resolve(spec: dict[str, Any], node: Any) -> Any:
    """Follow local `$ref`s until a node without one is reached."""
    while isinstance(node, dict) and "$ref" in node:
        target: Any = spec
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in spec["paths"].items():
        for method in HTTP_METHODS:
            if method in item:
                yield path, method, item[method]


def operation_by_id(spec: dict[str, Any], operation_id: str) -> dict[str, Any]:
    for _, _, operation in operations(spec):
        if operation["operationId"] == operation_id:
            return operation
    raise KeyError(operation_id)


def walk_schema(spec: dict[str, Any], node: Any, seen: set[str] | None = None) -> Iterator[dict[str, Any]]:
    """Every mapping inside `node`, following `$ref`s once each."""
    seen = set() if seen is None else seen
    if isinstance(node, dict):
        reference = node.get("$ref")
        if isinstance(reference, str):
            if reference not in seen:
                seen.add(reference)
                yield from walk_schema(spec, resolve(spec, node), seen)
            return
        yield node
        for value in node.values():
            yield from walk_schema(spec, value, seen)
    elif isinstance(node, list):
        for value in node:
            yield from walk_schema(spec, value, seen)


def test_spec_is_valid_openapi(spec: dict[str, Any]) -> None:
    assert spec["openapi"] == "3.1.0"
    validate(spec)


def test_schemathesis_loads_all_twelve_operations() -> None:
    schema = schemathesis.openapi.from_path(str(SPEC_PATH))
    loaded = [result.ok() for result in schema.get_all_operations()]
    assert {operation.definition.raw["operationId"] for operation in loaded} == EXPECTED_OPERATION_IDS
    assert len(loaded) == 12


def test_no_response_schema_forbids_extra_fields(spec: dict[str, Any]) -> None:
    offenders = []
    for path, method, operation in operations(spec):
        for status, response in operation["responses"].items():
            for node in walk_schema(spec, response):
                if node.get("additionalProperties") is False:
                    offenders.append(f"{method.upper()} {path} {status}")
    assert offenders == []


def test_no_request_body_forbids_extra_fields(spec: dict[str, Any]) -> None:
    for path, method, operation in operations(spec):
        body = operation.get("requestBody")
        if body is not None:
            nodes = walk_schema(spec, body)
            assert all(node.get("additionalProperties") is not False for node in nodes), (method, path)


def test_page_size_has_no_schema_bounds(spec: dict[str, Any]) -> None:
    page_size = resolve(spec, spec["components"]["parameters"]["PageSize"])
    schema = page_size["schema"]
    assert "maximum" not in schema
    assert "minimum" not in schema
    assert schema["x-maximum"] == 100
    assert schema["default"] == 20


def test_list_customers_documents_every_query_parameter(spec: dict[str, Any]) -> None:
    parameters = [resolve(spec, p) for p in operation_by_id(spec, "listCustomers")["parameters"]]
    assert {p["name"] for p in parameters if p["in"] == "query"} == {
        "page",
        "pageSize",
        "status",
        "sentiment",
        "search",
        "tag",
    }


@pytest.mark.parametrize("operation_id", sorted(EXPECTED_OPERATION_IDS))
def test_every_operation_documents_401_and_429(spec: dict[str, Any], operation_id: str) -> None:
    responses = operation_by_id(spec, operation_id)["responses"]
    assert "401" in responses
    assert "429" in responses


def test_every_4xx_uses_the_error_envelope(spec: dict[str, Any]) -> None:
    error_schema = {"$ref": "#/components/schemas/Error"}
    for path, method, operation in operations(spec):
        for status, response in operation["responses"].items():
            if status.startswith("4"):
                content = resolve(spec, response)["content"]
                assert content["application/json"]["schema"] == error_schema, (method, path, status)


@pytest.mark.parametrize("operation_id", ["deleteCustomer", "deleteTicket", "deleteWebhook"])
def test_delete_documents_both_200_and_204(spec: dict[str, Any], operation_id: str) -> None:
    responses = operation_by_id(spec, operation_id)["responses"]
    assert "200" in responses
    assert "204" in responses
    assert "content" not in responses["204"]


def test_create_customer_documents_both_201_and_200(spec: dict[str, Any]) -> None:
    responses = operation_by_id(spec, "createCustomer")["responses"]
    assert {"200", "201", "409", "400", "422"} <= set(responses)


@pytest.mark.parametrize("status", ["200", "201"])
def test_create_customer_links_to_get_update_and_delete(spec: dict[str, Any], status: str) -> None:
    links = operation_by_id(spec, "createCustomer")["responses"][status]["links"]
    targets = {resolve(spec, link)["operationId"]: resolve(spec, link) for link in links.values()}
    assert {"getCustomer", "updateCustomer", "deleteCustomer"} <= set(targets)
    for operation_id in ("getCustomer", "updateCustomer", "deleteCustomer"):
        assert targets[operation_id]["parameters"] == {
            "teamId": "$request.path.teamId",
            "customerId": "$response.body#/data/id",
        }


def test_schemathesis_follows_the_create_links() -> None:
    schema = schemathesis.openapi.from_path(str(SPEC_PATH))
    transitions = schema.as_state_machine()._transitions.operations
    explicit = {
        link.target.definition.raw["operationId"]
        for link in transitions["POST /teams/{teamId}/customers"].outgoing
        if not link.is_inferred
    }
    assert {"getCustomer", "updateCustomer", "deleteCustomer"} <= explicit


def test_prefixed_ids_are_not_excluded_by_format(spec: dict[str, Any]) -> None:
    parameters = spec["components"]["parameters"]
    for name in ("CustomerId", "TicketId", "WebhookId"):
        assert "format" not in parameters[name]["schema"], name
    assert parameters["TeamId"]["schema"]["format"] == "uuid"


def test_customer_update_accepts_an_empty_object(spec: dict[str, Any]) -> None:
    update = spec["components"]["schemas"]["CustomerUpdate"]
    assert "required" not in update
    assert "minProperties" not in update


def test_customer_event_webhooks_are_described(spec: dict[str, Any]) -> None:
    assert {"customer.created", "customer.updated", "customer.deleted"} <= set(spec["webhooks"])
    signature = spec["components"]["parameters"]["XSignature"]
    assert signature["required"] is True
    assert signature["schema"]["pattern"] == r"^t=\d+,v1=[0-9a-f]{64}$"
