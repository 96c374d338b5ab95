"""The rule catalogue: every rule of CONTRACT.md with a short stable id and its level.

Suites name these ids (``@pytest.mark.rule("PATCH-KEEPS-OMITTED")``), the reference's fault
switches name the ids they break, and the traceability command joins the two.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Level(StrEnum):
    MUST = "MUST"
    SHOULD = "SHOULD"
    MAY = "MAY"


@dataclass(frozen=True)
class Rule:
    id: str
    level: Level
    section: str
    text: str


_M, _S, _Y = Level.MUST, Level.SHOULD, Level.MAY

RULES: tuple[Rule, ...] = (
    # §1 Transport, auth, envelopes
    Rule("AUTH-401", _M, "1", "Missing, malformed or unknown key → 401."),
    Rule("AUTH-CROSS-TEAM", _M, "1", "A valid key on another team → 403 or 404; never 2xx, never its data."),
    Rule("ENV-SUCCESS", _M, "1", "Success bodies are JSON objects with success: true and data."),
    Rule("ENV-LIST", _M, "1", "List bodies add pagination {total, page, pageSize, hasMore} at the top level."),
    Rule("ENV-ERROR", _M, "1", "Every 4xx body is {success: false, error: {code, message}}."),
    Rule("EXTRA-FIELDS", _Y, "1", "Extra fields anywhere are legal."),
    Rule("NO-5XX", _M, "1", "A client mistake never yields a 5xx."),
    Rule("CONTENT-TYPE-JSON", _M, "1", "Content-Type: application/json on every JSON response."),
    Rule("UNKNOWN-METHOD", _M, "1", "An undefined method on a known path → 405 with Allow, or 404."),
    Rule("PK-READ-ONLY", _M, "1", "A publishable key may read; every write → 403."),
    Rule("RATE-LIMIT-RETRY-AFTER", _S, "1", "A 429 carries Retry-After or error.retryAfter."),
    # §2 The customer object
    Rule("CUSTOMER-SHAPE", _M, "2", "Customer fields have the contract's types, enums and RFC 3339 timestamps."),
    Rule("CREATE-DEFAULTS", _M, "2", "Defaults: status active, sentiment neutral, tags [], notes null/\"\", "
         "customFields {}, ticketCount 0."),
    # §3 List
    Rule("LIST-DEFAULTS", _M, "3.list", "Defaults page=1, pageSize=20."),
    Rule("LIST-PAGESIZE-MAX", _M, "3.list", "pageSize > 100 is rejected (400/422) or clamped to 100."),
    Rule("LIST-BAD-PARAMS-4XX", _S, "3.list", "page < 1, pageSize < 1 and non-integers → 400 or 422."),
    Rule("LIST-PAGINATION-HONEST", _M, "3.list", "Any page parameters: no 5xx, ≤ 100 items, pagination "
         "describes the page returned."),
    Rule("LIST-TOTAL-HASMORE", _M, "3.list", "total, hasMore and len(data) are consistent."),
    Rule("LIST-PAST-END", _M, "3.list", "A page past the end → 200, data [], hasMore false."),
    Rule("LIST-WALK-COMPLETE", _M, "3.list", "Walking all pages yields every match once, in a stable order."),
    Rule("FILTER-EXACT", _M, "3.list", "status and sentiment filter exactly; combined filters are ANDed."),
    Rule("FILTER-INVALID-NOT-UNFILTERED", _M, "3.list", "An invalid filter value never returns an "
         "unfiltered list."),
    Rule("FILTER-INVALID-4XX", _S, "3.list", "An invalid filter value → 400/422."),
    Rule("SEARCH-NAME-OR-EMAIL", _M, "3.list", "search matches a substring of name or email."),
    Rule("SEARCH-CASE-INSENSITIVE", _S, "3.list", "search ignores letter case."),
    Rule("LIST-TEAM-ONLY", _M, "3.list", "Only the team's own customers appear, in data and total."),
    Rule("LIST-TAG-FILTER", _Y, "3.list", "tag filter: supported or ignored."),
    # §3 Create
    Rule("CREATE-2XX", _M, "3.create", "Create answers 2xx with the full customer."),
    Rule("CREATE-201", _S, "3.create", "Create answers 201."),
    Rule("CREATE-VALIDATION", _M, "3.create", "Invalid bodies → 400/422 with the error envelope; nothing "
         "is created."),
    Rule("CREATE-UNKNOWN-FIELDS", _Y, "3.create", "Unknown body fields are ignored or rejected, never stored."),
    Rule("CREATE-NULL-OPTIONAL", _Y, "3.create", "null for an optional field is accepted or rejected."),
    Rule("CREATE-ROUNDTRIP", _M, "3.create", "Ordinary strings (≤ 255 chars, any Unicode) round-trip "
         "unchanged."),
    Rule("CREATE-LONG-STRINGS", _Y, "3.create", "Whitespace-only names and long strings: accepted or "
         "rejected, never 5xx."),
    Rule("EMAIL-UNIQUE", _M, "3.create", "A second create with the same email → 4xx, nothing created, "
         "first record unchanged."),
    Rule("EMAIL-UNIQUE-409", _S, "3.create", "A duplicate email is answered with 409."),
    Rule("EMAIL-UNIQUE-CASE", _S, "3.create", "Uniqueness ignores the letter case of the address."),
    Rule("EMAIL-OTHER-TEAM-OK", _M, "3.create", "The same email in another team is accepted."),
    Rule("EMAIL-UNIQUE-CONCURRENT", _M, "3.create", "Concurrent creates of one new email: exactly one "
         "succeeds."),
    Rule("IDEMPOTENCY-KEY", _S, "3.create", "A repeated POST with the same Idempotency-Key creates "
         "nothing new."),
    # §3 Get
    Rule("GET-EQUALS", _M, "3.get", "GET returns the customer as create/update returned it."),
    Rule("GET-UNKNOWN-404", _M, "3.get", "An unknown UUID → 404 with the error envelope."),
    Rule("GET-MALFORMED-ID", _M, "3.get", "A malformed id → 404 or 400."),
    # §3 Update
    Rule("PATCH-KEEPS-OMITTED", _M, "3.update", "Only fields present change; every omitted field keeps "
         "its value."),
    Rule("PATCH-TAGS-REPLACE", _M, "3.update", "tags replaces the whole array."),
    Rule("PATCH-CUSTOMFIELDS-MERGE", _S, "3.update", "customFields merges per key; null removes a key."),
    Rule("PATCH-CUSTOMFIELDS-KEPT", _M, "3.update", "Omitting customFields leaves it unchanged."),
    Rule("PATCH-EMPTY-NOOP", _M, "3.update", "{} → 2xx and nothing changes."),
    Rule("PATCH-INVALID-NOCHANGE", _M, "3.update", "Invalid values → 400/422 and nothing changes."),
    Rule("PATCH-EMAIL-CONFLICT", _M, "3.update", "Changing email to another customer's → 4xx, nothing "
         "changes."),
    Rule("PATCH-OWN-EMAIL-OK", _M, "3.update", "Setting one's own email again, in any case, is no conflict."),
    Rule("PATCH-IMMUTABLE-FIELDS", _M, "3.update", "id, createdAt, ticketCount never change; updatedAt "
         "never goes backwards."),
    Rule("PATCH-UPDATEDAT-MOVES", _M, "3.update", "A PATCH that changes something moves updatedAt."),
    Rule("PATCH-UNKNOWN-404", _M, "3.update", "PATCH of an unknown id → 404."),
    # §3 Delete
    Rule("DELETE-STATUS", _M, "3.delete", "Delete answers 200 with JSON or 204 with no body."),
    Rule("DELETE-GONE", _M, "3.delete", "After delete: GET, PATCH, DELETE → 404; gone from lists and totals."),
    Rule("DELETE-CASCADE", _M, "3.delete", "Every ticket of the customer is deleted with it."),
    Rule("DELETE-EMAIL-REUSABLE", _S, "3.delete", "The email is free again after delete."),
    # §4 Tickets
    Rule("TICKET-BAD-CUSTOMER", _M, "4", "A ticket for a customer outside the team → 400/404/422, "
         "nothing created."),
    Rule("TICKET-COUNT", _M, "4", "Creating a ticket raises the customer's ticketCount by one."),
    Rule("TICKET-COUNT-ON-DELETE", _Y, "4", "Deleting a ticket may lower ticketCount or leave it."),
    # §5 Webhooks
    Rule("WEBHOOK-EVENTS", _M, "5", "customer.created after a create, customer.updated after a changing "
         "PATCH."),
    Rule("WEBHOOK-SUBSCRIBED-ONLY", _M, "5", "A webhook receives only the event types it subscribed to."),
    Rule("WEBHOOK-PAYLOAD", _M, "5", "Delivery is JSON {id, type, created_at, team_id, data.customer} in "
         "snake_case, matching the customer."),
    Rule("WEBHOOK-SIGNATURE", _M, "5", "X-Signature t=…,v1=HMAC-SHA256(secret, \"<t>.<raw body>\"), t "
         "within 300 s."),
    Rule("WEBHOOK-WITHIN-10S", _M, "5", "Delivered within 10 s."),
    Rule("WEBHOOK-WITHIN-2S", _S, "5", "Delivered within 2 s."),
    Rule("WEBHOOK-EVENT-TYPE-HEADER", _M, "5", "When X-Event-Type is present it equals the payload type."),
)

BY_ID: dict[str, Rule] = {rule.id: rule for rule in RULES}


def rule(rule_id: str) -> Rule:
    """The rule with this id; a KeyError names the unknown id."""
    try:
        return BY_ID[rule_id]
    except KeyError:
        raise KeyError(f"unknown rule id {rule_id!r}; see cstar_conformance/rules.py") from None
