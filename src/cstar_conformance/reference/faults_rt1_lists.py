"""Red team, round 1: faults of §3 list: pagination, filters, search, tenant isolation of lists.

Written blind — from docs/contract.md and the reference's code only — each naming the rules it breaks and
the real-stack cause it plays. Rows of (name, "RULE-ID,RULE-ID", description); `faults.py` registers them.
"""

ROWS: tuple[tuple[str, str, str], ...] = (
    ("keyset-created-second", "LIST-WALK-COMPLETE,LIST-TOTAL-HASMORE",
     "keyset pagination for pages ≥ 2 (`WHERE created_at > :last_seen`) on a DATETIME without fractional seconds "
     "(MySQL's default): customers created in the same second as the previous page's last row are skipped"),
    ("offset-from-default-pagesize", "LIST-WALK-COMPLETE,LIST-TOTAL-HASMORE",
     "OFFSET computed from the configured default page size, (page − 1) × 20, not the requested one (a refactor "
     "leftover): page 2 of any other pageSize starts at the wrong row — gaps, or an empty page"),
    ("total-capped-100", "LIST-TOTAL-HASMORE,LIST-WALK-COMPLETE",
     "COUNT(*) wraps the list statement with its safety `LIMIT 100` still on: past 100 matches, total says 100, "
     "hasMore turns false early and the pages beyond the 100th row come back empty"),
    ("count-cache-without-team", "LIST-TEAM-ONLY,LIST-TOTAL-HASMORE",
     "Redis cache of list totals keyed by the query string alone (no team id), flushed on writes: a team that "
     "lists with the same filters/search another team just used gets that team's total"),
    ("list-tenant-race", "LIST-TEAM-ONLY,AUTH-CROSS-TEAM",
     "the tenant id sits in a process-wide variable (a module global set by middleware, not a contextvar) read "
     "back ~100 ms later by the repository: two teams' list requests in flight at once swap tenants"),
    ("search-email-lookup-any-team", "LIST-TEAM-ONLY,AUTH-CROSS-TEAM",
     "a 'looks like an address' fast path: a search term that is a whole email address ORs in an exact lookup "
     "on the email index built without the team condition — another team's customer is listed and counted"),
    ("tag-filter-any-team", "LIST-TEAM-ONLY,AUTH-CROSS-TEAM",
     "the tag filter takes ids from a tag → customer-id table keyed by tag alone and trusts them in place of "
     "the team condition: ?tag=vip lists and counts another team's customers tagged vip"),
    ("list-tickets-join-fanout", "LIST-WALK-COMPLETE,LIST-TOTAL-HASMORE",
     "the ORM list query outer-joins tickets (for a ticket-count sort/eager load) without DISTINCT: a customer "
     "with n tickets comes back n times in a page and LIMIT counts the duplicate rows"),
    ("filter-sentiment-after-limit", "LIST-TOTAL-HASMORE,LIST-WALK-COMPLETE",
     "sentiment is a hybrid property the ORM never pushes into SQL: it is checked in Python after OFFSET/LIMIT "
     "while total is counted in SQL — filtered pages come back short and a walk misses matches"),
    ("filter-enum-contains", "FILTER-EXACT",
     "a generic query-param filter helper builds `column LIKE '%value%'` (the search's contains operator) for "
     "enum columns too: status=active also returns the inactive customers"),
    ("search-short-term-ignored", "SEARCH-NAME-OR-EMAIL,LIST-TOTAL-HASMORE",
     "pg_trgm trigram index: a term under 3 characters has no trigrams, and the code drops the condition "
     "instead of scanning — a 1–2 character search returns the unfiltered list"),
    ("search-words-anded", "SEARCH-NAME-OR-EMAIL",
     "the term goes through a full-text query parser (simple_query_string, default operator AND): a term with "
     "spaces is split into words matched separately, in any order, across name and email"),
    ("search-plus-as-space", "SEARCH-NAME-OR-EMAIL",
     "the already-decoded term is URL-decoded once more (unquote_plus in a shared helper): '+' becomes a space "
     "and %xx sequences decode — search=jane+news does not find jane+news@…"),
    ("search-accent-folded-term", "SEARCH-NAME-OR-EMAIL",
     "query and index analyzers differ: the term goes through an ASCII-folding filter (NFKD, marks dropped) "
     "while the columns were indexed unfolded — searching 'José' no longer finds José"),
    ("search-total-counts-deleted", "DELETE-GONE,LIST-TOTAL-HASMORE",
     "a search's total is the search index's hit count, and deletes never reach the index (the delete event "
     "has no consumer): a deleted customer still counts in the total of any search that matched it"),
    ("list-tags-sorted", "CREATE-ROUNDTRIP",
     "tags kept in a join table and aggregated for the list with GROUP_CONCAT/array_agg without ORDER BY "
     "position: list items carry the tags in the index's (alphabetical) order, GET in the order sent"),
    ("list-customfields-json-group", "CUSTOMFIELDS-TYPES",
     "the list projection rebuilds customFields in SQL with json_each + json_group_object, and SQLite hands "
     "JSON true/false back as 1/0: booleans are numbers in lists (GET is right)"),
    ("list-row-cache-ticketcount", "TICKET-COUNT",
     "rendered list rows cached by (id, updated_at), but a new ticket bumps ticket_count with an UPDATE that "
     "leaves updated_at alone: a customer listed before keeps its old ticketCount in lists (GET is right)"),
    ("list-timestamps-local-zone", "TIMESTAMP-TRUE-UTC",
     "the list's query runs on a DB session in time_zone '+01:00' (the server's SYSTEM zone) and the serializer "
     "labels that wall time Z: createdAt/updatedAt in lists are an hour in the future (GET is right)"),
)
