"""The rule catalogue: every rule of the Customers API contract, with a stable id, its level, a
one-line title and its full statement in the project's own words.

This is the single source of the contract inside the repository: suites name these ids
(``@pytest.mark.rule("PATCH-KEEPS-OMITTED")``), the reference's fault switches and legal-variation
choices name the ids they concern, and ``docs/contract.md`` is generated from it
(``make contract-doc``) together with the tests and faults that cover each rule.

Levels: a MUST breach fails the run; a SHOULD breach is a warning finding (fails only with
``--strict``); a MAY row names legal variation that the suite must accept on every side.
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
    title: str
    statement: str


SECTIONS: dict[str, str] = {
    "1": "§1 Transport, authentication and envelopes",
    "2": "§2 The customer object",
    "3.list": "§3 List customers — GET /teams/{teamId}/customers",
    "3.create": "§3 Create a customer — POST /teams/{teamId}/customers",
    "3.get": "§3 Get a customer — GET /teams/{teamId}/customers/{customerId}",
    "3.update": "§3 Update a customer — PATCH /teams/{teamId}/customers/{customerId}",
    "3.delete": "§3 Delete a customer — DELETE /teams/{teamId}/customers/{customerId}",
    "4": "§4 Tickets (as far as cascade deletion and ticketCount need them)",
    "5": "§5 Webhooks",
}

_M, _S, _Y = Level.MUST, Level.SHOULD, Level.MAY

RULES: tuple[Rule, ...] = (
    # §1 Transport, auth, envelopes
    Rule("AUTH-401", _M, "1", "Missing, malformed or unknown key → 401.",
         "Every request carries `Authorization: Bearer <key>`. A request without the header, with a header "
         "that is not of that form, or with a key the API does not know is answered 401 with the error "
         "envelope, whatever the operation."),
    Rule("AUTH-CROSS-TEAM", _M, "1", "A valid key on another team → 403 or 404; never 2xx, never its data.",
         "A valid key used on a team it does not belong to — in the path, or through a record id of another "
         "team — is answered 403 or 404 (either MAY). It never gets a 2xx and never sees the other team's "
         "data, in the body or anywhere else."),
    Rule("ENV-SUCCESS", _M, "1", "Success bodies are JSON objects with success: true and data.",
         "Every 2xx answer that has a body is a JSON object with `success: true` and a `data` member."),
    Rule("ENV-LIST", _M, "1", "List bodies add pagination {total, page, pageSize, hasMore} at the top level.",
         "A list answer adds a top-level `pagination` object with the integers `total`, `page`, `pageSize` "
         "and the boolean `hasMore`."),
    Rule("ENV-ERROR", _M, "1", "Every 4xx body is {success: false, error: {code, message}}.",
         "Every 4xx answer is a JSON object with `success: false` and an `error` object whose `code` and "
         "`message` are strings."),
    Rule("EXTRA-FIELDS", _Y, "1", "Extra fields anywhere are legal.",
         "A target may add fields anywhere (`object`, `metadata`, `meta`, `requestId`, `type`, `doc_url`, …); "
         "the suite never rejects an answer for carrying them."),
    Rule("NO-5XX", _M, "1", "A client mistake never yields a 5xx.",
         "Bad JSON, wrong types, absurd numbers, any Unicode, long strings or odd parameters are client "
         "mistakes: the answer is a 4xx (or a success where the contract allows it), never a 5xx."),
    Rule("REJECTED-CHANGES-NOTHING", _M, "1", "A rejected request (any 4xx) changes nothing and sends no event.",
         "A request that is answered with any 4xx leaves no trace: no field of any record changes, nothing "
         "is created or deleted, and no webhook event is sent for it. This holds for every operation — an "
         "invalid PATCH, a duplicate email, a write with another team's key alike."),
    Rule("CONTENT-TYPE-JSON", _M, "1", "Content-Type: application/json on every JSON response.",
         "Every answer with a JSON body says `Content-Type: application/json` (parameters such as "
         "`; charset=utf-8` allowed)."),
    Rule("UNKNOWN-METHOD", _M, "1", "An undefined method on a known path → 405 with Allow, or 404.",
         "A method the contract does not define on a known path (PUT, TRACE, …; not HEAD or OPTIONS, which "
         "have rules of their own) is answered 405 with an `Allow` header, or 404 (either MAY), before or after "
         "authentication (without a key, 401 is legal too); never a 2xx, never a 5xx, and it changes nothing."),
    Rule("HEAD-AS-GET", _M, "1", "HEAD where GET is defined answers as GET would, without a body.",
         "A `HEAD` request on a path where `GET` is defined is answered as that `GET` would be — the same "
         "status — with no body; it never yields a 5xx and changes nothing."),
    Rule("OPTIONS-SAFE", _M, "1", "OPTIONS on any path → 2xx, 404 or 405 (401/403 without a key); never 5xx.",
         "An `OPTIONS` request on any path (a CORS preflight) may be answered 2xx, 404 or 405 — or 401/403, "
         "as any request without a valid key (the code is the target's choice) — never a 5xx, and it changes "
         "nothing."),
    Rule("AUTH-EXACT-KEY", _M, "1", "A key is valid only as the exact, whole string after Bearer.",
         "An API key is valid only as the exact, whole string after the scheme (`Bearer` in any letter case, "
         "then spaces or tabs): a string that extends or shortens a valid key, or changes its letter case, is "
         "an unknown key and is answered 401."),
    Rule("HTTP-FRAMING", _M, "1", "HTTP/1.1 framing is honoured both ways.",
         "A request body sent with `Transfer-Encoding: chunked` is read like one sent with `Content-Length`; "
         "a response's `Content-Length` counts bytes; on a kept-alive connection every request gets its own "
         "answer."),
    Rule("PK-READ-ONLY", _M, "1", "A publishable key may read; every write → 403.",
         "A publishable key (`pk_…`), when one is supplied to the suite, may read, and every write made with "
         "it is answered 403 and changes nothing."),
    Rule("RATE-LIMIT-RETRY-AFTER", _S, "1", "A 429 carries Retry-After or error.retryAfter.",
         "A 429 answer says when to come back: a `Retry-After` header or `error.retryAfter` in the body "
         "(either, or both). The suite itself waits and retries, and never counts a 429 as a failure by "
         "itself."),
    # §2 The customer object
    Rule("CUSTOMER-SHAPE", _M, "2", "Customer fields have the contract's types, enums and RFC 3339 timestamps.",
         "A customer is an object with `id` (a UUID), a non-empty string `name`, an `email` address, `status` "
         "`active`|`inactive`, `sentiment` `happy`|`neutral`|`frustrated`|`angry`, `tags` (array of strings), "
         "`notes` (string or null), `customFields` (object), `ticketCount` (integer ≥ 0), and `createdAt` "
         "and `updatedAt` as RFC 3339 date-times with `updatedAt ≥ createdAt`."),
    Rule("TIMESTAMP-TRUE-UTC", _M, "2", "createdAt and updatedAt are the true UTC time of the event.",
         "`createdAt` and `updatedAt` are the true UTC time of the create or change: a client with a correct "
         "clock sees them within a few minutes of its own clock at the time of its request (the suite allows "
         "5 minutes of skew)."),
    Rule("CREATE-DEFAULTS", _M, "2", "Defaults: status active, sentiment neutral, tags [], notes null/\"\", "
         "customFields {}, ticketCount 0.",
         "A customer created with only `name` and `email` has `status` `active`, `sentiment` `neutral`, "
         "`tags` `[]`, `notes` null or `\"\"` (either MAY), `customFields` `{}` and `ticketCount` 0."),
    Rule("CUSTOMFIELDS-TYPES", _M, "2", "customFields string, number and boolean values keep their JSON type.",
         "`customFields` values that are strings, numbers or booleans are accepted on create and update and "
         "come back unchanged, type included: `12` stays a number (not `\"12\"`), `1.5` stays `1.5`, `true` "
         "stays a boolean, `\"true\"` stays a string."),
    Rule("CUSTOMFIELDS-KEYS", _M, "2", "customFields keys are any strings and round-trip unchanged.",
         "`customFields` keys may be any strings — dots, spaces, any Unicode — and are accepted and come back "
         "unchanged, character for character."),
    Rule("CUSTOMFIELDS-NESTED", _Y, "2", "customFields arrays and nested objects: round-tripped or rejected.",
         "A `customFields` value that is an array or a nested object is either accepted and returned "
         "unchanged, or rejected with 400/422 (and then nothing is created or changed); in a PATCH, a target "
         "that accepts them may merge a nested value recursively or replace that key's value."),
    Rule("TAGS-DUPLICATES", _Y, "2", "Duplicate tags may be collapsed, first occurrence kept.",
         "`tags` that repeat a value may be kept as sent or collapsed to the first occurrence of each value, "
         "the order otherwise unchanged."),
    Rule("TIMESTAMP-FORMAT", _Y, "2", "Timestamps end in Z or +00:00, with or without fractions.",
         "`createdAt` and `updatedAt` may end in `Z` or `+00:00`, may carry fractions of a second or none, "
         "and may have one-second resolution; the suite compares instants, never spellings."),
    # §3 List
    Rule("LIST-DEFAULTS", _M, "3.list", "Defaults page=1, pageSize=20.",
         "Without page parameters the list is page 1 of size 20, and `pagination` says so."),
    Rule("LIST-PAGESIZE-RANGE", _M, "3.list", "pageSize from 1 to 100 inclusive is honoured.",
         "Every `pageSize` from 1 to 100 inclusive is served as asked: `pagination.pageSize` equals it and "
         "the page holds that many items when enough match (100 included)."),
    Rule("LIST-PAGESIZE-MAX", _M, "3.list", "pageSize > 100 is rejected (400/422) or clamped to 100.",
         "A `pageSize` above 100 is either rejected with 400/422 or clamped to 100 — then "
         "`pagination.pageSize` says 100 (either MAY); never more than 100 items."),
    Rule("LIST-BAD-PARAMS-4XX", _S, "3.list", "page < 1, pageSize < 1 and non-integers → 400 or 422.",
         "`page` or `pageSize` below 1, or values that are not integers, are rejected with 400 or 422."),
    Rule("LIST-PAGINATION-HONEST", _M, "3.list", "Any page parameters: no 5xx, ≤ 100 items, pagination "
         "describes the page returned.",
         "Whatever the page parameters, the answer is never a 5xx, never holds more than 100 items, and its "
         "`pagination` describes the page actually returned."),
    Rule("LIST-TOTAL-HASMORE", _M, "3.list", "total, hasMore and len(data) are consistent.",
         "`total` is the number of the team's customers matching all filters; `hasMore` is "
         "`page × pageSize < total`; the page holds `min(pageSize, max(0, total − (page − 1) × pageSize))` "
         "items."),
    Rule("LIST-PAST-END", _M, "3.list", "A page past the end → 200, data [], hasMore false.",
         "A page number past the last page is answered 200 with `data: []` and `hasMore: false`."),
    Rule("LIST-WALK-COMPLETE", _M, "3.list", "Walking all pages yields every match once, in a stable order.",
         "Walking pages 1..n while nothing changes yields every match exactly once — no overlap, no gap — and "
         "reading a page again gives the same items in the same order."),
    Rule("LIST-ORDER", _Y, "3.list", "The list order is the target's choice.",
         "Which order the list uses (oldest first, newest first, by name, …) is the target's choice, as long "
         "as it is stable; the suite compares sets, and sequences only between two reads of one page."),
    Rule("FILTER-EXACT", _M, "3.list", "status and sentiment filter exactly; combined filters are ANDed.",
         "`status` and `sentiment` filter by exact value, and given together (with `search` too) all "
         "conditions must hold."),
    Rule("FILTER-INVALID-NOT-UNFILTERED", _M, "3.list", "An invalid filter value never returns an "
         "unfiltered list.",
         "An unknown `status` or `sentiment` value is answered with 400/422 or with an empty result — never "
         "with the list as if the filter were absent."),
    Rule("FILTER-INVALID-4XX", _Y, "3.list", "An invalid filter value → 400/422 or an empty result.",
         "An unknown `status` or `sentiment` value is rejected with 400/422 or answered with an empty result "
         "(either MAY; before 2026-12-04 the first was a SHOULD, which contradicted the MAY beside it)."),
    Rule("FILTER-EMPTY-VALUE", _Y, "3.list", "An empty filter value may be treated as no filter.",
         "An empty `status=` or `sentiment=` may be treated as no filter, or as an invalid value (400/422 or "
         "an empty result)."),
    Rule("SEARCH-NAME-OR-EMAIL", _M, "3.list", "search matches a substring of name or email.",
         "`search` returns exactly the customers whose name or email contains the term as a substring (not "
         "only as a prefix), and counts them in `total`."),
    Rule("SEARCH-CASE-INSENSITIVE", _S, "3.list", "search ignores letter case.",
         "`search` ignores letter case, in names and in emails."),
    Rule("LIST-TEAM-ONLY", _M, "3.list", "Only the team's own customers appear, in data and total.",
         "Only the team's own customers appear in a list — in `data` and in `total` — whatever the filters "
         "and search."),
    Rule("LIST-TAG-FILTER", _Y, "3.list", "tag filter: supported or ignored.",
         "A target may support a `tag` filter (exact tag match) or ignore the parameter; the suite checks it "
         "only behind an explicit opt-in."),
    # §3 Create
    Rule("CREATE-2XX", _M, "3.create", "Create answers 2xx with the full customer.",
         "A valid create is answered 2xx with the whole customer, defaults applied."),
    Rule("CREATE-201", _S, "3.create", "Create answers 201.",
         "A valid create is answered 201 Created (any other 2xx keeps the MUST but is a finding)."),
    Rule("CREATE-VALIDATION", _M, "3.create", "Invalid bodies → 400/422 with the error envelope; nothing "
         "is created.",
         "A create with `name` or `email` missing, wrong types, an invalid email, unknown enum values, or a "
         "body that is not a JSON object is answered 400 or 422 with the error envelope, and nothing is "
         "created."),
    Rule("CREATE-UNKNOWN-FIELDS", _Y, "3.create", "Unknown body fields are ignored or rejected, never stored.",
         "Unknown fields in a body are ignored or rejected with 400/422 — never stored as if they were "
         "fields of the contract."),
    Rule("CREATE-NULL-OPTIONAL", _Y, "3.create", "null for an optional field is accepted or rejected.",
         "`null` for an optional field (`notes`, `tags`, `customFields`, …) is accepted as \"empty\" — the "
         "field's default; in a PATCH the field is reset to it — or rejected with 400/422."),
    Rule("CREATE-ROUNDTRIP", _M, "3.create", "Ordinary strings (≤ 255 chars, any Unicode) round-trip "
         "unchanged.",
         "Names, notes, tags and custom-field values of up to 255 characters, in any Unicode (accents, "
         "emoji, right-to-left text, combining marks), are accepted and come back unchanged — the same "
         "characters, leading and trailing spaces included, in the same order (tags too) — in every place the "
         "record appears: create and PATCH answers, GET, lists, search results and webhook payloads."),
    Rule("EMAIL-ORDINARY", _M, "3.create", "Ordinary email addresses are accepted and round-trip unchanged.",
         "Ordinary addresses — dot-atom local parts such as `first.last+tag@mail.example.co.uk`, "
         "`+` sub-addressing, several domain labels, any letter case — are accepted by create and update and "
         "come back exactly as sent (letter case included)."),
    Rule("CREATE-LONG-STRINGS", _Y, "3.create", "Whitespace-only names and long strings: accepted or "
         "rejected, never 5xx.",
         "Whitespace-only names and strings longer than 255 characters, of any length, are accepted or "
         "rejected with 400/422 (a body over a size limit: 413); never a 5xx."),
    Rule("EMAIL-UNIQUE", _M, "3.create", "A second create with the same email → 4xx, nothing created, "
         "first record unchanged.",
         "`email` is unique per team: a second create with the same address is answered with a 4xx, nothing "
         "is created and the first record is unchanged."),
    Rule("EMAIL-UNIQUE-409", _S, "3.create", "A duplicate email is answered with 409.",
         "The 4xx for a duplicate email is 409 Conflict."),
    Rule("EMAIL-UNIQUE-CASE", _S, "3.create", "Uniqueness ignores the letter case of the address.",
         "Uniqueness ignores the letter case of the address: `Jane@X.com` duplicates `jane@x.com`."),
    Rule("EMAIL-DISTINCT-ADDRESSES", _M, "3.create", "Addresses that differ in anything but letter case "
         "are different.",
         "Addresses that differ in anything but letter case are different addresses: `jane+news@x.com`, "
         "`jane@x.com` and `j.ane@x.com` can all exist in one team, and none of them is a conflict with "
         "another."),
    Rule("EMAIL-OTHER-TEAM-OK", _M, "3.create", "The same email in another team is accepted.",
         "An address used in one team can be used for a new customer in another team."),
    Rule("EMAIL-UNIQUE-CONCURRENT", _M, "3.create", "Concurrent creates of one new email: exactly one "
         "succeeds.",
         "When several creates of one new address race, exactly one succeeds and the others get a 4xx."),
    Rule("IDEMPOTENCY-KEY", _S, "3.create", "A repeated POST with the same Idempotency-Key creates "
         "nothing new.",
         "A POST repeated with the same `Idempotency-Key` header and body returns the first response and "
         "creates nothing new."),
    # §3 Get
    Rule("GET-EQUALS", _M, "3.get", "GET returns the customer as create/update returned it.",
         "GET answers 200 with the customer exactly as the last create or update returned it."),
    Rule("GET-UNKNOWN-404", _M, "3.get", "An unknown UUID → 404 with the error envelope.",
         "GET of a UUID that is no customer of the team is answered 404 with the error envelope."),
    Rule("GET-MALFORMED-ID", _M, "3.get", "A malformed id → 404 or 400.",
         "A customer id that is not a well-formed id is answered 404 or 400 (either MAY)."),
    # §3 Update
    Rule("PATCH-KEEPS-OMITTED", _M, "3.update", "Only fields present change; every omitted field keeps "
         "its value.",
         "A PATCH changes exactly the fields present in its body; every omitted field keeps its value."),
    Rule("PATCH-NO-LOST-UPDATE", _M, "3.update", "Concurrent PATCHes of one customer end as if "
         "serialised.",
         "Two PATCHes of one customer in flight at the same time end as if they had run one after the other: "
         "a field that only one of them names ends with that PATCH's value (no lost update)."),
    Rule("PATCH-TAGS-REPLACE", _M, "3.update", "tags replaces the whole array.",
         "`tags` in a PATCH replaces the whole array (`[]` empties it)."),
    Rule("PATCH-CUSTOMFIELDS-MERGE", _S, "3.update", "customFields merges per key; null removes a key.",
         "`customFields` in a PATCH merges key by key and a key set to `null` is removed (JSON Merge Patch, "
         "RFC 7396). Replacing the whole object is legal but falls short of this SHOULD."),
    Rule("PATCH-CUSTOMFIELDS-KEPT", _M, "3.update", "Omitting customFields leaves it unchanged.",
         "A PATCH without `customFields` leaves them exactly as they were."),
    Rule("PATCH-EMPTY-NOOP", _M, "3.update", "{} → 2xx and nothing changes.",
         "`PATCH {}` is answered 2xx and changes nothing."),
    Rule("PATCH-INVALID-NOCHANGE", _M, "3.update", "Invalid values → 400/422 and nothing changes.",
         "A PATCH with any invalid value is answered 400/422 and changes nothing — not even the valid fields "
         "of the same body."),
    Rule("PATCH-EMAIL-CONFLICT", _M, "3.update", "Changing email to another customer's → 4xx, nothing "
         "changes.",
         "Changing `email` to the address of another customer of the team is answered with a 4xx (409 "
         "SHOULD) and changes nothing."),
    Rule("PATCH-OWN-EMAIL-OK", _M, "3.update", "Setting one's own email again, in any case, is no conflict.",
         "Setting a customer's own email again, in any letter case, is not a conflict."),
    Rule("PATCH-IMMUTABLE-FIELDS", _M, "3.update", "id, createdAt, ticketCount never change; updatedAt "
         "never goes backwards.",
         "`id`, `createdAt` and `ticketCount` never change through PATCH (a body naming them is ignored or "
         "rejected); `updatedAt` never goes backwards and stays ≥ `createdAt`."),
    Rule("PATCH-UPDATEDAT-MOVES", _M, "3.update", "A PATCH that changes something moves updatedAt.",
         "A PATCH that changes something moves `updatedAt` to the time of the change; with one-second "
         "timestamps this is observable only more than a second after the create."),
    Rule("PATCH-NOOP-QUIET", _Y, "3.update", "A PATCH that changes nothing may leave updatedAt and send no event.",
         "A PATCH that changes nothing may leave `updatedAt` as it was and send no webhook — or move it and "
         "send `customer.updated`."),
    Rule("PATCH-UNKNOWN-404", _M, "3.update", "PATCH of an unknown id → 404.",
         "A PATCH of an id that is no customer of the team is answered 404 and creates nothing."),
    # §3 Delete
    Rule("DELETE-STATUS", _M, "3.delete", "Delete answers 200 with JSON or 204 with no body.",
         "A delete is answered 200 with a JSON body (the success envelope; what `data` holds is the target's "
         "choice) or 204 with no body (either MAY)."),
    Rule("DELETE-GONE", _M, "3.delete", "After delete: GET, PATCH, DELETE → 404; gone from lists and totals.",
         "After a delete, GET, PATCH and DELETE of the customer are answered 404, and it is gone from every "
         "list and total."),
    Rule("DELETE-CASCADE", _M, "3.delete", "Every ticket of the customer is deleted with it.",
         "Deleting a customer deletes every ticket of that customer, and no ticket of anyone else."),
    Rule("DELETE-EMAIL-REUSABLE", _S, "3.delete", "The email is free again after delete.",
         "After a delete, the customer's address is free for a new customer."),
    # §4 Tickets
    Rule("TICKET-BAD-CUSTOMER", _M, "4", "A ticket for a customer outside the team → 400/404/422, "
         "nothing created.",
         "A ticket whose `customerId` is not a customer of the team is answered 400, 404 or 422, and no "
         "ticket is created."),
    Rule("TICKET-COUNT", _M, "4", "Creating a ticket raises the customer's ticketCount by one.",
         "Each ticket created for a customer raises its `ticketCount` by one; `ticketCount` counts the "
         "customer's current tickets, or every ticket ever opened for it (§4)."),
    Rule("TICKET-COUNT-ON-DELETE", _Y, "4", "Deleting a ticket may lower ticketCount or leave it.",
         "Deleting a ticket may lower the customer's `ticketCount` or leave it (cStar documents the count "
         "as \"tickets ever opened\")."),
    # §5 Webhooks
    Rule("WEBHOOK-EVENTS", _M, "5", "customer.created after a create, customer.updated after a changing "
         "PATCH.",
         "A registered webhook receives `customer.created` after a create and `customer.updated` after a "
         "PATCH that changed something."),
    Rule("WEBHOOK-SUBSCRIBED-ONLY", _M, "5", "A webhook receives only the event types it subscribed to.",
         "A webhook receives only the event types it subscribed to (`\"*\"` subscribes to all)."),
    Rule("WEBHOOK-TEAM-ONLY", _M, "5", "A webhook receives only its own team's events.",
         "A webhook receives only events about its own team's customers, never another team's."),
    Rule("WEBHOOK-PAYLOAD", _M, "5", "Delivery is JSON {id, type, created_at, team_id, data.customer} in "
         "snake_case, matching the customer.",
         "Each delivery is a POST of the JSON object `{id, type, created_at, team_id, data: {customer}}`, "
         "snake_case on the wire, with the customer's own fields (`custom_fields`, `ticket_count`, "
         "`created_at`, …) matching the customer as the API returns it."),
    Rule("WEBHOOK-SIGNATURE", _M, "5", "X-Signature t=…,v1=HMAC-SHA256(secret, \"<t>.<raw body>\"), t "
         "within 300 s.",
         "Each delivery carries `X-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "
         "\"<t>.<raw body>\")>`, keyed with the whole `whsec_…` secret, with `t` within 300 s of now."),
    Rule("WEBHOOK-WITHIN-10S", _M, "5", "Delivered within 10 s.",
         "An event is delivered within 10 seconds of the API's answer to the call that caused it, to each "
         "endpoint that answers 2xx, whatever other endpoints of the team do (failing, slow)."),
    Rule("WEBHOOK-WITHIN-2S", _S, "5", "Delivered within 2 s.",
         "An event is delivered within 2 seconds of the API's answer to the call that caused it, to each "
         "endpoint that answers 2xx, whatever other endpoints of the team do."),
    Rule("WEBHOOK-OPTIONAL-EVENTS", _Y, "5", "customer.deleted and retries are the target's choice.",
         "A target may send `customer.deleted` after a delete, and may retry a failed delivery (cStar "
         "documents retries minutes apart)."),
    Rule("WEBHOOK-AT-LEAST-ONCE", _Y, "5", "An event may arrive more than once, with the same id.",
         "Delivery is at least once: the same event (same `id`) may arrive more than once, and a receiver "
         "de-duplicates by `id`."),
    Rule("WEBHOOK-EVENT-IDS", _M, "5", "Every copy of an event carries its id; distinct events, distinct ids.",
         "Every copy and every retry of one event carries that event's `id`, and distinct events carry "
         "distinct ids."),
    Rule("WEBHOOK-DELETED-SILENT", _M, "5", "A deleted webhook receives no event of a later write.",
         "Once the `DELETE` of a webhook has been answered, that webhook receives no event of a write made "
         "after it."),
    Rule("WEBHOOK-HEADERS", _Y, "5", "X-Event-ID, X-Event-Type, X-Delivery-Attempt headers are optional.",
         "`X-Event-ID`, `X-Event-Type` and `X-Delivery-Attempt` headers may be sent or not."),
    Rule("WEBHOOK-EVENT-TYPE-HEADER", _M, "5", "When X-Event-Type is present it equals the payload type.",
         "When a delivery carries `X-Event-Type`, it equals the payload's `type`."),
)

BY_ID: dict[str, Rule] = {rule.id: rule for rule in RULES}


def rule(rule_id: str) -> Rule:
    """The rule with this id; a KeyError names the unknown id."""
    try:
        return BY_ID[rule_id]
    except KeyError:
        raise KeyError(f"unknown rule id {rule_id!r}; see cstar_conformance/rules.py") from None
