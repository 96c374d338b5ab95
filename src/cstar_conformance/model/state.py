"""The state of everything a run owns on the target, as the contract lets the suite know it: each customer
as a set of values it may legally have now (one, unless a concurrent or unanswered write leaves several
open), whether it is live, its tickets, the run's webhook registrations, and what rejected requests tried.
Comparing a customer seen anywhere with that state names the rule each difference breaks."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from cstar_conformance.model.exchange import Exchange
from cstar_conformance.model.values import CUSTOMER_FIELDS, same_instant, same_json, seconds


class Life(Enum):
    LIVE = "live"
    DELETED = "deleted"
    MAYBE = "maybe"  # a create or delete whose answer never came


@dataclass
class Rejected:
    """A refused write (or one that must change nothing) since the record was last seen as the model
    expected: if the record changed anyway, this is the likely culprit."""

    exchange: Exchange
    rules: tuple[str, ...]
    fields: dict[str, Any]


@dataclass
class CustomerRec:
    id: str
    team: str
    values: list[dict[str, Any]]  # the values the customer may legally have now (API field names)
    life: Life = Life.LIVE
    written_mono: float = 0.0  # the monotonic time the answer of the last write came (updatedAt moves after)
    rejected: list[Rejected] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)  # earlier confirmed values
    tickets_live: int = 0
    tickets_ever: int = 0
    tickets_unsure: int = 0  # ticket creates or deletes whose answer never came
    created_by: Exchange | None = None  # the create that made it (an Idempotency-Key replay returns its answer)
    created_window: tuple[float, float] = (0.0, 0.0)  # wall clock around its create: createdAt lies in it

    def ticket_range(self) -> tuple[int, int]:
        """The legal ticketCount: current tickets up to every ticket ever opened (§4), widened by writes whose
        answers were lost."""
        return max(0, self.tickets_live - self.tickets_unsure), self.tickets_ever + self.tickets_unsure

    def settle(self, value: dict[str, Any]) -> None:
        """The customer was seen as `value`, one of its legal values: that is now its only one."""
        current = self.values[0] if self.values else None
        if current is not None and not same_view(current, value):
            self.history.append(current)
        self.values = [view(value)]
        self.rejected.clear()


@dataclass
class TicketRec:
    id: str
    team: str
    customer: str
    life: Life = Life.LIVE
    cascaded: bool = False  # deleted with its customer


@dataclass
class WebhookRec:
    id: str
    team: str
    path: str  # the receiver path it delivers to
    events: tuple[str, ...]
    secret: str
    registered: float  # wall clock when the registration was answered
    deleted: float | None = None  # wall clock when its DELETE was answered
    deleting: float | None = None  # wall clock when its DELETE was sent
    healthy: bool = True  # the endpoint answers 2xx: the delivery bounds hold for it

    def wants(self, event_type: str) -> bool:
        return "*" in self.events or event_type in self.events


def view(customer: dict[str, Any]) -> dict[str, Any]:
    """The contract's fields of a customer (extra fields are legal and ignored)."""
    return {name: customer.get(name) for name in CUSTOMER_FIELDS}


def _notes_equal(a: Any, b: Any) -> bool:
    """Notes as sent, exactly: `""` is no `null` (only a default may be either, and the model expects the one the
    target chose)."""
    return same_json(a, b)


def differences(seen: dict[str, Any], expected: dict[str, Any], ticket_range: tuple[int, int] | None = None
                ) -> list[tuple[str, str]]:
    """(field, what differs) between a customer as seen and as the model expects it: strings and arrays
    character for character and in order, JSON types exact, timestamps as instants. ticketCount is judged
    against `ticket_range` when given."""
    diffs = []
    for name in CUSTOMER_FIELDS:
        got, want = seen.get(name), expected.get(name)
        if name == "ticketCount":
            if ticket_range is not None and isinstance(got, int) and not isinstance(got, bool):
                low, high = ticket_range
                if not low <= got <= high:
                    diffs.append((name, f"ticketCount {got}, but the customer has {low}"
                                        + (f" to {high}" if high != low else "") + " tickets"))
            elif ticket_range is None and not same_json(got, want):
                diffs.append((name, f"ticketCount {got!r}, expected {want!r}"))
            continue
        if name in ("createdAt", "updatedAt"):
            if not same_instant(got, want):
                diffs.append((name, f"{name} {got!r}, expected {want!r}"))
        elif name == "notes":
            if not _notes_equal(got, want):
                diffs.append((name, f"notes {got!r:.80}, expected {want!r:.80}"))
        elif name == "customFields" and isinstance(got, dict) and isinstance(want, dict):
            for key in sorted(set(got) | set(want), key=str):
                if key not in got:
                    diffs.append(("customFields.key", f"customFields lacks key {key!r:.60}"))
                elif key not in want:
                    diffs.append(("customFields.key", f"customFields has key {key!r:.60}, never sent"))
                elif not _same_value(got[key], want[key]):
                    number = isinstance(want[key], int | float) and not isinstance(want[key], bool)
                    kind = "customFields.type" if type(got[key]) is not type(want[key]) or number \
                        else "customFields.value"
                    diffs.append((kind, f"customFields.{key} = {got[key]!r:.60}, expected {want[key]!r:.60}"))
        elif not same_json(got, want):
            diffs.append((name, f"{name} {got!r:.80}, expected {want!r:.80}"))
    return diffs


def _same_value(a: Any, b: Any) -> bool:
    """A custom-field value: JSON-equal, a number equal to the same number in another spelling (12 and 12.0
    are one JSON number)."""
    numbers = (int, float)
    if isinstance(a, numbers) and isinstance(b, numbers) and not isinstance(a, bool) and not isinstance(b, bool):
        return a == b
    return same_json(a, b)


def same_view(seen: dict[str, Any], expected: dict[str, Any]) -> bool:
    return not differences(seen, expected, (0, 1 << 62))


# The rule a difference in each field breaks, where the customer is seen: an answer to the write that
# made it (create, PATCH), or a later read (GET, a list, a webhook payload).
FIELD_RULES: dict[str, tuple[str, ...]] = {
    "name": ("CREATE-ROUNDTRIP",), "notes": ("CREATE-ROUNDTRIP",), "tags": ("CREATE-ROUNDTRIP",),
    "email": ("EMAIL-ORDINARY",), "customFields.value": ("CREATE-ROUNDTRIP",),
    "customFields.type": ("CUSTOMFIELDS-TYPES",), "customFields.key": ("CUSTOMFIELDS-KEYS",),
    "customFields": ("CUSTOMFIELDS-TYPES",), "ticketCount": ("TICKET-COUNT",),
    "status": ("GET-EQUALS",), "sentiment": ("GET-EQUALS",), "id": ("GET-EQUALS",),
    "createdAt": ("GET-EQUALS",), "updatedAt": ("GET-EQUALS",),
}


def clock_rules(seen: dict[str, Any], rec: CustomerRec, now: float, skew: float) -> tuple[str, ...]:
    """TIMESTAMP-TRUE-UTC when a customer is seen with a createdAt off the time of its create, or an updatedAt in
    the future, by more than `skew` (a read that shifts the clock: a session time zone, local time labelled Z)."""
    created, updated = seconds(seen.get("createdAt")), seconds(seen.get("updatedAt"))
    low, high = rec.created_window
    if high and created is not None and not low - skew <= created <= high + skew:
        return ("TIMESTAMP-TRUE-UTC",)
    if updated is not None and updated > now + skew:
        return ("TIMESTAMP-TRUE-UTC",)
    return ()


def rules_of(diffs: list[tuple[str, str]]) -> tuple[str, ...]:
    found: list[str] = []
    for name, _ in diffs:
        for rule_id in FIELD_RULES.get(name, ("GET-EQUALS",)):
            if rule_id not in found:
                found.append(rule_id)
    return tuple(found)


@dataclass
class State:
    customers: dict[str, CustomerRec] = field(default_factory=dict)
    tickets: dict[str, TicketRec] = field(default_factory=dict)
    webhooks: dict[str, WebhookRec] = field(default_factory=dict)
    ghosts: dict[str, Rejected] = field(default_factory=dict)  # email (lower) of a refused create → why
    refused_hooks: dict[str, Exchange] = field(default_factory=dict)  # url of a refused registration → its request
    lost_creates: dict[str, str] = field(default_factory=dict)  # email (lower) → team, a create never answered
    seen_ids: set[str] = field(default_factory=set)  # every customer id any answer carried
    version: int = 0  # moves on every write the run sends: list pages read at one version must agree
    unsettled: set[str] = field(default_factory=set)  # customers a concurrent write touched while a list was read
    pages: dict[tuple[Any, ...], dict[int, tuple[int, list[str], Exchange]]] = field(default_factory=dict)

    def fork(self) -> State:
        pages, self.pages = self.pages, {}
        try:
            twin = copy.deepcopy(self)
        finally:
            self.pages = pages
        twin.pages = {key: dict(value) for key, value in pages.items()}
        return twin

    def live_customers(self, team: str) -> list[CustomerRec]:
        return [c for c in self.customers.values() if c.team == team and c.life is not Life.DELETED]

    def email_holders(self, team: str, email: str) -> list[CustomerRec]:
        """Customers of `team` that may hold `email` now (in any letter case)."""
        wanted = email.lower()
        return [c for c in self.live_customers(team)
                if any(isinstance(v.get("email"), str) and v["email"].lower() == wanted for v in c.values)]
