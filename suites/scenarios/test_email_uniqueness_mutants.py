"""§3 Update: the email is unique per team — gaps machine-made mutants of the reference found (see
docs/mutation-survivors.md). To be merged into test_email_uniqueness.py."""

from __future__ import annotations

from typing import Any

import pytest

from cstar_conformance import capabilities, expect
from cstar_conformance.client import ApiClient
from cstar_conformance.factory import DataFactory

SUCCESS_2XX = tuple(range(200, 300))


def _patch_email(api: ApiClient, customer: dict[str, Any], email: str, whose: str) -> None:
    response = api.patch(f"/customers/{customer['id']}", {"email": email})
    assert 200 <= response.status_code < 300, (
        f"[PATCH-KEEPS-OMITTED] {email} belongs only to {whose} team's customer, and an address is unique per team "
        f"(EMAIL-OTHER-TEAM-OK): the PATCH must change the email: {expect.describe(response)}")
    got = expect.success(response, SUCCESS_2XX)
    assert isinstance(got, dict) and got.get("email") == email, (
        f"[PATCH-KEEPS-OMITTED] the PATCH answered without the new email {email}: {expect.describe(response)}")
    stored = capabilities.read_back(api, customer["id"])
    assert stored.get("email") == email, (
        f"[PATCH-KEEPS-OMITTED] the new email {email} was not stored: GET says {stored.get('email')!r}")


@pytest.mark.rule("PATCH-KEEPS-OMITTED", "EMAIL-OTHER-TEAM-OK")
def test_patch_to_an_address_used_only_in_another_team_is_accepted_both_ways(
        api: ApiClient, other_api: ApiClient, factory: DataFactory) -> None:
    # both directions: a conflict query whose team condition is wrong (`!=`, `<`, `>=`, none) looks into
    # the other team for one of the two teams at least
    mine = capabilities.create_customer(factory, "patch-xteam-a")
    theirs = capabilities.create_customer(factory, "patch-xteam-b", api=other_api)
    _patch_email(api, mine, theirs["email"], "the other")
    mine_again = capabilities.create_customer(factory, "patch-xteam-c")
    _patch_email(other_api, theirs, mine_again["email"], "this")
