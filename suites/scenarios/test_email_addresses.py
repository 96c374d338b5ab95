"""§3 Create / Update: ordinary email addresses — dot-atom local parts, `+` sub-addressing, several domain
labels, upper case — are accepted by create and PATCH and come back exactly as sent (letter case
included) from the create answer, GET and the list (EMAIL-ORDINARY).

One customer per feature, so a failure names the feature; every address keeps the run id as written
and a domain under conformance.example (`datasets.ordinary_emails`), and one search for their shared
token reads them all back from the list."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from cstar_conformance import capabilities, expect
from cstar_conformance.client import ApiClient
from cstar_conformance.datasets import ordinary_emails
from cstar_conformance.factory import DataFactory
from cstar_conformance.session import Session

FEATURES = ["dot-atom local part", "+ sub-address", "several domain labels", "upper case"]
# each feature is in the address PATCHed "all at once" in every profile; a customer of its own only in thorough
THOROUGH_FEATURES = ("dot-atom local part", "several domain labels")


def _features() -> list[Any]:
    return [pytest.param(f, marks=pytest.mark.thorough(f"EMAIL-ORDINARY's {f} by the address PATCHed all at once"))
            if f in THOROUGH_FEATURES else f for f in FEATURES]
PATCHED_TO = "all at once"


@dataclass(frozen=True)
class Addresses:
    token: str  # in every address, as written
    emails: dict[str, str]  # feature → address
    created: dict[str, httpx.Response]  # feature → create answer

    def customer(self, feature: str) -> dict[str, str]:
        response = self.created[feature]
        assert 200 <= response.status_code < 300, (
            f"[EMAIL-ORDINARY] {self.emails[feature]} ({feature}) is an ordinary address and must be accepted: "
            f"{expect.describe(response)}")
        return capabilities.created(response)


@pytest.fixture(scope="module")
def addresses(cstar: Session, factory: DataFactory) -> Addresses:
    token, emails = ordinary_emails(factory)
    created = {feature: factory.post_customer(factory.customer_body("addr", email=emails[feature]))
               for feature in FEATURES if cstar.profile == "thorough" or feature not in THOROUGH_FEATURES}
    return Addresses(token, emails, created)


def _exactly(got: object, sent: str, where: str) -> None:
    assert got == sent, (f"[EMAIL-ORDINARY] the address must come back exactly as sent ({where}): sent {sent!r}, "
                         f"got {got!r}")


@pytest.mark.rule("EMAIL-ORDINARY")
@pytest.mark.parametrize("feature", _features())
def test_ordinary_address_is_accepted_and_returned_exactly_by_create_and_get(
        api: ApiClient, addresses: Addresses, feature: str) -> None:
    customer = addresses.customer(feature)
    sent = addresses.emails[feature]
    _exactly(customer.get("email"), sent, "create answer")
    _exactly(capabilities.read_back(api, customer["id"]).get("email"), sent, "GET")


@pytest.mark.rule("EMAIL-ORDINARY")
def test_ordinary_addresses_are_listed_exactly_as_sent(api: ApiClient, addresses: Addresses) -> None:
    accepted = {feature: addresses.customer(feature) for feature in addresses.created}
    found = capabilities.search(api, addresses.token, list(accepted.values()))
    listed = {c.get("id"): c.get("email") for c in found.data if isinstance(c, dict)}
    wrong = [f"{feature}: sent {addresses.emails[feature]!r}, listed {listed[c['id']]!r}"
             for feature, c in accepted.items() if listed[c["id"]] != addresses.emails[feature]]
    assert not wrong, f"[EMAIL-ORDINARY] addresses must be listed exactly as sent: {wrong}"


@pytest.mark.rule("EMAIL-ORDINARY")
def test_patch_to_an_ordinary_address_keeps_it_exactly(api: ApiClient, addresses: Addresses) -> None:
    """Last in the file (it changes the first customer's address): dots, `+`, several labels and mixed
    case in one address, set by PATCH."""
    customer = addresses.customer(next(iter(addresses.created)))
    sent = addresses.emails[PATCHED_TO]
    response = api.patch(f"/customers/{customer['id']}", {"email": sent})
    assert 200 <= response.status_code < 300, (
        f"[EMAIL-ORDINARY] PATCH to the ordinary address {sent!r} must be accepted: {expect.describe(response)}")
    answer = expect.success(response, range(200, 300))
    _exactly(answer.get("email"), sent, "PATCH answer")
    stored = capabilities.read_back(api, customer["id"], answered=answer, earlier=[customer])
    _exactly(stored.get("email"), sent, "GET after the PATCH")
