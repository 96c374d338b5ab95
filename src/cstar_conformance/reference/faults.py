"""Fault switches: realistic bugs the reference server can be started with.

Each fault names the contract rules (ids of :mod:`cstar_conformance.rules`) it breaks and says which kind
of real-stack bug it plays. The server's code asks ``faults.on("name")`` at the exact place the bug would
live in a real backend (an unknown name raises); a server started without faults keeps every rule.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from cstar_conformance.rules import BY_ID


@dataclass(frozen=True)
class Fault:
    name: str
    rules: tuple[str, ...]
    description: str


def _f(name: str, rules: str, description: str) -> Fault:
    return Fault(name, tuple(r.strip() for r in rules.split(",")), description)


FAULTS: tuple[Fault, ...] = (
    # §1 transport, auth, envelopes
    _f("auth-missing-key-allowed", "AUTH-401",
       "a development fallback left on: a GET without Authorization is served as the path team's key"),
    _f("cross-team-path-ignored", "AUTH-CROSS-TEAM",
       "missing tenant check: the team comes from the key only, the path teamId is never compared"),
    _f("cross-team-read-by-id", "AUTH-CROSS-TEAM",
       "missing tenant condition: GET customer looks the id up without the team in the WHERE clause"),
    _f("publishable-key-writes", "PK-READ-ONLY", "missing permission check: publishable keys may write"),
    _f("malformed-json-500", "NO-5XX",
       "the route parses the body itself with json.loads and no error handling: bad JSON → 500"),
    _f("validation-detail-shape", "ENV-ERROR",
       "the framework's default validation handler is left in place: {\"detail\": [...]} 422 bodies"),
    _f("get-bare-customer", "ENV-SUCCESS", "one route forgets the envelope: GET customer returns the bare object"),
    _f("pagination-under-meta", "ENV-LIST",
       "an older envelope version: list bodies put pagination under meta.pagination"),
    _f("list-text-plain", "CONTENT-TYPE-JSON", "a hand-built list response is sent with Content-Type text/plain"),
    _f("unknown-method-200", "UNKNOWN-METHOD", "a catch-all route: PUT on a customer is served by the PATCH handler"),
    _f("rate-limit-no-retry-after", "RATE-LIMIT-RETRY-AFTER",
       "a bare rate limiter: 429 with neither Retry-After nor error.retryAfter (needs --rate-limit)"),
    _f("rejected-duplicate-emits-created", "REJECTED-CHANGES-NOTHING",
       "a dual write outside the transaction: customer.created is published before the INSERT hits the "
       "unique index, so a refused duplicate create still delivers an event (with a fresh id)"),
    _f("rejected-patch-emits-updated", "REJECTED-CHANGES-NOTHING",
       "an event hook that fires before validation ends: an invalid PATCH still publishes customer.updated "
       "with the unchanged customer"),
    _f("conflict-patch-partial-write", "REJECTED-CHANGES-NOTHING,PATCH-EMAIL-CONFLICT",
       "autocommitted statements: a PATCH whose email belongs to another customer writes its other fields, "
       "then answers 409"),
    _f("cross-team-patch-writes", "REJECTED-CHANGES-NOTHING,AUTH-CROSS-TEAM",
       "authorization after the write: a PATCH with another team's key updates the row by id, then checks "
       "the team and answers 403/404"),
    # §2 customer object
    _f("timestamps-naive", "CUSTOMER-SHAPE",
       "a naive datetime serialised: createdAt/updatedAt without Z or offset"),
    _f("create-defaults-wrong", "CREATE-DEFAULTS", "a wrong column default: sentiment defaults to happy"),
    _f("customfields-stringified", "CUSTOMFIELDS-TYPES",
       "an EAV text column: customFields values come back as strings (12 → \"12\", true → \"true\")"),
    _f("customfields-bool-as-int", "CUSTOMFIELDS-TYPES",
       "SQL boolean affinity: customFields booleans come back as 1/0"),
    # §3 list
    _f("list-default-pagesize-10", "LIST-DEFAULTS", "a wrong configured default: pageSize defaults to 10"),
    _f("bad-page-params-default", "LIST-BAD-PARAMS-4XX",
       "a lenient parser: page/pageSize that are not integers >= 1 silently fall back to the defaults"),
    _f("pagesize-unbounded", "LIST-PAGESIZE-MAX", "no upper bound: pageSize > 100 returns more than 100 items"),
    _f("pagesize-capped-50", "LIST-PAGESIZE-RANGE",
       "a configured maximum of 50: pageSize 51–100 is silently served as 50 and pagination says 50"),
    _f("pagination-echoes-requested-pagesize", "LIST-PAGINATION-HONEST",
       "pageSize > 100 is clamped in the query but pagination.pageSize echoes the request"),
    _f("huge-page-500", "LIST-PAGINATION-HONEST,NO-5XX",
       "an unchecked offset: a huge page overflows the SQLite integer (500)"),
    _f("total-before-filters", "LIST-TOTAL-HASMORE", "the count query forgets the filters: total counts the team"),
    _f("hasmore-off-by-one", "LIST-TOTAL-HASMORE", "an off-by-one: hasMore = page*pageSize <= total"),
    _f("past-end-returns-last-page", "LIST-PAST-END",
       "a clamped page number: a page past the end serves the last page"),
    _f("page2-offset-off-by-one", "LIST-WALK-COMPLETE", "an off-by-one: offset (page-1)*pageSize - 1 from page 2"),
    _f("filter-or-instead-of-and", "FILTER-EXACT", "operator precedence: status and sentiment filters are ORed"),
    _f("invalid-filter-ignored", "FILTER-INVALID-NOT-UNFILTERED,FILTER-INVALID-4XX",
       "a lenient parser: an unknown status/sentiment value is dropped and the list comes back unfiltered"),
    _f("search-name-only", "SEARCH-NAME-OR-EMAIL", "a half-written query: search matches the name only"),
    _f("search-case-sensitive", "SEARCH-CASE-INSENSITIVE", "a binary collation: search compares exact letter case"),
    _f("list-leaks-other-team", "LIST-TEAM-ONLY", "missing tenant condition: the search query forgets the team"),
    # §3 create
    _f("create-returns-id-only", "CREATE-2XX", "a lazy serializer: create answers 201 with data {id} only"),
    _f("create-returns-200", "CREATE-201", "the framework default status: create answers 200"),
    _f("create-missing-email-201", "CREATE-VALIDATION",
       "a model with a default for a required field: a missing email is stored as \"\""),
    _f("name-truncated-100", "CREATE-ROUNDTRIP", "a VARCHAR(100) column: name is silently truncated"),
    _f("emoji-mangled", "CREATE-ROUNDTRIP", "a utf8mb3 column: characters outside the BMP are stored as '?'"),
    _f("email-lowercased", "EMAIL-ORDINARY", "normalisation on store: the address is lower-cased (create and PATCH)"),
    _f("email-plus-rejected", "EMAIL-ORDINARY",
       "a home-made email validator that rejects '+' in the local part (400/422)"),
    _f("duplicate-email-200", "EMAIL-UNIQUE",
       "no unique index and an upsert-style handler: a duplicate create answers 200 with a second record"),
    _f("duplicate-email-400", "EMAIL-UNIQUE-409", "a generic error mapping: a duplicate email is answered 400"),
    _f("email-case-sensitive-unique", "EMAIL-UNIQUE-CASE",
       "the unique index is on the address as typed, not its lower-case form"),
    _f("email-unique-global", "EMAIL-OTHER-TEAM-OK", "the unique index forgets the team: email unique across teams"),
    _f("email-unique-race", "EMAIL-UNIQUE-CONCURRENT",
       "check-then-insert without a unique index: concurrent creates of one email all win"),
    _f("idempotency-ignored", "IDEMPOTENCY-KEY", "no idempotency layer: the Idempotency-Key header is ignored"),
    # §3 get
    _f("get-stale-cache", "GET-EQUALS", "a read cache that PATCH does not invalidate"),
    _f("get-unknown-200-null", "GET-UNKNOWN-404", "a missing not-found check: unknown id answers 200 with data null"),
    _f("malformed-id-500", "GET-MALFORMED-ID,NO-5XX", "an unguarded UUID parse: a malformed id raises (500)"),
    # §3 update
    _f("patch-rebuilds-from-defaults", "PATCH-KEEPS-OMITTED",
       "PUT semantics in a PATCH: the record is rebuilt from defaults + body, omitted fields reset"),
    _f("patch-tags-append", "PATCH-TAGS-REPLACE", "an array merge: PATCH appends tags instead of replacing them"),
    _f("patch-customfields-null-stored", "PATCH-CUSTOMFIELDS-MERGE",
       "a shallow dict update: a customFields key set to null is stored as null instead of removed"),
    _f("patch-customfields-replace-on-omit", "PATCH-CUSTOMFIELDS-KEPT",
       "a model default applied on update: a PATCH without customFields resets it to {}"),
    _f("patch-empty-400", "PATCH-EMPTY-NOOP", "an over-eager check: PATCH {} is refused with 400 'nothing to update'"),
    _f("patch-invalid-partial-write", "PATCH-INVALID-NOCHANGE",
       "field-by-field validate-and-save: valid fields are written before a later field fails"),
    _f("patch-email-conflict-unchecked", "PATCH-EMAIL-CONFLICT",
       "a stale denormalised column: PATCH does not refresh the indexed lower-case email, so another "
       "customer's address is accepted"),
    _f("patch-own-email-conflict", "PATCH-OWN-EMAIL-OK",
       "the conflict query does not exclude the customer itself: own email in other case → 409"),
    _f("patch-resets-ticketcount", "PATCH-IMMUTABLE-FIELDS",
       "an update model generated from the table: PATCH accepts ticketCount and createdAt"),
    _f("patch-updatedat-frozen", "PATCH-UPDATEDAT-MOVES", "a missing onupdate: PATCH never moves updatedAt"),
    _f("patch-unknown-200", "PATCH-UNKNOWN-404",
       "an UPDATE whose row count is not checked: PATCH of an unknown id answers 200"),
    # §3 delete
    _f("delete-200-empty-body", "DELETE-STATUS", "DELETE answers 200 with an empty, non-JSON body"),
    _f("soft-delete-still-listed", "DELETE-GONE",
       "a soft delete that only GET honours: the customer stays in lists and totals"),
    _f("delete-no-cascade", "DELETE-CASCADE", "a missing ON DELETE CASCADE: the customer's tickets stay behind"),
    _f("delete-keeps-email-reserved", "DELETE-EMAIL-REUSABLE",
       "a soft delete under a unique index that is not partial: the address cannot be reused"),
    # §4 tickets
    _f("ticket-any-customer", "TICKET-BAD-CUSTOMER",
       "missing tenant condition: a ticket is created for any existing customer id, another team's too"),
    _f("ticketcount-cached", "TICKET-COUNT", "a counter cached at creation: ticketCount is never raised"),
    # §5 webhooks
    _f("webhook-no-update-event", "WEBHOOK-EVENTS", "a missing hook: no customer.updated is ever sent"),
    _f("webhook-ignores-subscription", "WEBHOOK-SUBSCRIBED-ONLY",
       "fan-out without the subscription filter: every event goes to every webhook"),
    _f("webhook-all-teams", "WEBHOOK-TEAM-ONLY",
       "fan-out without the team condition: a webhook receives every team's events"),
    _f("webhook-camelcase-payload", "WEBHOOK-PAYLOAD", "the API serializer reused: the payload customer is camelCase"),
    _f("webhook-stale-payload", "WEBHOOK-PAYLOAD",
       "the event is rendered from the row loaded before the write: customer.updated carries the old state"),
    _f("webhook-unsigned-timestamp", "WEBHOOK-SIGNATURE", "the HMAC covers the body without the timestamp"),
    _f("webhook-signs-reserialized", "WEBHOOK-SIGNATURE",
       "the HMAC covers a re-serialisation of the payload, not the bytes sent"),
    _f("webhook-timestamp-ms", "WEBHOOK-SIGNATURE", "milliseconds where seconds belong: t= is in milliseconds"),
    _f("webhook-slow", "WEBHOOK-WITHIN-10S,WEBHOOK-WITHIN-2S", "a backed-up queue: the first attempt waits 12 s"),
    _f("webhook-batched-5s", "WEBHOOK-WITHIN-2S", "a batch sender: deliveries are flushed by a 5 s timer"),
    _f("webhook-type-header-from-subscription", "WEBHOOK-EVENT-TYPE-HEADER",
       "the wrong variable: X-Event-Type is the webhook's first subscribed event, not the event's type"),
)

BY_NAME: dict[str, Fault] = {fault.name: fault for fault in FAULTS}


def _check_registry() -> None:
    if len(BY_NAME) != len(FAULTS):
        raise RuntimeError("duplicate fault name in FAULTS")
    for fault in FAULTS:
        unknown = [rule_id for rule_id in fault.rules if rule_id not in BY_ID]
        if unknown:
            raise RuntimeError(f"fault {fault.name!r} names unknown rule ids {unknown}")


_check_registry()


class UnknownFaultError(ValueError):
    """A fault name that is not in the registry."""


class FaultSet:
    """The faults a server runs with (process-global for that server)."""

    def __init__(self, names: Iterable[str] = ()) -> None:
        names = frozenset(names)
        unknown = sorted(names - BY_NAME.keys())
        if unknown:
            raise UnknownFaultError(
                f"unknown fault(s) {', '.join(unknown)}; valid: {', '.join(sorted(BY_NAME))}"
            )
        self.names = names

    def on(self, name: str) -> bool:
        if name not in BY_NAME:  # a typo in the server code must not silently disable a fault
            raise UnknownFaultError(f"unknown fault {name!r}")
        return name in self.names

    def __repr__(self) -> str:
        return f"FaultSet({sorted(self.names)!r})"
