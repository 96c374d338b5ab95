"""Red team, round 2: faults of §3 delete and cascade, §4 tickets and ticketCount, §5 webhooks.

Written blind — from docs/contract.md and the reference's code only — by helpers other than round 1's, after
the suite was changed to close round 1's misses. Rows of (name, "RULE-ID,RULE-ID", description).
"""

ROWS: tuple[tuple[str, str, str], ...] = (
    ("webhook-signing-secret-per-team", "WEBHOOK-SIGNATURE",
     "The signing key is memoised per team (an lru_cache on signing_key(team_id)) although secrets are per "
     "endpoint: a team's second webhook gets deliveries signed with the first webhook's secret."),
    ("webhook-event-id-per-endpoint", "WEBHOOK-EVENT-IDS",
     "The event id is minted when the outbox writes one delivery row per endpoint, not when the event is "
     "created: two webhooks of a team get one event under two different ids."),
    ("webhook-breaker-per-host", "WEBHOOK-WITHIN-10S,WEBHOOK-WITHIN-2S,WEBHOOK-EVENTS",
     "An outbound circuit breaker keyed by (team, host:port), not by endpoint: three failed attempts to a "
     "failing endpoint open it for 10 s, and deliveries to a healthy endpoint on the same host are dropped."),
    ("webhook-subscribers-cached-by-type", "WEBHOOK-TEAM-ONLY,WEBHOOK-EVENTS",
     "The subscriber look-up is cached for 30 s under the event type alone (a Redis key subscribers:<type>, "
     "no team id): after team A's event, team B's events of that type go to team A's webhooks."),
    ("webhook-shared-client-headers", "WEBHOOK-EVENT-TYPE-HEADER",
     "The event headers are set on the default headers of one HTTP client shared by every delivery thread "
     "(session.headers.update): two deliveries in flight together send each other's X-Event-Type."),
    ("webhook-wildcard-only-alone", "WEBHOOK-EVENTS",
     "The wildcard test is written `events == ['*']`: a webhook subscribed to ['customer.updated', '*'] "
     "gets only customer.updated, never customer.created."),
    ("webhook-payload-strips-whitespace", "WEBHOOK-PAYLOAD,CREATE-ROUNDTRIP",
     "The event schema model has str_strip_whitespace=True (Pydantic): name, notes and tags in the payload "
     "lose their leading and trailing spaces, which the API keeps."),
    ("webhook-case-change-no-event", "WEBHOOK-EVENTS",
     "The change hook diffs the indexed lower-case copies (name_lower, email_lower): a PATCH that only "
     "changes the letter case of the name or email moves updatedAt but sends no customer.updated."),
    ("patch-event-before-flush", "REJECTED-CHANGES-NOTHING",
     "customer.updated is published from a SQLAlchemy before_flush listener and address conflicts are left "
     "to the unique index: a PATCH to another customer's email is refused 409 after its event went out."),
    ("soft-delete-patch-by-pk", "DELETE-GONE",
     "Delete is a soft delete behind a default query scope, but the update path loads the row by primary key "
     "(Session.get), which the scope does not reach: PATCH of a deleted customer answers 200."),
    ("delete-restrict-with-tickets", "DELETE-STATUS,DELETE-CASCADE",
     "A migration recreated the tickets foreign key without ON DELETE CASCADE (RESTRICT): deleting a customer "
     "that has tickets ends in an IntegrityError, answered 409, and nothing is deleted."),
    ("ticket-cache-survives-cascade", "DELETE-CASCADE",
     "Tickets are read through a cache evicted by the ticket DELETE route, but the customer delete cascades in "
     "the database (ON DELETE CASCADE fires no app hook): GET of a cascaded ticket still answers 200."),
    ("ticket-saved-before-team-check", "TICKET-BAD-CUSTOMER,REJECTED-CHANGES-NOTHING",
     "The ticket is saved (autocommit repository) before the service checks that its customer is the team's; "
     "the foreign key stops unknown ids, but a ticket for another team's customer is refused 404 and stays."),
    ("ticketcount-bumped-before-idempotency", "TICKET-COUNT,IDEMPOTENCY-KEY,REJECTED-CHANGES-NOTHING",
     "ticketCount is bumped in its own transaction by a pre-handler step that runs before the idempotency layer: "
     "a replayed POST /tickets (or one refused 409 for a reused key) raises the count again."),
    ("ticketcount-tinyint", "TICKET-COUNT",
     "ticket_count is a TINYINT column and MySQL runs in non-strict mode: the 128th ticket is clamped to 127 "
     "(a warning nobody reads), and the count stops there."),
)
