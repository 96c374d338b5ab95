"""§2 customFields: string, number and boolean values are accepted and keep their JSON type and value
through create, GET, list and PATCH (CUSTOMFIELDS-TYPES); arrays and nested objects are either
round-tripped or refused with 400/422 and nothing created (CUSTOMFIELDS-NESTED, a MAY probe that
passes on both sides).

The values are ones whose exact round-trip the contract promises: small integers, a binary-exact
decimal, booleans, and strings that look like a number or a boolean. Types are compared as a JSON
reader sees them: 12 is neither "12" nor 12.0, true is not 1 (`expect.same_json`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from cstar_conformance import capabilities, expect
from cstar_conformance.client import ApiClient
from cstar_conformance.factory import EMAIL_DOMAIN, RUN_FIELD, DataFactory

TYPED: dict[str, Any] = {"plan": "gold", "seats": 12, "ratio": 1.5, "zero": 0, "vip": True, "trial": False,
                         "zip": "12", "flag": "true"}
# numbers become booleans and back, a string that looks like a number stays a string
PATCHED: dict[str, Any] = {"seats": 13, "trial": True, "vip": False, "ratio": "1.5", "code": 7}
NESTED: dict[str, Any] = {"list": ["a", 1, True], "nested": {"k": "v", "n": [1, 2.5]}}


@dataclass(frozen=True)
class Typed:
    term: str  # the email local part: the typed customer's and, extended, the nested probe's
    sent: dict[str, Any]  # the customFields sent
    created: httpx.Response

    def customer(self) -> dict[str, Any]:
        """The created customer; the check fails (its own rule) when the typed values were refused."""
        assert 200 <= self.created.status_code < 300, (
            f"[CUSTOMFIELDS-TYPES] custom-field strings, numbers and booleans must be accepted: "
            f"{expect.describe(self.created)}")
        return capabilities.created(self.created)


@pytest.fixture(scope="module")
def typed(factory: DataFactory) -> Typed:
    sent = {RUN_FIELD: factory.run_id, **TYPED}
    body = factory.customer_body("cftypes", customFields=sent)
    return Typed(body["email"].split("@")[0], sent, factory.post_customer(body))


def _assert_kept(got: Any, sent: dict[str, Any], where: str) -> None:
    diffs = expect.value_diffs(got, sent, "customFields")
    assert not diffs, (f"[CUSTOMFIELDS-TYPES] custom-field values must come back unchanged, JSON type included "
                       f"({where}): {diffs}")


@pytest.mark.rule("CUSTOMFIELDS-TYPES")
def test_custom_field_strings_numbers_and_booleans_keep_their_type_in_the_create_answer(typed: Typed) -> None:
    _assert_kept(typed.customer().get("customFields"), typed.sent, "create answer")


@pytest.mark.rule("CUSTOMFIELDS-TYPES")
def test_custom_field_strings_numbers_and_booleans_keep_their_type_through_get(api: ApiClient, typed: Typed) -> None:
    _assert_kept(capabilities.read_back(api, typed.customer()["id"]).get("customFields"), typed.sent, "GET")


@pytest.mark.rule("CUSTOMFIELDS-TYPES")
def test_custom_field_strings_numbers_and_booleans_keep_their_type_in_the_list(api: ApiClient, typed: Typed) -> None:
    customer = typed.customer()
    found = capabilities.search(api, typed.term, [customer])
    listed = next(c for c in found.data if isinstance(c, dict) and c.get("id") == customer["id"])
    _assert_kept(listed.get("customFields"), typed.sent, "list")


@pytest.mark.rule("CUSTOMFIELDS-TYPES")
def test_custom_field_values_set_by_patch_keep_their_type(api: ApiClient, typed: Typed) -> None:
    """Only the keys the PATCH sets are judged: keeping the others is the merge SHOULD, replacing the whole
    object a MAY (PATCH-CUSTOMFIELDS-MERGE)."""
    customer = typed.customer()
    response = api.patch(f"/customers/{customer['id']}", {"customFields": PATCHED})
    assert 200 <= response.status_code < 300, (
        f"[CUSTOMFIELDS-TYPES] a PATCH of custom-field strings, numbers and booleans must be accepted: "
        f"{expect.describe(response)}")
    answer = expect.success(response, range(200, 300))
    answered = answer.get("customFields")
    stored = capabilities.read_back(api, customer["id"], answered=answer, earlier=[customer]).get("customFields")
    diffs = []
    for where, got in (("PATCH answer", answered), ("GET after the PATCH", stored)):
        picked = {key: got[key] for key in PATCHED if key in got} if isinstance(got, dict) else got
        diffs += [f"{where}: {d}" for d in expect.value_diffs(picked, PATCHED, "customFields")]
    assert not diffs, f"[CUSTOMFIELDS-TYPES] the values the PATCH set must come back unchanged, type included: {diffs}"


@pytest.mark.rule("CUSTOMFIELDS-NESTED", "NO-5XX", "REJECTED-CHANGES-NOTHING", "ENV-ERROR")
def test_nested_custom_field_values_are_round_tripped_or_refused(api: ApiClient, factory: DataFactory,
                                                                typed: Typed) -> None:
    """MAY: accepted and returned unchanged (create and GET), or refused with 400/422 and nothing created
    (one search for the typed customer's local part, which this body's address extends)."""
    sent = {RUN_FIELD: factory.run_id, **NESTED}
    body = factory.customer_body("cfnested", email=f"{typed.term}-nested@{EMAIL_DOMAIN}", customFields=sent)
    response = factory.post_customer(body)
    expect.no_server_error(response)
    if response.status_code in expect.VALIDATION:
        expect.error(response, expect.VALIDATION)
        found = capabilities.search(api, typed.term, [typed.customer()])
        made = [c.get("id") for c in found.data if str(c.get("email", "")).lower() == body["email"].lower()]
        assert not made, f"[REJECTED-CHANGES-NOTHING] the refused create made customers {made}"
        return
    assert 200 <= response.status_code < 300, (
        f"[CUSTOMFIELDS-NESTED] arrays and nested objects must be accepted (2xx) or refused with 400/422: "
        f"{expect.describe(response)}")
    created = capabilities.created(response)
    diffs = [f"create answer: {d}" for d in expect.value_diffs(created.get("customFields"), sent, "customFields")]
    stored = capabilities.read_back(api, created["id"]).get("customFields")
    diffs += [f"GET: {d}" for d in expect.value_diffs(stored, sent, "customFields")]
    assert not diffs, (f"[CUSTOMFIELDS-NESTED] accepted arrays and nested objects must come back unchanged "
                       f"(or be refused with 400/422): {diffs}")
