"""The executable model of the contract, pure: no pytest, no HTTP. The suite's shell (`observer.py`) feeds
it every exchange and webhook delivery; it returns the violations each shows, each naming its rule ids.

    model = Model(Config(teams=[team_a, team_b], marker=run_id))
    violations = model.observe(exchange)          # one request and its answer
    violations = observe_batch(model, exchanges)  # requests that were in flight together
    violations = model.deliver(delivery)          # one webhook delivery
    violations = model.due(time.time())           # events overdue, deliveries nothing explains
"""

from cstar_conformance.model.core import Config, Model
from cstar_conformance.model.exchange import NO_BODY, NOT_JSON, Credential, Delivery, Exchange, Key, Violation
from cstar_conformance.model.linear import observe_batch

# Every rule a violation of the model may name (tests/unit/test_model.py keeps it equal to the model's code):
# a check that only feeds the model (the exploration) names them all.
JUDGED_RULES: tuple[str, ...] = (
    "AUTH-401", "AUTH-CROSS-TEAM", "AUTH-EXACT-KEY", "CONTENT-TYPE-JSON", "CREATE-201", "CREATE-2XX", "CREATE-DEFAULTS",
    "CREATE-ROUNDTRIP", "CREATE-VALIDATION", "CUSTOMER-SHAPE", "CUSTOMFIELDS-KEYS", "CUSTOMFIELDS-TYPES",
    "DELETE-CASCADE", "DELETE-GONE", "DELETE-STATUS", "EMAIL-DISTINCT-ADDRESSES", "EMAIL-ORDINARY", "EMAIL-UNIQUE",
    "EMAIL-UNIQUE-409", "EMAIL-UNIQUE-CASE", "EMAIL-UNIQUE-CONCURRENT", "ENV-ERROR", "ENV-LIST", "ENV-SUCCESS",
    "FILTER-EXACT", "FILTER-INVALID-NOT-UNFILTERED", "GET-EQUALS", "GET-MALFORMED-ID", "GET-UNKNOWN-404",
    "HEAD-AS-GET", "IDEMPOTENCY-KEY", "LIST-DEFAULTS", "LIST-PAGESIZE-MAX", "LIST-PAGESIZE-RANGE",
    "LIST-PAGINATION-HONEST",
    "LIST-PAST-END", "LIST-TEAM-ONLY", "LIST-TOTAL-HASMORE", "LIST-WALK-COMPLETE", "NO-5XX", "OPTIONS-SAFE",
    "PATCH-CUSTOMFIELDS-KEPT", "PATCH-CUSTOMFIELDS-MERGE", "PATCH-EMAIL-CONFLICT", "PATCH-EMPTY-NOOP",
    "PATCH-IMMUTABLE-FIELDS", "PATCH-INVALID-NOCHANGE", "PATCH-KEEPS-OMITTED", "PATCH-NO-LOST-UPDATE",
    "PATCH-OWN-EMAIL-OK", "PATCH-TAGS-REPLACE", "PATCH-UNKNOWN-404", "PATCH-UPDATEDAT-MOVES", "PK-READ-ONLY",
    "REJECTED-CHANGES-NOTHING", "SEARCH-NAME-OR-EMAIL", "TICKET-BAD-CUSTOMER", "TICKET-COUNT", "TIMESTAMP-TRUE-UTC",
    "UNKNOWN-METHOD", "WEBHOOK-DELETED-SILENT", "WEBHOOK-EVENT-IDS", "WEBHOOK-EVENT-TYPE-HEADER", "WEBHOOK-EVENTS",
    "WEBHOOK-PAYLOAD", "WEBHOOK-SIGNATURE", "WEBHOOK-SUBSCRIBED-ONLY", "WEBHOOK-TEAM-ONLY", "WEBHOOK-WITHIN-10S",
    "WEBHOOK-WITHIN-2S",
)

__all__ = ["JUDGED_RULES", "NO_BODY", "NOT_JSON", "Config", "Credential", "Delivery", "Exchange", "Key", "Model",
           "Violation", "observe_batch"]
