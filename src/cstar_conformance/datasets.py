"""Seeded, run-tagged datasets that many read-only tests share.

The listing dataset is a set of customers whose every email and name carries one dataset token
(`search_token`, which starts with the run id), so `search=<search_token>` narrows any list on a
shared target to exactly these records. A known spread of status × sentiment backs the filter
tests, and two further tokens back the search tests: a mixed-case token found only in some names
and a lower-case token found only in some emails, both in the middle of the string (a substring,
not a prefix). Expectations are computed from the records as the target returned them.
"""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass
from typing import Any

from cstar_conformance import capabilities
from cstar_conformance.factory import EMAIL_DOMAIN, DataFactory

STATUSES = ("active", "inactive")
SENTIMENTS = ("happy", "neutral", "frustrated", "angry")


@dataclass(frozen=True)
class ListingDataset:
    """What `seed_listing_dataset` created, with the expectations the list tests need."""

    search_token: str  # in every email and name of the set; nowhere else on the target
    name_token: str  # mixed case; only in the names of `ids_with_name_token`
    email_token: str  # lower case; only in the emails of `ids_with_email_token`
    customers: tuple[dict[str, Any], ...]  # as the target returned them, in creation order
    page_size: int  # divides `count`: the last page is an exact boundary (total = pages × size)
    ragged_page_size: int  # does not divide `count`: the last page is partly filled

    @property
    def count(self) -> int:
        return len(self.customers)

    @property
    def ids(self) -> frozenset[str]:
        return frozenset(c["id"] for c in self.customers)

    def ids_where(self, status: str | None = None, sentiment: str | None = None) -> frozenset[str]:
        """Ids of the records matching both given values (None = any)."""
        return frozenset(c["id"] for c in self.customers
                         if (status is None or c.get("status") == status)
                         and (sentiment is None or c.get("sentiment") == sentiment))

    @property
    def ids_with_name_token(self) -> frozenset[str]:
        return frozenset(c["id"] for c in self.customers if self.name_token in str(c.get("name")))

    @property
    def ids_with_email_token(self) -> frozenset[str]:
        return frozenset(c["id"] for c in self.customers if self.email_token in str(c.get("email")).lower())

    def pages(self, page_size: int) -> int:
        """Number of non-empty pages at this page size."""
        return math.ceil(self.count / page_size)

    def spread(self) -> dict[tuple[str, str], int]:
        """(status, sentiment) → number of records."""
        return {(s, m): len(self.ids_where(s, m)) for s in STATUSES for m in SENTIMENTS}

    def foreign_body(self, label: str) -> dict[str, Any]:
        """A create body carrying all three tokens, for a record that must NOT match (another team's)."""
        return {"name": f"Ada {self.name_token}son {self.search_token} {label}",
                "email": f"{self.search_token}-{label}-{self.email_token}@{EMAIL_DOMAIN}"}


def seed_listing_dataset(factory: DataFactory, count: int = 25, page_size: int = 5,
                         ragged_page_size: int = 7) -> ListingDataset:
    """Create `count` run-tagged customers (one request each) and describe them.

    Record i gets status inactive when i % 3 == 1 (else active) and sentiment SENTIMENTS[i % 4], so
    every status × sentiment pair occurs and single and combined filters have distinct counts; the
    name token goes to every i % 3 == 0, the email token to every i % 4 == 2 (some carry both).
    """
    if count % page_size or not count % ragged_page_size or count > 100:
        raise ValueError("count must be a multiple of page_size, not of ragged_page_size, and at most 100")
    hex_part = secrets.token_hex(3)
    search_token = f"{factory.run_id}-listing{secrets.token_hex(3)}"
    name_token = f"Qu{hex_part}Zel"  # upper and lower letters: swapcase changes every letter
    email_token = f"ml{secrets.token_hex(3)}"
    customers = []
    for i in range(count):
        named = i % 3 == 0
        mailed = i % 4 == 2
        name = f"Ada {name_token}son {search_token} {i}" if named else f"Ada Listing {search_token} {i}"
        local = f"{search_token}-{email_token}-{i}" if mailed else f"{search_token}-{i}"
        customers.append(capabilities.create_customer(
            factory, "listing", name=name, email=f"{local}@{EMAIL_DOMAIN}",
            status=STATUSES[1] if i % 3 == 1 else STATUSES[0], sentiment=SENTIMENTS[i % 4]))
    return ListingDataset(search_token=search_token, name_token=name_token, email_token=email_token,
                          customers=tuple(customers), page_size=page_size, ragged_page_size=ragged_page_size)


def upper_but(email: str, marker: str) -> str:
    """`email` in upper case except `marker` (the run id, which sweeps look for as written)."""
    head, found, tail = email.partition(marker)
    return head.upper() + found + tail.upper()


def ordinary_emails(factory: DataFactory, label: str = "addr") -> tuple[str, dict[str, str]]:
    """(token, feature → address): one ordinary address per feature of the contract's "ordinary email
    addresses" (EMAIL-ORDINARY) — dot-atom local part, `+` sub-address, several domain labels, upper
    case — and, under "all at once", one with every feature (for a PATCH). Every address carries
    `token` as written (it starts with the run id: sweeps find it, and one search finds them all) and
    a domain under conformance.example."""
    token = factory.unique(label)
    return token, {
        "dot-atom local part": f"ada.lovelace.{token}@{EMAIL_DOMAIN}",
        "+ sub-address": f"{token}+billing@{EMAIL_DOMAIN}",
        "several domain labels": f"{token}@mail.eu.{EMAIL_DOMAIN}",
        "upper case": f"ADA.{token}@{EMAIL_DOMAIN.upper()}",
        "all at once": f"First.Last+Billing.{token}@Mail.EU.{EMAIL_DOMAIN.title()}",
    }
