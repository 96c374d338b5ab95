"""§3 Update: PATCH changes only what the body names — omitted fields, customFields, tags, empty and
invalid bodies, read-only fields, updatedAt, unknown ids."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from cstar_conformance import capabilities, expect
from cstar_conformance.client import ApiClient
from cstar_conformance.factory import RUN_FIELD, DataFactory, wait_until

EDITABLE = ("name", "email", "status", "sentiment", "tags", "notes", "customFields")
# every field the contract defines except updatedAt, which a changing PATCH must move
ALL_BUT_UPDATED = ("id", *EDITABLE, "ticketCount", "createdAt")


@dataclass
class Aged:
    customer: dict[str, Any]
    created_at: float  # time.monotonic() once the create had been answered


@pytest.fixture(scope="module", autouse=True)
def aged(factory: DataFactory) -> Aged:
    """Created when the module starts, so that by the last test more than a second has passed
    (PATCH-UPDATEDAT-MOVES needs that without sleeping through a whole second)."""
    customer = capabilities.create_customer(factory, "aged", notes="before")
    return Aged(customer, time.monotonic())


def full_customer(factory: DataFactory, label: str, **fields: Any) -> dict[str, Any]:
    """A customer with every editable field set away from its default (custom fields: strings only, the
    value type every target keeps — numbers and booleans are CUSTOMFIELDS-TYPES' own checks)."""
    values: dict[str, Any] = {
        "status": "inactive",
        "sentiment": "angry",
        "tags": ["vip", "renewal-due", factory.tag],
        "notes": "prefers email",
        "customFields": {RUN_FIELD: factory.run_id, "plan": "gold", "region": "eu"},
    }
    values.update(fields)
    return capabilities.create_customer(factory, label, **values)


def unchanged(actual: dict[str, Any], expected: dict[str, Any], fields: tuple[str, ...]) -> list[str]:
    return expect.same_customer(actual, expected, fields)


@dataclass
class OneFieldPatches:
    created: dict[str, Any]
    notes_patch: httpx.Response  # changes notes only
    new_name: str
    name_patch: httpx.Response  # changes name only
    read_back: httpx.Response  # GET afterwards


@pytest.fixture(scope="module")
def one_field_patches(api: ApiClient, factory: DataFactory) -> OneFieldPatches:
    """Two PATCHes of one field each: together every editable field is omitted at least once."""
    created = full_customer(factory, "keep")
    path = f"/customers/{created['id']}"
    notes_patch = api.patch(path, {"notes": "patched notes"})
    new_name = f"Renamed {factory.unique('keep')}"
    name_patch = api.patch(path, {"name": new_name})
    return OneFieldPatches(created, notes_patch, new_name, name_patch, api.get(path))


@pytest.mark.rule("PATCH-KEEPS-OMITTED")
def test_patch_changes_only_the_fields_in_the_body(one_field_patches: OneFieldPatches) -> None:
    p = one_field_patches
    after_notes = expect.success(p.notes_patch)
    diffs = unchanged(after_notes, p.created | {"notes": "patched notes"}, ALL_BUT_UPDATED)
    assert not diffs, (f"[PATCH-KEEPS-OMITTED] PATCH {{notes}} changed omitted fields: {diffs}; "
                       f"{expect.describe(p.notes_patch)}")
    after_name = expect.success(p.name_patch)
    diffs = unchanged(after_name, after_notes | {"name": p.new_name}, ALL_BUT_UPDATED)
    assert not diffs, (f"[PATCH-KEEPS-OMITTED] PATCH {{name}} changed omitted fields (or missed the name): "
                       f"{diffs}; {expect.describe(p.name_patch)}")
    stored = capabilities.stored(p.read_back, p.created["id"], answered=after_name, earlier=[p.created, after_notes])
    diffs = unchanged(stored, after_name, (*ALL_BUT_UPDATED, "updatedAt"))
    assert not diffs, (f"[PATCH-KEEPS-OMITTED] GET after the PATCHes differs from the PATCH answer: {diffs}; "
                       f"{expect.describe(p.read_back)}")


@pytest.mark.rule("PATCH-CUSTOMFIELDS-KEPT")
def test_patch_without_custom_fields_leaves_them_unchanged(one_field_patches: OneFieldPatches) -> None:
    p = one_field_patches
    want = p.created["customFields"]
    for response in (p.notes_patch, p.name_patch, p.read_back):
        answer = capabilities.stored(response, p.created["id"]) if response is p.read_back else expect.success(response)
        got = answer.get("customFields")
        assert expect.same_json(got, want), (f"[PATCH-CUSTOMFIELDS-KEPT] customFields changed by a PATCH without them: "
                             f"{got!r} != {want!r}; {expect.describe(response)}")


@pytest.mark.rule("PATCH-TAGS-REPLACE")
@pytest.mark.thorough("PATCH-TAGS-REPLACE by the hostile catalogue's reversed tags and the model on every PATCH")
def test_patch_tags_replaces_the_whole_array(api: ApiClient, factory: DataFactory) -> None:
    created = capabilities.create_customer(factory, "tags", tags=["old-1", "old-2", factory.tag])
    path = f"/customers/{created['id']}"
    answers = [created]
    for tags in (["new-1", factory.tag], []):
        response = api.patch(path, {"tags": tags})
        answers.append(expect.success(response))
        got = answers[-1].get("tags")
        assert isinstance(got, list) and sorted(got) == sorted(tags), (
            f"[PATCH-TAGS-REPLACE] PATCH tags {tags!r} must replace the array, got {got!r}: "
            f"{expect.describe(response)}")
    stored = capabilities.read_back(api, created["id"], answered=answers[-1], earlier=answers[:-1])
    assert stored.get("tags") == [], f"[PATCH-TAGS-REPLACE] tags [] was not stored: GET shows {stored.get('tags')!r}"


MERGE_FIELDS = {"a": "1", "b": "2"}


@pytest.fixture(scope="module")
def merged(api: ApiClient, factory: DataFactory) -> capabilities.Step:
    created = capabilities.create_customer(factory, "merge", customFields={RUN_FIELD: factory.run_id, **MERGE_FIELDS})
    return capabilities.step(api, created, [{"customFields": {"b": None, "c": "3"}}])


@pytest.mark.rule("PATCH-CUSTOMFIELDS-MERGE")
def test_patch_custom_fields_merges_keys_and_null_removes_one(factory: DataFactory, merged: capabilities.Step) -> None:
    response = merged.answers[0]
    want = {RUN_FIELD: factory.run_id, "a": "1", "c": "3"}
    answer = expect.success(response)
    got = answer.get("customFields")
    assert expect.same_json(got, want), (
        f"[PATCH-CUSTOMFIELDS-MERGE] {{a,b}} + PATCH {{b:null,c}} should give {want!r} (JSON Merge Patch; "
        f"replacing the whole object is legal but falls short of this SHOULD), got {got!r}: "
        f"{expect.describe(response)}")
    stored = capabilities.stored(merged.after, merged.before["id"], answered=answer,
                                 earlier=[merged.before]).get("customFields")
    assert expect.same_json(stored, want), (
        f"[PATCH-CUSTOMFIELDS-MERGE] the merged customFields were not stored: GET shows {stored!r}")


@pytest.fixture(scope="module")
def emptied(api: ApiClient, one_field_patches: OneFieldPatches) -> capabilities.Step:
    """PATCH {} of PATCH-KEEPS-OMITTED's customer, once its GET has shown it."""
    shown = capabilities.stored(one_field_patches.read_back, one_field_patches.created["id"])
    return capabilities.step(api, shown, [{}])


@pytest.mark.rule("PATCH-EMPTY-NOOP")
def test_empty_patch_is_2xx_and_changes_nothing(emptied: capabilities.Step) -> None:
    before, response = emptied.before, emptied.answers[0]
    assert 200 <= response.status_code < 300, (
        f"[PATCH-EMPTY-NOOP] PATCH {{}} must answer 2xx: {expect.describe(response)}")
    got = emptied.stored()
    diffs = unchanged(got, before, ALL_BUT_UPDATED)
    # updatedAt: a PATCH that changes nothing MAY leave it or move it, never back
    if capabilities.instant(got.get("updatedAt"), "updatedAt") < capabilities.instant(before["updatedAt"],
                                                                                      "updatedAt"):
        diffs.append(f"updatedAt went backwards: {got.get('updatedAt')!r} < {before['updatedAt']!r}")
    assert not diffs, f"[PATCH-EMPTY-NOOP] PATCH {{}} changed the customer: {diffs}; GET shows {got!r}"


# one valid field first (a server that writes field by field has written it before the bad one)
INVALID_BODIES: list[dict[str, Any]] = [
    {"notes": "written before a bad enum", "status": "archived"},
    {"status": "active", "sentiment": 3},
    {"tags": ["written-before-bad-email"], "email": "not-an-email"},
    {"sentiment": "happy", "name": ""},
    {"sentiment": "ecstatic"},  # each field's check on its own: no other field refuses the body for it
    {"customFields": ["an", "array"]},
]


@pytest.fixture(scope="module")
def invalid_patches(api: ApiClient, emptied: capabilities.Step) -> capabilities.Step:
    """The invalid PATCHes, of the same customer once PATCH {} is read back."""
    return capabilities.step(api, emptied.stored(), INVALID_BODIES)


@pytest.mark.rule("PATCH-INVALID-NOCHANGE")
def test_patch_with_an_invalid_field_is_rejected_and_writes_nothing(invalid_patches: capabilities.Step) -> None:
    problems = [f"expected 400/422: {expect.describe(response)}" for response in invalid_patches.answers
                if response.status_code not in expect.VALIDATION]
    before = invalid_patches.before
    diffs = unchanged(invalid_patches.stored(), before, (*ALL_BUT_UPDATED, "updatedAt"))
    if diffs:
        problems.append(f"the rejected PATCHes changed the customer: {diffs}")
    assert not problems, "[PATCH-INVALID-NOCHANGE] " + "; ".join(problems)


@pytest.mark.rule("PATCH-IMMUTABLE-FIELDS")
def test_patch_cannot_change_id_created_at_or_ticket_count(api: ApiClient, merged: capabilities.Step) -> None:
    """On PATCH-CUSTOMFIELDS-MERGE's customer, once its GET has shown it."""
    created = merged.stored()
    path = f"/customers/{created['id']}"
    response = api.patch(path, {"notes": "read-only fields attached", "id": str(uuid.uuid4()),
                                "createdAt": "2001-01-01T00:00:00Z", "ticketCount": 7})
    assert 200 <= response.status_code < 300 or response.status_code in expect.VALIDATION, (
        f"[PATCH-IMMUTABLE-FIELDS] read-only fields in a PATCH must be ignored (2xx) or refused (400/422): "
        f"{expect.describe(response)}")
    answers = [("GET", capabilities.read_back(api, created["id"]))]
    if 200 <= response.status_code < 300:
        answers.insert(0, ("PATCH", expect.success(response, range(200, 300))))
    problems = []
    for source, got in answers:
        problems += [f"{source} {d}" for d in unchanged(got, created, ("id", "createdAt", "ticketCount"))]
        updated = capabilities.instant(got.get("updatedAt"), "updatedAt")
        if updated < capabilities.instant(created["updatedAt"], "updatedAt"):
            problems.append(f"{source} updatedAt went backwards: {got.get('updatedAt')!r} < {created['updatedAt']!r}")
        if updated < capabilities.instant(got.get("createdAt"), "createdAt"):
            problems.append(f"{source} updatedAt {got.get('updatedAt')!r} is before createdAt {got.get('createdAt')!r}")
    assert not problems, (f"[PATCH-IMMUTABLE-FIELDS] {'; '.join(problems)}; {expect.describe(response)}; "
                          f"GET shows {answers[-1][1]!r}")
    # two more PATCHes at once: within one second, a rendering that garbles the fraction of a timestamp
    # (found by a mutant: `micros & 1000` for `micros // 1000`) sends updatedAt back and forth
    last = answers[-1][1]
    for n in range(2):
        again = api.patch(path, {"notes": f"quick change {n}"})
        if not 200 <= again.status_code < 300:
            capabilities.block("PATCH-KEEPS-OMITTED", f"a PATCH of notes was refused: {expect.describe(again)}")
        got = expect.success(again, range(200, 300))
        if capabilities.instant(got.get("updatedAt"), "updatedAt") < capabilities.instant(last["updatedAt"],
                                                                                          "updatedAt"):
            problems.append(f"updatedAt went backwards: {got.get('updatedAt')!r} after {last['updatedAt']!r}")
        last = got
    assert not problems, f"[PATCH-IMMUTABLE-FIELDS] {'; '.join(problems)}"


@pytest.mark.rule("PATCH-UNKNOWN-404")
def test_patch_of_an_unknown_id_is_404(api: ApiClient, factory: DataFactory) -> None:
    response = api.patch(f"/customers/{uuid.uuid4()}", {"notes": "nobody is here"})
    factory.track_response("customer", response)
    assert response.status_code == 404, f"[PATCH-UNKNOWN-404] expected 404: {expect.describe(response)}"
    expect.error(response, (404,))


@pytest.fixture(scope="module")
def aged_patch(api: ApiClient, aged: Aged) -> httpx.Response:
    """A changing PATCH of the module's first customer, made more than a second after its create (the
    tests that use it come last in the file, so the wait is mostly over by then)."""
    wait_until(lambda: time.monotonic() - aged.created_at > 1.1, timeout=2.0)
    return api.patch(f"/customers/{aged.customer['id']}", {"notes": "after more than a second"})


@pytest.mark.rule("PATCH-UPDATEDAT-MOVES")
def test_changing_patch_moves_updated_at_forward(aged: Aged, aged_patch: httpx.Response) -> None:
    """Timestamps may have one-second resolution: a changing PATCH more than a second after the create
    must give a later updatedAt."""
    got = expect.success(aged_patch)
    before = capabilities.instant(aged.customer["updatedAt"], "updatedAt")
    after = capabilities.instant(got.get("updatedAt"), "updatedAt")
    assert after > before, (
        f"[PATCH-UPDATEDAT-MOVES] a PATCH more than a second after the create must move updatedAt forward: "
        f"{aged.customer['updatedAt']!r} → {got.get('updatedAt')!r}; {expect.describe(aged_patch)}")


@pytest.mark.rule("PATCH-IMMUTABLE-FIELDS")
def test_patch_a_second_after_the_create_keeps_id_created_at_and_ticket_count(
        aged: Aged, aged_patch: httpx.Response) -> None:
    """The same PATCH, long enough after the create for a one-second clock to tick: a createdAt rewritten by
    the update (an upsert, a wrong onupdate) shows even on a target with whole-second timestamps."""
    got = expect.success(aged_patch)
    diffs = unchanged(got, aged.customer, ("id", "createdAt", "ticketCount"))
    assert not diffs, (f"[PATCH-IMMUTABLE-FIELDS] a PATCH of notes changed read-only fields: {diffs}; "
                       f"{expect.describe(aged_patch)}")
