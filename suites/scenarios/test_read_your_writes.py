"""§3 Every write read back at once — by GET and by search, the paths a stale cache or a lagging search
index serves — and every editable field changed by one PATCH.

One customer: created (with `Content-Type: application/json; charset=utf-8`, as many clients send it),
searched for by its address at once, read, PATCHed in every editable field (255-character values
outside ASCII), read again, searched for by its new address and by its old one; then its notes are
PATCHed to null. Each request is made once; the tests judge the answers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from cstar_conformance import capabilities, expect
from cstar_conformance.client import ApiClient
from cstar_conformance.factory import EMAIL_DOMAIN, RUN_FIELD, DataFactory

CHARSET_JSON = "application/json; charset=utf-8"
EDITABLE = ("name", "email", "status", "sentiment", "tags", "notes", "customFields")
FILLER = "éñü中文ß0123456789"  # two- and three-byte characters of the BMP (one UTF-16 unit each)


def _255(prefix: str) -> str:
    return (prefix + " " + FILLER * 20)[:255]


@dataclass
class Rewritten:
    sent: dict[str, Any]  # the create body
    old_term: str  # in the email as created (and nowhere else)
    new_term: str  # in the email as PATCHed, in its stored letter case (and nowhere else)
    patch: dict[str, Any]  # every editable field, changed
    created: httpx.Response
    found_after_create: httpx.Response
    read_before: httpx.Response
    patched: httpx.Response
    read_after: httpx.Response
    found_by_new: httpx.Response
    found_by_old: httpx.Response
    nulled: httpx.Response  # PATCH {"notes": null}

    def customer(self) -> dict[str, Any]:
        if not 200 <= self.created.status_code < 300:
            capabilities.block("CREATE-2XX", f"set-up: the create was refused: {expect.describe(self.created)}")
        return capabilities.created(self.created)

    def patched_customer(self) -> dict[str, Any]:
        if not 200 <= self.patched.status_code < 300:
            capabilities.block("PATCH-KEEPS-OMITTED", f"the PATCH of every editable field was refused: "
                                                      f"{expect.describe(self.patched)}")
        return expect.success(self.patched, range(200, 300))  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def rewritten(api: ApiClient, factory: DataFactory) -> Rewritten:
    old_term, new_term = factory.unique("ryw-before"), factory.unique("ryw") + ".After"
    sent = factory.tagged_body("ryw", email=f"{old_term}@{EMAIL_DOMAIN}", notes="before")
    created = factory.post_customer(sent, headers={"Content-Type": CHARSET_JSON})
    customer_id = (created.json().get("data") or {}).get("id") if 200 <= created.status_code < 300 else None
    patch = {"name": _255(f"Renamed {factory.run_id}"), "email": f"{new_term}@{EMAIL_DOMAIN}", "status": "inactive",
             "sentiment": "frustrated", "tags": [factory.tag, _255("tag")], "notes": _255("notes"),
             "customFields": {RUN_FIELD: factory.run_id, "plan": "platinum"}}
    path = f"/customers/{customer_id}"

    def search(term: str) -> httpx.Response:
        return api.get("/customers", params={"search": term, "pageSize": capabilities.SEARCH_PAGE})

    found_after_create = search(old_term)
    read_before = api.get(path)
    patched = api.patch(path, patch)
    read_after = api.get(path)
    return Rewritten(sent, old_term, new_term, patch, created, found_after_create, read_before, patched, read_after,
                     found_by_new=search(new_term), found_by_old=search(old_term),
                     nulled=api.patch(path, {"notes": None}))


@pytest.mark.rule("CREATE-2XX")
def test_create_with_a_charset_parameter_in_the_content_type_is_accepted(rewritten: Rewritten) -> None:
    response = rewritten.created
    assert 200 <= response.status_code < 300, (
        f"[CREATE-2XX] a valid create sent as {CHARSET_JSON!r} must be accepted: {expect.describe(response)}")
    customer = capabilities.created(response)
    assert customer["email"] == rewritten.sent["email"], f"[CREATE-2XX] {expect.describe(response)}"


def _only(api: ApiClient, response: httpx.Response, term: str, customer: dict[str, Any], what: str) -> None:
    found = capabilities.searched(api, response, term, [customer])
    assert found.ids() == {customer["id"]}, (
        f"[SEARCH-NAME-OR-EMAIL] {what}: the search for {term!r} must find exactly customer {customer['id']}: "
        f"{expect.describe(response)}")


@pytest.mark.rule("SEARCH-NAME-OR-EMAIL")
def test_search_finds_a_customer_right_after_its_create(api: ApiClient, rewritten: Rewritten) -> None:
    _only(api, rewritten.found_after_create, rewritten.old_term, rewritten.customer(), "right after the create")


@pytest.mark.rule("PATCH-KEEPS-OMITTED")
def test_patch_changes_every_editable_field_it_names(rewritten: Rewritten) -> None:
    rewritten.customer()
    response = rewritten.patched
    assert 200 <= response.status_code < 300, (
        f"[PATCH-KEEPS-OMITTED] a PATCH of every editable field with valid values (255 characters at most) must "
        f"be applied: {expect.describe(response)}")
    got = expect.success(response, range(200, 300))
    diffs = expect.same_customer(got, rewritten.patch, EDITABLE)
    assert not diffs, f"[PATCH-KEEPS-OMITTED] fields the PATCH named did not take the values sent: {diffs}"


@pytest.mark.rule("GET-EQUALS", "ENV-SUCCESS")
def test_get_returns_the_customer_as_patch_returned_it(rewritten: Rewritten) -> None:
    """Read once before the PATCH, so a cache that the PATCH does not refresh would show."""
    customer = rewritten.customer()
    diffs = expect.same_customer(expect.success(rewritten.read_before), customer)
    assert not diffs, (f"[GET-EQUALS] GET differs from what create returned: {diffs}: "
                       f"{expect.describe(rewritten.read_before)}")
    patched = rewritten.patched_customer()
    diffs = expect.same_customer(expect.success(rewritten.read_after), patched)
    assert not diffs, (f"[GET-EQUALS] GET differs from what PATCH returned: {diffs}: "
                       f"{expect.describe(rewritten.read_after)}")


@pytest.mark.rule("SEARCH-NAME-OR-EMAIL")
def test_search_finds_a_patched_customer_by_its_new_address_and_not_by_its_old_one(
        api: ApiClient, rewritten: Rewritten) -> None:
    customer = rewritten.customer()
    rewritten.patched_customer()
    patched = customer | {"email": rewritten.patch["email"]}
    _only(api, rewritten.found_by_new, rewritten.new_term, patched, "right after the PATCH of the address")
    data, _ = capabilities.listed(rewritten.found_by_old)
    assert customer["id"] not in expect.ids_of(data), (
        f"[SEARCH-NAME-OR-EMAIL] right after the PATCH of the address, a search for the old one "
        f"({rewritten.old_term!r}) still finds customer {customer['id']}: {expect.describe(rewritten.found_by_old)}")


@pytest.mark.rule("PATCH-KEEPS-OMITTED", "CREATE-NULL-OPTIONAL", "ENV-ERROR")
def test_patch_with_null_notes_empties_them_or_is_refused(rewritten: Rewritten) -> None:
    """null for an optional field is "empty" or refused with 400/422 (a MAY); accepted, it must empty them."""
    rewritten.patched_customer()
    response = rewritten.nulled
    expect.no_server_error(response)
    if response.status_code in expect.VALIDATION:
        expect.error(response, expect.VALIDATION)
        return
    got = expect.success(response, range(200, 300))
    assert got.get("notes") in (None, ""), (
        f"[PATCH-KEEPS-OMITTED] \"notes\": null was accepted but the notes were not emptied: "
        f"{expect.describe(response)}")
