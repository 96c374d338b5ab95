"""What the model checks on every exchange, rule by rule: the invariant in a sentence and the module of the
model that checks it. docs/contract.md shows them beside their rules; a unit test keeps this table and the
rules the model's code names (JUDGED_RULES) the same."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Invariant:
    rule: str
    statement: str
    where: str  # the module of cstar_conformance.model that checks it


_I = Invariant
INVARIANTS: tuple[Invariant, ...] = (
    _I("NO-5XX", "no answer to any request the suite sends is a 5xx", "core"),
    _I("ENV-SUCCESS", "every 2xx with a body (an OPTIONS answer: with a JSON body) is {success: true, data}", "core"),
    _I("ENV-ERROR", "every 4xx is {success: false, error: {code, message}}, strings both", "core"),
    _I("CONTENT-TYPE-JSON", "every JSON answer says application/json (parameters allowed)", "core"),
    _I("ENV-LIST", "every list answer holds data (an array) and pagination of three integers and a boolean", "lists"),
    _I("AUTH-401", "a request without a valid key is answered 401, never served — HEAD and writes included",
       "core"),
    _I("AUTH-EXACT-KEY", "a key extended, shortened or re-cased is answered 401", "core"),
    _I("AUTH-CROSS-TEAM", "a key on another team's path, or a record of another team through this team's path "
       "(customer, ticket, webhook registration, a replayed create), is never served", "core, updates, related"),
    _I("PK-READ-ONLY", "every write with a publishable key is answered 403 and changes nothing", "core"),
    _I("UNKNOWN-METHOD", "an undefined method on a customer path is 405 with Allow, 404 or 401, and changes nothing",
       "core"),
    _I("HEAD-AS-GET", "HEAD is answered with the status GET would have", "core, creates"),
    _I("OPTIONS-SAFE", "OPTIONS is answered 2xx, 401, 403, 404 or 405, and whatever its body held is never stored",
       "core, lists"),
    _I("REJECTED-CHANGES-NOTHING", "after a refused write (or an OPTIONS), the record it named reads as before, no "
       "record it described appears in a list, and no event announces it", "updates, lists, related"),
    _I("CUSTOMER-SHAPE", "every customer anywhere (create, PATCH and GET answers, list items) has the contract's "
       "types, enums and RFC 3339 timestamps with updatedAt ≥ createdAt", "creates, updates, lists"),
    _I("TIMESTAMP-TRUE-UTC", "createdAt and updatedAt of a write lie within 5 minutes of the suite's clock around "
       "it; a read never shifts them off it", "creates, updates, lists"),
    _I("CREATE-DEFAULTS", "a create answer applies the defaults to every field not sent (ticketCount 0)", "creates"),
    _I("CUSTOMFIELDS-TYPES", "a custom-field number or boolean keeps its value and JSON type in every place",
       "creates, updates, lists, events"),
    _I("CUSTOMFIELDS-KEYS", "custom-field keys come back exactly as sent, in every place", "creates, updates, lists"),
    _I("CREATE-2XX", "a create the contract says must be accepted is answered 2xx with the whole customer", "creates"),
    _I("CREATE-201", "an accepted create is answered 201", "creates"),
    _I("CREATE-VALIDATION", "a create with a missing, wrong-typed or invalid field is refused with 400/422",
       "creates"),
    _I("CREATE-ROUNDTRIP", "every accepted string (names, notes, tags, custom-field strings) is the same, character "
       "for character and in order, in every place the record appears", "creates, updates, lists, events"),
    _I("EMAIL-ORDINARY", "an accepted address is kept exactly, letter case included, everywhere", "creates, updates"),
    _I("EMAIL-UNIQUE", "no second live customer of the team is created with an address already held", "creates"),
    _I("EMAIL-UNIQUE-409", "a duplicate address is refused with 409", "creates"),
    _I("EMAIL-UNIQUE-CASE", "no second customer holds the same address in another letter case", "creates, updates"),
    _I("EMAIL-UNIQUE-CONCURRENT", "of creates of one address in flight together, at most one is accepted", "linear"),
    _I("EMAIL-DISTINCT-ADDRESSES", "a create refused 409 while no customer holds its address (in any case) is a "
       "false conflict", "creates"),
    _I("IDEMPOTENCY-KEY", "a create repeated with the key and body of an accepted one is answered the same way",
       "creates"),
    _I("GET-EQUALS", "GET (and every list item) shows a customer as the last write's answer said, never an "
       "earlier state", "updates, lists"),
    _I("GET-UNKNOWN-404", "a customer id no answer ever carried is answered 404", "updates"),
    _I("GET-MALFORMED-ID", "a malformed id is answered 400 or 404", "updates"),
    _I("PATCH-KEEPS-OMITTED", "a PATCH answer is the customer with exactly the body's fields applied: omitted ones "
       "kept, named ones set", "updates"),
    _I("PATCH-NO-LOST-UPDATE", "PATCHes of one customer in flight together are explained by some serial order",
       "linear"),
    _I("PATCH-TAGS-REPLACE", "tags in a PATCH replace the array (duplicates kept or collapsed)", "updates"),
    _I("PATCH-CUSTOMFIELDS-MERGE", "customFields in a PATCH merge per key, null removing one", "updates"),
    _I("PATCH-CUSTOMFIELDS-KEPT", "a PATCH without customFields leaves them as they were", "updates"),
    _I("PATCH-EMPTY-NOOP", "PATCH {} is answered 2xx", "updates"),
    _I("PATCH-INVALID-NOCHANGE", "an invalid PATCH is refused with 400/422 and changes nothing", "updates"),
    _I("PATCH-EMAIL-CONFLICT", "a PATCH to another customer's address is refused and changes nothing", "updates"),
    _I("PATCH-OWN-EMAIL-OK", "a PATCH to the customer's own address, in any case, is no conflict", "updates"),
    _I("PATCH-IMMUTABLE-FIELDS", "id, createdAt and ticketCount never change through a PATCH; updatedAt never goes "
       "back", "updates"),
    _I("PATCH-UPDATEDAT-MOVES", "a PATCH that changes something more than a second after the last write moves "
       "updatedAt", "updates"),
    _I("PATCH-UNKNOWN-404", "a PATCH of an id that is no customer is never answered 2xx", "updates"),
    _I("DELETE-STATUS", "a delete is answered 200 with JSON or 204 without a body", "updates"),
    _I("DELETE-GONE", "a deleted customer is 404 to GET, PATCH and DELETE, and in no list or total", "updates, lists"),
    _I("DELETE-CASCADE", "a deleted customer's tickets are 404 and in no ticket list", "related"),
    _I("TICKET-BAD-CUSTOMER", "a ticket for a customer outside the team is refused with 400/404/422", "related"),
    _I("TICKET-COUNT", "ticketCount, wherever a customer is seen, lies between its current tickets and every ticket "
       "ever opened for it", "state, updates, lists"),
    _I("LIST-DEFAULTS", "a list without page parameters is page 1 of 20", "lists"),
    _I("LIST-PAGESIZE-RANGE", "pageSize 1 to 100 is served as asked", "lists"),
    _I("LIST-PAGESIZE-MAX", "no page holds more than 100 items; pageSize above 100 is refused or said to be 100",
       "lists"),
    _I("LIST-PAGINATION-HONEST", "pagination describes the page returned: the page and size asked", "lists"),
    _I("LIST-TOTAL-HASMORE", "hasMore and the page's length follow from total; total counts at least every live "
       "record of the run that matches, and at most those that may (a query only the run's records can match)",
       "lists"),
    _I("LIST-PAST-END", "a page past the end is empty with hasMore false", "lists"),
    _I("LIST-WALK-COMPLETE", "pages of one query with no write between neither overlap nor repeat an item, read "
       "twice they agree, walked to the end they miss no match", "lists"),
    _I("FILTER-EXACT", "every item of a status/sentiment-filtered page has that value; valid filters are served",
       "lists"),
    _I("FILTER-INVALID-NOT-UNFILTERED", "an unknown filter value gives 400/422 or nothing", "lists"),
    _I("SEARCH-NAME-OR-EMAIL", "every item of a search contains the term in its name or address (letter case and "
       "accents aside), and every live record of the run that contains it is found", "lists"),
    _I("LIST-TEAM-ONLY", "no list, search or total holds another team's customer", "lists"),
    _I("WEBHOOK-EVENTS", "every accepted create and changing PATCH is announced to each healthy registration "
       "subscribed to it, within 10 s; nothing announces a write the run did not make", "events"),
    _I("WEBHOOK-WITHIN-10S", "each implied event reaches each endpoint that answers 2xx within 10 s", "events"),
    _I("WEBHOOK-WITHIN-2S", "each implied event reaches each endpoint that answers 2xx within 2 s", "events"),
    _I("WEBHOOK-SUBSCRIBED-ONLY", "a registration gets no event type it did not subscribe to", "related"),
    _I("WEBHOOK-TEAM-ONLY", "a registration gets no event of another team (and team_id says its own)",
       "events, related"),
    _I("WEBHOOK-PAYLOAD", "every delivery is a POST of {id, type, created_at, team_id, data.customer} whose customer, "
       "in snake_case, is the customer as the write's answer showed it", "events"),
    _I("WEBHOOK-SIGNATURE", "every delivery is signed t=…,v1=HMAC-SHA256(secret, \"t.body\") with t within 300 s",
       "events"),
    _I("WEBHOOK-EVENT-TYPE-HEADER", "X-Event-Type, when sent, equals the payload's type", "events"),
    _I("WEBHOOK-EVENT-IDS", "every copy and retry of an event carries its id; distinct events never share one",
       "events"),
    _I("WEBHOOK-DELETED-SILENT", "a registration whose DELETE was answered gets no event of a later write",
       "related"),
)
