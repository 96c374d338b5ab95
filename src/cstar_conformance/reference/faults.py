"""Fault switches: realistic bugs the reference server can be started with.

Each fault names the contract rules (ids of :mod:`cstar_conformance.rules`) it breaks and says which kind
of real-stack bug it plays. The server's code asks ``faults.on("name")`` at the exact place the bug would
live in a real backend (an unknown name raises); a server started without faults keeps every rule.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from cstar_conformance.reference import (
    faults_rt1_events,
    faults_rt1_lists,
    faults_rt1_records,
    faults_rt1_transport,
    faults_rt2_events,
    faults_rt2_lists,
    faults_rt2_records,
    faults_rt2_transport,
)
from cstar_conformance.rules import BY_ID


@dataclass(frozen=True)
class Fault:
    name: str
    rules: tuple[str, ...]
    description: str
    origin: str = "authors"  # who wrote it: the suite's authors, or a blind red-team round (red-team-N)


def _f(name: str, rules: str, description: str, origin: str = "authors") -> Fault:
    return Fault(name, tuple(r.strip() for r in rules.split(",")), description, origin)


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
    _f("no-content-type-500", "NO-5XX",
       "the handler picks its body parser from request.headers['content-type']: a body sent without a "
       "Content-Type raises KeyError (500)"),
    _f("charset-content-type-refused", "CREATE-2XX",
       "the body parser compares Content-Type with 'application/json' as a whole string: "
       "'application/json; charset=utf-8' is refused with 415"),
    _f("post-on-item-creates", "UNKNOWN-METHOD",
       "a route /customers/{id?} with an optional id: POST on a customer is served by the create handler (201)"),
    _f("lone-surrogate-500", "NO-5XX",
       "an audit hook writes each body as parsed (json.loads accepts an escaped lone surrogate, \\ud800) "
       "before validation, and the strict UTF-8 encoder raises on it (500) instead of a 400/422"),
    _f("nul-500", "NO-5XX",
       "PostgreSQL text cannot hold 0x00: a NUL in a stored string is a database error (500), not a 400/422"),
    _f("search-nul-500", "NO-5XX",
       "PostgreSQL text cannot hold 0x00: a NUL in a search term is a database error (500)"),
    _f("search-invalid-utf8-500", "NO-5XX",
       "a hand-rolled query-string parser decodes percent-escapes as strict UTF-8: search=%FF raises (500)"),
    _f("email-ascii-500", "NO-5XX",
       "the address goes through str.encode('ascii') for an ASCII-only column: a non-ASCII address raises (500)"),
    _f("patch-scalar-body-500", "NO-5XX",
       "an audit hook lists the changed keys with body.keys() before validation: a PATCH body that is a JSON "
       "array, string or number raises (500)"),
    _f("long-string-500", "NO-5XX",
       "a VARCHAR(255) column in MySQL strict mode and no length check in the API: a string over 255 "
       "characters is a 'Data too long' error (500), not an acceptance or a 400/422"),
    # §2 customer object
    _f("timestamps-naive", "CUSTOMER-SHAPE",
       "a naive datetime serialised: createdAt/updatedAt without Z or offset"),
    _f("create-defaults-wrong", "CREATE-DEFAULTS", "a wrong column default: sentiment defaults to happy"),
    _f("customfields-stringified", "CUSTOMFIELDS-TYPES",
       "an EAV text column: customFields values come back as strings (12 → \"12\", true → \"true\")"),
    _f("customfields-bool-as-int", "CUSTOMFIELDS-TYPES",
       "SQL boolean affinity: customFields booleans come back as 1/0"),
    _f("lax-string-coercion", "CREATE-VALIDATION",
       "Pydantic v1-style lax string fields: a number where a string belongs is coerced (\"name\": 123 is "
       "stored as \"123\", a tag 1 as \"1\") instead of a 400/422"),
    _f("enum-case-insensitive", "CREATE-VALIDATION,CUSTOMER-SHAPE",
       "an enum parsed case-insensitively and stored as sent (Java valueOf(toUpperCase())-style): sentiment "
       "'Happy' is accepted and comes back 'Happy'"),
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
    _f("search-like-wildcards", "SEARCH-NAME-OR-EMAIL",
       "LIKE without ESCAPE (SQL ORM): '%' and '_' in a search term match any characters"),
    _f("search-wildcard-star", "SEARCH-NAME-OR-EMAIL",
       "the term goes through a search engine's query-string syntax: '*' matches any characters"),
    _f("search-sql-interpolated", "SEARCH-NAME-OR-EMAIL,NO-5XX",
       "the term is formatted into the SQL text: a quote ends the string literal (syntax error → 500; injectable)"),
    _f("search-backslash-escapes", "SEARCH-NAME-OR-EMAIL",
       "LIKE with backslash as its escape character but the term's own backslashes not doubled (PostgreSQL, "
       "MySQL default): a term ending in a backslash escapes the closing '%' and matches nothing"),
    _f("search-all-text-columns", "SEARCH-NAME-OR-EMAIL",
       "a full-text index over every text column: a term in notes or tags matches too"),
    _f("search-email-as-typed", "SEARCH-NAME-OR-EMAIL",
       "the term is lower-cased but compared with the address as typed: an address with capitals is not "
       "found by its own spelling"),
    _f("search-lower-ascii-only", "SEARCH-CASE-INSENSITIVE",
       "SQL lower() that folds ASCII only (SQLite): a search for 'ZËL' does not find 'Zël'"),
    _f("search-index-lag", "SEARCH-NAME-OR-EMAIL",
       "a search index refreshed every 5 s (search engine): a new customer is not found at once"),
    _f("search-index-stale-on-update", "SEARCH-NAME-OR-EMAIL",
       "the search index is written on create only: a PATCHed name or email is found by its old value, not "
       "its new one"),
    _f("list-cache-stale", "SEARCH-NAME-OR-EMAIL,DELETE-GONE",
       "list answers cached per query string for 30 s and not invalidated by writes"),
    _f("filter-search-precedence", "FILTER-EXACT,LIST-TEAM-ONLY",
       "a WHERE clause concatenated without parentheses: team AND status AND name LIKE ? OR email LIKE ?"),
    _f("filter-drops-team", "LIST-TEAM-ONLY",
       "with a status/sentiment filter and no search the query is rebuilt from the filter alone: the team "
       "condition is lost"),
    _f("count-without-team", "LIST-TEAM-ONLY,LIST-TOTAL-HASMORE",
       "the count query forgets the team condition: total counts every team's matches"),
    _f("filter-case-insensitive", "FILTER-INVALID-NOT-UNFILTERED,FILTER-EXACT",
       "a case-insensitive collation (MySQL *_ci): sentiment=Happy is accepted and matches happy"),
    _f("order-without-tiebreaker", "LIST-WALK-COMPLETE",
       "ORDER BY name without a unique tie-breaker: equal names come back in another order on every page "
       "(PostgreSQL top-N sort)"),
    _f("pagesize-max-exclusive", "LIST-PAGESIZE-RANGE",
       "an off-by-one in the limit check (pageSize < 100 instead of <= 100): pageSize=100 is refused with 400"),
    _f("page-params-parseint", "LIST-BAD-PARAMS-4XX",
       "parseInt-style page parameters: the leading digits are taken, so page=1.5 is page 1"),
    # §3 create
    _f("create-returns-id-only", "CREATE-2XX", "a lazy serializer: create answers 201 with data {id} only"),
    _f("create-returns-200", "CREATE-201", "the framework default status: create answers 200"),
    _f("create-missing-email-201", "CREATE-VALIDATION",
       "a model with a default for a required field: a missing email is stored as \"\""),
    _f("name-truncated-100", "CREATE-ROUNDTRIP", "a VARCHAR(100) column: name is silently truncated"),
    _f("emoji-mangled", "CREATE-ROUNDTRIP", "a utf8mb3 column: characters outside the BMP are stored as '?'"),
    _f("nul-truncates", "CREATE-ROUNDTRIP",
       "a C-string boundary in the driver: a string is cut at its first NUL"),
    _f("length-in-bytes", "CREATE-ROUNDTRIP",
       "a VARCHAR(255) limit counted in UTF-8 bytes: 255 characters outside ASCII are refused (400/422)"),
    _f("list-ascii-folded", "CREATE-ROUNDTRIP",
       "the list is served from a search index that stores ASCII-folded names: 'Zoë' is listed as 'Zoe' "
       "(create and GET are right)"),
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
    _f("idempotency-key-global", "AUTH-CROSS-TEAM",
       "the idempotency store is keyed by the key and body alone: another team repeating a key gets this "
       "team's stored answer, customer included"),
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
    _f("patch-drops-status", "PATCH-KEEPS-OMITTED",
       "an update DTO without the status field: status in a PATCH is silently dropped (200)"),
    _f("patch-null-ignored", "PATCH-KEEPS-OMITTED,CREATE-NULL-OPTIONAL",
       "model_dump(exclude_none=True) on update: \"notes\": null is accepted but changes nothing"),
    _f("patch-limit-254", "PATCH-KEEPS-OMITTED",
       "an off-by-one in the update model (max_length=254): a 255-character value is refused on PATCH only"),
    _f("patch-email-case-dropped", "EMAIL-ORDINARY",
       "the change detector compares addresses case-insensitively: a PATCH that changes only the letter "
       "case of the email is dropped (200)"),
    _f("patch-rewrites-createdat", "PATCH-IMMUTABLE-FIELDS",
       "an upsert (INSERT OR REPLACE) for updates: createdAt is rewritten with the time of the PATCH"),
    _f("patch-non-json-as-empty", "PATCH-KEEPS-OMITTED",
       "the JSON body parser runs only for application/json (Express): a PATCH sent as text/plain or "
       "without Content-Type is an empty object — 200, nothing changes"),
    _f("patch-null-body-as-empty", "PATCH-INVALID-NOCHANGE",
       "`body or {}`: a PATCH whose body is JSON null is taken as an empty PATCH (200)"),
    # §3 delete
    _f("delete-200-empty-body", "DELETE-STATUS", "DELETE answers 200 with an empty, non-JSON body"),
    _f("soft-delete-still-listed", "DELETE-GONE",
       "a soft delete that only GET honours: the customer stays in lists and totals"),
    _f("delete-no-cascade", "DELETE-CASCADE", "a missing ON DELETE CASCADE: the customer's tickets stay behind"),
    _f("delete-keeps-email-reserved", "DELETE-EMAIL-REUSABLE",
       "a soft delete under a unique index that is not partial: the address cannot be reused"),
    _f("count-includes-soft-deleted", "DELETE-GONE",
       "a soft delete honoured by the list query but not by the count query: total still counts the deleted "
       "customer"),
    # §4 tickets
    _f("ticket-any-customer", "TICKET-BAD-CUSTOMER",
       "missing tenant condition: a ticket is created for any existing customer id, another team's too"),
    _f("ticketcount-cached", "TICKET-COUNT", "a counter cached at creation: ticketCount is never raised"),
    _f("ticket-read-any-team", "AUTH-CROSS-TEAM",
       "missing tenant condition: GET ticket looks the id up without the team"),
    _f("ticket-list-customer-any-team", "AUTH-CROSS-TEAM",
       "the customerId filter replaces the team condition: another team's tickets are listed by its customer id"),
    _f("ticket-for-deleted-customer", "TICKET-BAD-CUSTOMER",
       "a soft delete, and the ticket's customer check ignores the deleted flag: a deleted customer still "
       "gets tickets"),
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
    _f("webhook-omits-empty", "WEBHOOK-PAYLOAD",
       "Go's omitempty on the event struct: empty tags, empty custom_fields and null or empty notes are left "
       "out of the payload"),
    _f("webhook-customfields-stringified", "WEBHOOK-PAYLOAD",
       "the event is built through a map[string]string: custom_fields numbers and booleans arrive as strings"),
    _f("webhook-notes-null-as-empty", "WEBHOOK-PAYLOAD",
       "a non-nullable string in the event schema: notes null is sent as \"\""),
    _f("webhook-event-id-per-customer", "WEBHOOK-EVENTS,WEBHOOK-EVENT-IDS",
       "the event id is derived from the customer id: every event about a customer has one id, so a receiver "
       "that de-duplicates by id (as the contract says) drops all but the first"),
)
# Faults written by blind red teams (helpers that read only docs/contract.md and this package), one module
# per author so that their work merges cleanly: rows of (name, rules, description).
RED_TEAM: tuple[tuple[str, tuple[tuple[str, str, str], ...]], ...] = (
    ("red-team-1", faults_rt1_transport.ROWS + faults_rt1_records.ROWS + faults_rt1_lists.ROWS
     + faults_rt1_events.ROWS),
    ("red-team-2", faults_rt2_transport.ROWS + faults_rt2_records.ROWS + faults_rt2_lists.ROWS
     + faults_rt2_events.ROWS),
)
FAULTS += tuple(_f(*row, origin=origin) for origin, rows in RED_TEAM for row in rows)

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
