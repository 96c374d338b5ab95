"""Test data: every record the suite creates carries the run's marker, is tracked, and is deleted
at the end — also when tests fail. Leftovers of earlier interrupted runs are swept at start."""

from __future__ import annotations

import itertools
import secrets
import threading
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import httpx

from cstar_conformance import grouped
from cstar_conformance.client import ApiClient
from cstar_conformance.waves import together

MARKER = "cstconf"  # every run id starts with it; the sweep only ever touches this marker
EMAIL_DOMAIN = "conformance.example"
RUN_FIELD = "conformanceRun"
CLEANUP_IN_FLIGHT = 16  # deletes in flight together at the end of a run (independent: one kind per wave)


def new_run_id() -> str:
    return f"{MARKER}{secrets.token_hex(4)}"


@dataclass
class Created:
    kind: str  # "customer" | "ticket" | "webhook"
    id: str
    api: ApiClient
    customer: str | None = None  # a ticket's customer, as its create answered it


@dataclass
class DataFactory:
    """Builds and creates run-tagged records through one client, and cleans them up."""

    api: ApiClient
    run_id: str
    _seq: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _created: list[Created] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def tag(self) -> str:
        return f"run-{self.run_id}"

    def unique(self, label: str = "c") -> str:
        """A token unique to this run and call, e.g. cstconf1a2b3c4d-patch-7."""
        return f"{self.run_id}-{label}-{next(self._seq)}"

    def email(self, label: str = "c") -> str:
        return f"{self.unique(label)}@{EMAIL_DOMAIN}"

    def customer_body(self, label: str = "c", **fields: Any) -> dict[str, Any]:
        """A valid create body carrying the run marker (email, tag and custom field)."""
        body: dict[str, Any] = {"name": f"Conformance {self.unique(label)}", "email": self.email(label)}
        body.update(fields)
        return body

    def tagged_body(self, label: str = "c", **fields: Any) -> dict[str, Any]:
        """Like customer_body, plus the run tag and custom field (for tests that check those fields
        themselves, use customer_body and set them explicitly)."""
        body = self.customer_body(label, **fields)
        body.setdefault("tags", [self.tag])
        body.setdefault("customFields", {RUN_FIELD: self.run_id})
        return body

    def track(self, kind: str, record_id: str, api: ApiClient | None = None, customer: str | None = None) -> None:
        with self._lock:
            self._created.append(Created(kind, record_id, api or self.api, customer))

    def track_response(self, kind: str, response: httpx.Response, api: ApiClient | None = None) -> None:
        """Track whatever a create call made, if it made something."""
        if response.status_code in (200, 201):
            try:
                data = response.json()["data"]
                record_id = data["id"]
            except (ValueError, KeyError, TypeError):
                return
            customer = data.get("customerId") if kind == "ticket" and isinstance(data, dict) else None
            if isinstance(record_id, str):
                self.track(kind, record_id, api, customer if isinstance(customer, str) else None)

    def post_customer(self, body: Any, api: ApiClient | None = None, **kw: Any) -> httpx.Response:
        """POST a customer body as given, tracking anything it creates."""
        client = api or self.api
        response = client.post("/customers", body, **kw)
        self.track_response("customer", response, client)
        return response

    def probe_creates(self, label: str, cases: Mapping[str, Mapping[str, Any]]
                      ) -> dict[str, tuple[dict[str, Any], httpx.Response]]:
        """Create probes (each case: the fields it sets on a valid body), those of different fields in one
        create, split when it is not answered 2xx (grouped.py): case → (the fields sent with it, its answer)."""
        return grouped.probe(cases, lambda fields: self.post_customer(self.customer_body(label, **fields)),
                             lambda response: 200 <= response.status_code < 300)

    def create_customer(self, label: str = "c", api: ApiClient | None = None, **fields: Any) -> dict[str, Any]:
        """Create a run-tagged customer and return it; fails loudly if the target refuses."""
        response = self.post_customer(self.tagged_body(label, **fields), api)
        assert response.status_code in (200, 201), (
            f"set-up: creating a customer failed with {response.status_code}: {response.text[:300]}")
        return response.json()["data"]

    def create_ticket(self, customer_id: str, api: ApiClient | None = None, headers: dict[str, str] | None = None,
                      **fields: Any) -> httpx.Response:
        client = api or self.api
        body = {"title": f"Conformance ticket {customer_id}", "customerId": customer_id, **fields}
        response = client.post("/tickets", body, headers=headers)
        self.track_response("ticket", response, client)
        return response

    def create_webhook(self, url: str, events: list[str], api: ApiClient | None = None) -> httpx.Response:
        client = api or self.api
        response = client.post("/webhooks", {"url": url, "events": events})
        self.track_response("webhook", response, client)
        return response

    def pending(self) -> int:
        """How many records the cleanup will have to delete (the budget keeps that many requests back)."""
        with self._lock:
            return len(self._created)

    def forget(self, kind: str, record_id: str) -> None:
        with self._lock:
            self._created = [c for c in self._created if not (c.kind == kind and c.id == record_id)]

    def cleanup(self, parallel: int = CLEANUP_IN_FLIGHT, cascade: bool = False) -> list[str]:
        """Delete everything created — webhooks, then tickets, then customers, each kind in one wave of at most
        `parallel` requests in flight (the deletes of one kind are independent: latency is paid once per wave,
        not once per record); return what could not be deleted.

        With `cascade` (the run saw DELETE-CASCADE hold and never break), a ticket whose customer is deleted here
        through the same team is left to that delete: the contract deletes it with its customer."""
        with self._lock:
            todo, self._created = self._created, []
        if cascade:
            doomed = {(id(c.api), c.id) for c in todo if c.kind == "customer"}
            todo = [c for c in todo if not (c.kind == "ticket" and (id(c.api), c.customer) in doomed)]
        leftovers: list[str] = []

        def delete(item: Created) -> str | None:
            try:
                status = item.api.delete(f"/{item.kind}s/{item.id}").status_code
            # a transport error, the budget, a connection broken mid-exchange: left behind and reported, never a
            # traceback
            except Exception as exc:
                return f"{item.kind} {item.id}: {type(exc).__name__}: {exc}"
            return None if status in (200, 202, 204, 404) else f"{item.kind} {item.id}: DELETE answered {status}"

        for kind in ("webhook", "ticket", "customer"):
            wave = [item for item in reversed(todo) if item.kind == kind]
            problems = together({n: partial(delete, item) for n, item in enumerate(wave)}, parallel)
            leftovers += [problem for problem in problems.values() if problem]
        return leftovers


def sweep_query(page: int, marker: str = MARKER) -> dict[str, Any]:
    """The list query of page `page` of the customers carrying `marker` (the sweep's and the audit's)."""
    return {"search": marker.lower(), "page": page, "pageSize": 100}


def find_run_customers(api: ApiClient, marker: str, max_pages: int = 20,
                       first: httpx.Response | None = None) -> list[dict[str, Any]]:
    """Customers of the team whose email contains `marker`, in any letter case (uses the contract's
    search; a target may hand an address back in another case than it was given). `first`: page 1 of that
    query, already answered (the preflight reads it)."""
    marker = marker.lower()
    found: list[dict[str, Any]] = []
    for page in range(1, max_pages + 1):
        response = first if page == 1 and first is not None else api.get("/customers", params=sweep_query(page, marker))
        if response.status_code != 200:
            break
        body = response.json()
        found += [c for c in body.get("data", []) if marker in str(c.get("email", "")).lower()]
        if not body.get("pagination", {}).get("hasMore"):
            break
    return found


def sweep_stale(api: ApiClient, older_than: timedelta = timedelta(minutes=10),
                first: httpx.Response | None = None) -> int:
    """Like _sweep_stale, but housekeeping never stops the run: a target whose answers break the
    contract here gets a warning, and its checks go on to grade that breach."""
    try:
        return _sweep_stale(api, older_than, first)
    except (httpx.HTTPError, ValueError, KeyError, TypeError, AttributeError) as exc:
        warnings.warn(f"sweep of earlier runs' records skipped: {type(exc).__name__}: {exc}", stacklevel=2)
        return 0


def _sweep_stale(api: ApiClient, older_than: timedelta, first: httpx.Response | None = None) -> int:
    """Delete what earlier runs of this suite left behind (interrupted, killed): customers whose email
    and webhooks whose URL carry the suite's marker, created more than `older_than` ago — so a run
    that is going on right now beside us is never touched."""
    cutoff = datetime.now(UTC) - older_than
    removed = 0

    def stale(record: dict[str, Any]) -> bool:
        created = _parse_time(record.get("createdAt"))
        return created is not None and created <= cutoff

    for customer in find_run_customers(api, MARKER, first=first):
        if stale(customer) and api.delete(f"/customers/{customer['id']}").status_code in (200, 204, 404):
            removed += 1
    response = api.get("/webhooks", params={"pageSize": 100})
    if response.status_code == 200:
        for hook in response.json().get("data", []):
            if MARKER in str(hook.get("url", "")).lower() and stale(hook):
                if api.delete(f"/webhooks/{hook['id']}").status_code in (200, 204, 404):
                    removed += 1
    return removed


def _run_records(api: ApiClient, run_id: str) -> list[tuple[str, str, str]]:
    """(kind, id, label) of every customer and webhook on the target that carries this run's id."""
    found = [("customer", str(c["id"]), f"customer {c['id']} <{c.get('email')}>")
             for c in find_run_customers(api, run_id)]
    response = api.get("/webhooks", params={"pageSize": 100})
    if response.status_code == 200:
        found += [("webhook", str(h.get("id")), f"webhook {h.get('id')} → {h.get('url')}")
                  for h in response.json().get("data", []) if run_id.lower() in str(h.get("url", "")).lower()]
    return found


def audit(api: ApiClient, run_id: str, settle: float = 0.0) -> list[str]:
    """After cleanup: delete whatever of this run is still on the target (a record whose create was
    interrupted before its answer was read is carried by nobody's list but has the run id), then
    return what is left even so — which should be nothing. After an interrupt (`settle` > 0) such a
    create may land only now: whatever is found is deleted, and the target looked at once more after
    `settle` seconds."""
    rounds = 2 if settle else 1
    for round_ in range(rounds):
        found = _run_records(api, run_id)
        if not found:
            return []
        for kind, record_id, _ in found:
            api.delete(f"/{kind}s/{record_id}")
        if round_ + 1 < rounds:
            time.sleep(settle)
    return [label for _, _, label in _run_records(api, run_id)]


def _parse_time(value: Any) -> datetime | None:
    """An aware datetime; a timestamp without an offset (a contract breach graded elsewhere) is read as
    UTC, so that housekeeping still works on such a target."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def wait_until(predicate: Any, timeout: float, interval: float = 0.05) -> Any:
    """Poll `predicate` until it returns a truthy value or the deadline passes (returns the last value)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)
