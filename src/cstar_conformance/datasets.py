"""Seeded, run-tagged datasets that many read-only tests share.

The listing dataset is a set of customers whose every email and name carries one dataset token
(`search_token`, which starts with the run id), so `search=<search_token>` narrows any list on a
shared target to exactly these records. A known spread of status × sentiment backs the filter
tests, and two further tokens back the search tests, both in the middle of the string (a substring,
not a prefix): a name token found only in some names, and a mixed-case email token found only in
some emails (searched in its stored letter case, which a search that lower-cases the term but not
the address misses).

The name token is made of what query builders get wrong: `%` and `_` (SQL LIKE wildcards), `*` (a
search engine's), a quote and a trailing backslash (string literals and LIKE's escape character) and
a letter outside ASCII (`ë`, which an ASCII-only lower() does not fold). Decoy records carry it with
one wildcard replaced by other characters, one record carries it in its notes and one in its tags:
a search for the token must find exactly the names that contain it. Most other records share one
name, so an order by name without a tie-breaker shows in the page walks. Expectations are computed
from the records as the target returned them.
"""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass
from functools import partial
from typing import Any

from cstar_conformance import capabilities
from cstar_conformance.factory import EMAIL_DOMAIN, DataFactory
from cstar_conformance.waves import together

STATUSES = ("active", "inactive")
SENTIMENTS = ("happy", "neutral", "frustrated", "angry")
# the name token's wildcards, each replaced in one decoy by characters the wildcard would match
DECOYS = {"%": "Xx", "_": "Q", "*": "Ww"}


@dataclass(frozen=True)
class ListingDataset:
    """What `seed_listing_dataset` created, with the expectations the list tests need."""

    search_token: str  # in every email and name of the set; nowhere else on the target
    name_token: str  # wildcards, a quote, a backslash, mixed case; only in the names of `ids_with_name_token`
    email_token: str  # mixed case; only in the emails of `ids_with_email_token`
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
        return frozenset(c["id"] for c in self.customers
                         if self.email_token.lower() in str(c.get("email")).lower())

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


def name_token() -> str:
    """`Qu%3f_a1*c7'Zël\\`: LIKE's and a search engine's wildcards, a quote, `ë` and a trailing backslash."""
    hex_part = secrets.token_hex(3)
    return f"Qu%{hex_part[:2]}_{hex_part[2:4]}*{hex_part[4:]}'Zël\\"


def seed_listing_dataset(factory: DataFactory, count: int = 8, page_size: int = 4,
                         ragged_page_size: int = 3) -> ListingDataset:
    """Create `count` run-tagged customers (one request each) and describe them.

    Record i gets sentiment SENTIMENTS[i % 4] and status inactive when i + i // 4 is odd (else active), so
    every eight records hold every status × sentiment pair once (a filter that drops either value, or ORs
    them, lists more than the pair's one record); the name token goes to the names of every i % 3 == 0, the
    email token to the emails of every i % 4 == 2 (some carry both); records 1, 2 and 4 are the decoys,
    record 5 carries the name token in its notes and record 7 in its tags. Eight records, each a create and a
    delete of the run's budget, are what those roles need: the smallest set with every pair.
    """
    if count % page_size or not count % ragged_page_size or not 8 <= count <= 100:
        raise ValueError("count must be 8..100, a multiple of page_size and not of ragged_page_size")
    search_token = f"{factory.run_id}-listing{secrets.token_hex(3)}"
    token = name_token()
    email_token = f"Ml{secrets.token_hex(3)}Qx"  # capitals: searched as stored, and swapped
    decoys = {1: "%", 2: "_", 4: "*"}
    bodies: dict[int, dict[str, Any]] = {}
    for i in range(count):
        extra: dict[str, Any] = {}
        if i % 3 == 0:
            name = f"Ada {token}son {search_token}"
        elif i in decoys:
            name = f"Ada {token.replace(decoys[i], DECOYS[decoys[i]])}son {search_token}"
        else:
            name = f"Ada Listing {search_token}"  # one name for many: ties an order by name must break
        if i == 5:
            extra["notes"] = f"Note {token}"
        if i == 7:
            extra["tags"] = [factory.tag, token]
        local = f"{search_token}-{email_token}-{i}" if i % 4 == 2 else f"{search_token}-{i}"
        bodies[i] = dict(name=name, email=f"{local}@{EMAIL_DOMAIN}",
                         status=STATUSES[(i + i // 4) % 2], sentiment=SENTIMENTS[i % 4], **extra)
    # the creates are independent: sent in waves (waves.py); the records listed in the order asked
    made = together({i: partial(capabilities.create_customer, factory, "listing", **body)
                     for i, body in bodies.items()})
    customers = [made[i] for i in range(count)]
    return ListingDataset(search_token=search_token, name_token=token, email_token=email_token,
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
