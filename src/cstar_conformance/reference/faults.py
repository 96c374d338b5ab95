"""Fault switches: realistic bugs the reference server can be started with.

Each fault names the contract rules (ids of :mod:`cstar_conformance.rules`) it breaks. The
server's code asks ``faults.on("name")`` at the exact place the bug would live in a real
backend; a server started without faults is the clean reference that passes every rule.
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
       "a GET without Authorization header is served as the path team's default key"),
    _f("cross-team-path-ignored", "AUTH-CROSS-TEAM",
       "the team comes from the key only; the path teamId is never compared (A's data under /teams/B)"),
    _f("cross-team-read-by-id", "AUTH-CROSS-TEAM",
       "GET customer by id looks the id up without the team condition"),
    _f("publishable-key-writes", "PK-READ-ONLY", "publishable keys are not refused on writes"),
    _f("malformed-json-500", "NO-5XX", "a body that is not valid JSON raises an unhandled error (500)"),
    _f("validation-detail-shape", "ENV-ERROR",
       "validation errors use FastAPI's default {\"detail\": [...]} 422 body"),
    _f("get-bare-customer", "ENV-SUCCESS", "GET customer returns the bare customer without the envelope"),
    _f("pagination-under-meta", "ENV-LIST",
       "list bodies put pagination under meta.pagination instead of the top level"),
    _f("list-text-plain", "CONTENT-TYPE-JSON", "list responses are sent with Content-Type text/plain"),
    _f("unknown-method-200", "UNKNOWN-METHOD", "PUT on a customer is routed to the PATCH handler (200)"),
    _f("rate-limit-no-retry-after", "RATE-LIMIT-RETRY-AFTER",
       "429 responses carry neither Retry-After nor error.retryAfter (needs --rate-limit)"),
    # §2 customer object
    _f("timestamps-naive", "CUSTOMER-SHAPE",
       "createdAt/updatedAt are naive ISO strings without Z or offset"),
    _f("create-defaults-wrong", "CREATE-DEFAULTS", "sentiment defaults to happy instead of neutral"),
    # §3 list
    _f("list-default-pagesize-10", "LIST-DEFAULTS", "pageSize defaults to 10"),
    _f("bad-page-params-default", "LIST-BAD-PARAMS-4XX",
       "page/pageSize that are not integers >= 1 silently fall back to the defaults"),
    _f("pagesize-unbounded", "LIST-PAGESIZE-MAX", "pageSize has no upper bound; more than 100 items returned"),
    _f("pagination-echoes-requested-pagesize", "LIST-PAGINATION-HONEST",
       "pageSize > 100 is silently clamped but pagination.pageSize reports the requested value"),
    _f("huge-page-500", "LIST-PAGINATION-HONEST,NO-5XX",
       "the offset goes to SQLite unchecked: a huge page overflows (500)"),
    _f("total-before-filters", "LIST-TOTAL-HASMORE", "total counts every team customer, ignoring filters"),
    _f("hasmore-off-by-one", "LIST-TOTAL-HASMORE", "hasMore = page*pageSize <= total"),
    _f("past-end-returns-last-page", "LIST-PAST-END", "a page past the end serves the last page's items"),
    _f("page2-offset-off-by-one", "LIST-WALK-COMPLETE", "offset is (page-1)*pageSize - 1 for page >= 2"),
    _f("filter-or-instead-of-and", "FILTER-EXACT", "status and sentiment filters are ORed"),
    _f("invalid-filter-ignored", "FILTER-INVALID-NOT-UNFILTERED,FILTER-INVALID-4XX",
       "an unknown status/sentiment value is dropped: the list comes back unfiltered"),
    _f("search-name-only", "SEARCH-NAME-OR-EMAIL", "search matches the name only, never the email"),
    _f("search-case-sensitive", "SEARCH-CASE-INSENSITIVE", "search compares exact letter case"),
    _f("list-leaks-other-team", "LIST-TEAM-ONLY", "the search query forgets the team condition"),
    # §3 create
    _f("create-returns-id-only", "CREATE-2XX", "create answers 201 with data {id} only"),
    _f("create-returns-200", "CREATE-201", "create answers 200 instead of 201"),
    _f("create-missing-email-201", "CREATE-VALIDATION", "a missing email is accepted and stored as \"\""),
    _f("name-truncated-100", "CREATE-ROUNDTRIP", "name is silently truncated to 100 characters"),
    _f("emoji-mangled", "CREATE-ROUNDTRIP",
       "characters outside the BMP (emoji) are stored as '?' (a utf8mb3-style column)"),
    _f("duplicate-email-200", "EMAIL-UNIQUE",
       "a duplicate create answers 200 and creates a second record"),
    _f("duplicate-email-400", "EMAIL-UNIQUE-409", "a duplicate email is answered with 400, not 409"),
    _f("email-case-sensitive-unique", "EMAIL-UNIQUE-CASE", "email uniqueness compares exact letter case"),
    _f("email-unique-global", "EMAIL-OTHER-TEAM-OK", "email is unique across all teams, not per team"),
    _f("email-unique-race", "EMAIL-UNIQUE-CONCURRENT",
       "check-then-insert without a unique index: concurrent creates of one email all win"),
    _f("idempotency-ignored", "IDEMPOTENCY-KEY", "the Idempotency-Key header is ignored"),
    # §3 get
    _f("get-stale-cache", "GET-EQUALS", "GET serves a cached copy that PATCH does not invalidate"),
    _f("get-unknown-200-null", "GET-UNKNOWN-404", "an unknown customer id answers 200 with data null"),
    _f("malformed-id-500", "GET-MALFORMED-ID,NO-5XX", "a customer id that is not a UUID raises (500)"),
    # §3 update
    _f("patch-rebuilds-from-defaults", "PATCH-KEEPS-OMITTED",
       "PATCH rebuilds the record from defaults + body: omitted optional fields reset"),
    _f("patch-tags-append", "PATCH-TAGS-REPLACE", "PATCH appends tags instead of replacing the array"),
    _f("patch-customfields-null-stored", "PATCH-CUSTOMFIELDS-MERGE",
       "a customFields key set to null is stored as null instead of removed"),
    _f("patch-customfields-replace-on-omit", "PATCH-CUSTOMFIELDS-KEPT",
       "a PATCH without customFields resets it to {}"),
    _f("patch-empty-400", "PATCH-EMPTY-NOOP", "PATCH {} is refused with 400 'nothing to update'"),
    _f("patch-invalid-partial-write", "PATCH-INVALID-NOCHANGE",
       "valid fields are written before a later field fails validation"),
    _f("patch-email-conflict-unchecked", "PATCH-EMAIL-CONFLICT",
       "PATCH does not refresh the unique email key: another customer's email is accepted"),
    _f("patch-own-email-conflict", "PATCH-OWN-EMAIL-OK",
       "the conflict check does not exclude the customer itself: own email in other case → 409"),
    _f("patch-resets-ticketcount", "PATCH-IMMUTABLE-FIELDS",
       "PATCH accepts ticketCount and createdAt from the body"),
    _f("patch-updatedat-frozen", "PATCH-UPDATEDAT-MOVES", "PATCH never moves updatedAt"),
    _f("patch-unknown-200", "PATCH-UNKNOWN-404",
       "PATCH of an unknown id updates zero rows and answers 200 anyway"),
    # §3 delete
    _f("delete-200-empty-body", "DELETE-STATUS", "DELETE answers 200 with an empty, non-JSON body"),
    _f("soft-delete-still-listed", "DELETE-GONE",
       "delete is a soft delete that only GET honours: the customer stays in lists and totals"),
    _f("delete-no-cascade", "DELETE-CASCADE", "the customer's tickets stay behind after a delete"),
    _f("delete-keeps-email-reserved", "DELETE-EMAIL-REUSABLE",
       "soft delete keeps the unique email key: the address cannot be reused"),
    # §4 tickets
    _f("ticket-any-customer", "TICKET-BAD-CUSTOMER",
       "a ticket is created for any existing customer id, including another team's"),
    _f("ticketcount-cached", "TICKET-COUNT", "ticketCount is cached at creation and never raised"),
    # §5 webhooks
    _f("webhook-no-update-event", "WEBHOOK-EVENTS", "no customer.updated is ever sent"),
    _f("webhook-ignores-subscription", "WEBHOOK-SUBSCRIBED-ONLY", "every event goes to every webhook"),
    _f("webhook-camelcase-payload", "WEBHOOK-PAYLOAD", "the payload customer is in camelCase"),
    _f("webhook-stale-payload", "WEBHOOK-PAYLOAD",
       "customer.updated carries the customer as it was before the PATCH"),
    _f("webhook-unsigned-timestamp", "WEBHOOK-SIGNATURE", "the HMAC covers the body without the timestamp"),
    _f("webhook-signs-reserialized", "WEBHOOK-SIGNATURE",
       "the HMAC covers a re-serialisation of the payload, not the bytes sent"),
    _f("webhook-timestamp-ms", "WEBHOOK-SIGNATURE", "t= in the signature is in milliseconds"),
    _f("webhook-slow", "WEBHOOK-WITHIN-10S,WEBHOOK-WITHIN-2S", "the first delivery attempt waits 12 s"),
    _f("webhook-batched-5s", "WEBHOOK-WITHIN-2S", "deliveries are flushed by a 5 s batch timer"),
    _f("webhook-type-header-from-subscription", "WEBHOOK-EVENT-TYPE-HEADER",
       "X-Event-Type is the webhook's first subscribed event, not the event's type"),
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
            raise KeyError(name)
        return name in self.names

    def __repr__(self) -> str:
        return f"FaultSet({sorted(self.names)!r})"
