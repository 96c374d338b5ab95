"""Red team, round 1: faults of §3 delete and cascade, §4 tickets and ticketCount, §5 webhooks.

Written blind — from docs/contract.md and the reference's code only — each naming the rules it breaks and
the real-stack cause it plays. Rows of (name, "RULE-ID,RULE-ID", description); `faults.py` registers them.
"""

ROWS: tuple[tuple[str, str, str], ...] = (
    # §3 delete and cascade
    ("cascade-one-batch-of-50", "DELETE-CASCADE",
     "an application-side cascade (no ON DELETE CASCADE in the schema) deletes the tickets in batches "
     "(`DELETE … WHERE id IN (SELECT … LIMIT 50)`) but runs one pass only: a customer with more than 50 "
     "tickets leaves the rest behind"),
    ("delete-repeat-answers-2xx", "DELETE-GONE,AUTH-CROSS-TEAM",
     "DELETE made 'idempotent': `DELETE FROM customers WHERE id = ? AND team_id = ?` without a rowcount "
     "check, so a second DELETE of a deleted customer (or of any id the team does not own) answers 2xx"),
    ("get-cache-survives-delete", "DELETE-GONE",
     "a read-through cache of GET customer (Redis, keyed by team and id) is evicted by the PATCH and ticket "
     "write paths but not by DELETE: a customer read once before its delete is still served with 200"),
    # §4 tickets and ticketCount
    ("ticketcount-read-modify-write", "TICKET-COUNT",
     "ORM read-modify-write: the customer is loaded outside the write transaction (no SELECT … FOR UPDATE) "
     "and `ticket_count = loaded + 1` is saved; two tickets created at once for one customer count once"),
    ("ticketcount-update-id-as-sent", "TICKET-COUNT",
     "the counter UPDATE binds customerId as sent while the lookup and the INSERT go through the "
     "lower-casing UUID type; text compares case-sensitively, so a ticket created with an upper-case "
     "customerId is created but not counted"),
    # §5 webhooks
    ("webhook-targets-cached-past-delete", "WEBHOOK-DELETED-SILENT",
     "the team's subscribed endpoints are cached in process for 60 s; POST /webhooks invalidates the "
     "cache, DELETE /webhooks/{id} forgets to: a deleted webhook keeps getting the team's events"),
    ("webhook-fanout-serial-retries", "WEBHOOK-WITHIN-10S,WEBHOOK-WITHIN-2S",
     "one delivery job per event loops over the team's endpoints in registration order with the retries "
     "inline: an endpoint that hangs until the client timeout holds back every healthy endpoint after it"),
    ("webhook-wildcard-or-precedence", "WEBHOOK-TEAM-ONLY",
     "the subscription filter pushed into SQL without parentheses: `WHERE active AND team_id = ? AND "
     "events LIKE '%\"<type>\"%' OR events LIKE '%\"*\"%'`: a '*' webhook receives every team's events"),
    ("webhook-matches-first-event-type", "WEBHOOK-EVENTS",
     "the subscription column was migrated from one `event` string to an array and the matcher still "
     "reads events[0]: a webhook subscribed to [created, updated] never gets customer.updated"),
    ("webhook-retry-mints-new-id", "WEBHOOK-EVENT-IDS",
     "a failed delivery is retried by re-publishing the event, and publish() stamps a fresh id: the "
     "retry that finally succeeds carries another id than the first attempt"),
    ("webhook-signs-ascii-escaped", "WEBHOOK-SIGNATURE",
     "the signer re-serialises the event with json.dumps' default ensure_ascii=True while the HTTP client "
     "sends UTF-8: the signature verifies only for payloads that are pure ASCII"),
    ("webhook-outbox-utf8mb3", "CREATE-ROUNDTRIP,WEBHOOK-PAYLOAD",
     "the event outbox table is a MySQL utf8mb3 column (non-strict mode): characters outside the BMP "
     "(emoji) become '?' in deliveries, while the API keeps them"),
    ("webhook-decamelizes-custom-fields", "WEBHOOK-PAYLOAD,CUSTOMFIELDS-KEYS",
     "the payload is made snake_case by a recursive decamelize (humps-style) over the whole customer: "
     "user-defined customFields keys such as 'accountId' arrive as 'account_id'"),
    ("webhook-relay-bigint-float", "WEBHOOK-PAYLOAD",
     "the event relay is a Node.js consumer that JSON.parse's each outbox row: integers beyond 2^53 in "
     "customFields lose precision in deliveries (9007199254740993 → 9007199254740992)"),
    ("webhook-oversize-event-dropped", "WEBHOOK-EVENTS",
     "events go through PostgreSQL NOTIFY, whose payload limit is 8000 bytes; the 'payload string too "
     "long' error is swallowed: the event of a large customer (long notes, many tags) is never delivered"),
    ("webhook-json-change-no-event", "WEBHOOK-EVENTS",
     "the change hook diffs the scalar columns only (JSON columns are mutated in place and not tracked): "
     "a PATCH that changes only tags or customFields is saved but sends no customer.updated"),
    ("webhook-ticket-count-live", "WEBHOOK-PAYLOAD",
     "the event enricher fills ticket_count with COUNT(*) over live tickets while the API serves the "
     "stored 'tickets ever opened' counter: after a ticket is deleted, the payload disagrees with the API"),
)
