"""§3 Create: a repeated POST with the same Idempotency-Key and body replays the first response."""

from __future__ import annotations

import uuid

import pytest

from cstar_conformance import capabilities, expect
from cstar_conformance.client import ApiClient
from cstar_conformance.factory import DataFactory


@pytest.mark.rule("IDEMPOTENCY-KEY")
def test_repeated_create_with_the_same_idempotency_key_replays_and_creates_nothing(
        api: ApiClient, factory: DataFactory) -> None:
    body = factory.customer_body("idem", notes="idempotent create")
    headers = {"Idempotency-Key": f"{factory.run_id}-{uuid.uuid4()}"}
    first = factory.post_customer(body, headers=headers)
    assert 200 <= first.status_code < 300, f"set-up: the first create failed: {expect.describe(first)}"
    created = expect.success(first, (first.status_code,))
    again = factory.post_customer(body, headers=headers)
    try:
        replayed = again.json().get("data")
    except (ValueError, AttributeError):
        replayed = None
    same_id = isinstance(replayed, dict) and replayed.get("id") == created["id"]
    assert again.status_code == first.status_code and same_id, (
        f"[IDEMPOTENCY-KEY] the repeated POST should replay the first response ({first.status_code}, id "
        f"{created['id']}): {expect.describe(again)}")
    holders = capabilities.holders(capabilities.search(api, body["email"], [created]), body["email"])
    assert len(holders) == 1, f"[IDEMPOTENCY-KEY] the repeated POST created another record: {holders}"
