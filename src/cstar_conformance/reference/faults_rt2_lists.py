"""Red team, round 2: faults of §3 list: pagination, filters, search, tenant isolation of lists.

Written blind — from docs/contract.md and the reference's code only — by helpers other than round 1's, after
the suite was changed to close round 1's misses. Rows of (name, "RULE-ID,RULE-ID", description).
"""

ROWS: tuple[tuple[str, str, str], ...] = (
    ("past-end-page-404", "LIST-PAST-END",
     "Django REST framework's PageNumberPagination: a page number past the last page (page > 1) raises "
     "NotFound('Invalid page.'), so the list answers 404 instead of 200 with data [] and hasMore false."),
    ("page-offset-int32-wrap", "LIST-PAST-END,LIST-PAGINATION-HONEST,LIST-TOTAL-HASMORE",
     "The offset is computed as a 32-bit int (`int offset = (page - 1) * size`): a huge page number wraps it "
     "negative, SQLite takes a negative OFFSET as 0, and the first page is served as page 1000000000."),
    ("pagesize-zero-unlimited", "LIST-BAD-PARAMS-4XX,LIST-TOTAL-HASMORE,LIST-PAGINATION-HONEST",
     "The query schema says `minimum: 0` for pageSize and the value goes straight to a MongoDB-style "
     "cursor.limit(), where 0 means no limit: pageSize=0 is accepted and answers every match, unpaged."),
    ("last-partial-page-empty", "LIST-WALK-COMPLETE,LIST-TOTAL-HASMORE",
     "The past-the-end guard counts pages with floor division (`pages = total // pageSize`): the last, "
     "partial page (page > 1) comes back empty although hasMore on the page before said there was more."),
    ("filter-lost-on-later-pages", "FILTER-EXACT,LIST-WALK-COMPLETE,LIST-TOTAL-HASMORE",
     "Pages after the first come from a second query builder (a deferred-join deep-page query) into which "
     "the status/sentiment filters, added later, were never wired: page 2 and on ignore them (the count does not)."),
    ("search-regex-unescaped", "SEARCH-NAME-OR-EMAIL,NO-5XX",
     "MongoDB-style `{$regex: term, $options: 'i'}` on the raw term, never re.escape()d: `+` or `.` in a term "
     "(jane+news@…) act as regex operators and miss the customer; `(` or `[` make an invalid regex (500)."),
    ("search-fts-word-prefix", "SEARCH-NAME-OR-EMAIL",
     "Search moved to an SQLite FTS5 index (unicode61 tokenizer) queried as a prefix phrase `\"term\"*`: it "
     "matches the start of words only, so a substring inside a word (`mith` in Smithers) finds nothing."),
    ("list-tags-group-concat-split", "CREATE-ROUNDTRIP",
     "The list aggregates each customer's tags with GROUP_CONCAT(tag, ',') and splits the string on ',' "
     "in the application: a tag that contains a comma comes back as two tags in lists (GET is right)."),
    ("list-customfields-string-sniffed", "CUSTOMFIELDS-TYPES",
     "The list reassembles customFields from an EAV table's text value column with a 'try JSON, else keep "
     "the string' decoder: string values \"12\", \"true\", \"null\" come back as 12, true, null in lists."),
    ("list-notes-excerpt", "CREATE-ROUNDTRIP",
     "The list's summary projection selects `substr(notes, 1, 120)` to keep pages small: notes of 121 to "
     "255 characters come back cut in lists and search results, whole in GET."),
    ("count-rls-previous-tenant", "LIST-TEAM-ONLY,LIST-TOTAL-HASMORE",
     "The list's count relies on PostgreSQL row-level security, but the tenant is set with a session-level "
     "`SET app.team_id` and the count runs on another pooled connection, last set by the previous list request: "
     "right after the other team listed, total counts the other team's customers."),
    ("list-hydrate-by-email", "LIST-TEAM-ONLY,AUTH-CROSS-TEAM,LIST-TOTAL-HASMORE",
     "Two-step pagination keyed by the natural key: the page query selects the emails, and the rows are loaded "
     "with `WHERE email_lower IN (…)`, an address assumed unique — with no team condition: a customer of the "
     "other team with the same email shows up in the list."),
    ("list-email-normalized-column", "EMAIL-ORDINARY",
     "The list's summary projection is served by an index-only scan over (team_id, email_lower, …) and maps "
     "`email` from the normalised column: an address with capitals (Jane.Doe@Example.com) is lower-cased in lists."),
    ("search-total-int8-string", "ENV-LIST,LIST-TOTAL-HASMORE",
     "The search branch counts with hand-written SQL through node-postgres, which returns COUNT(*) (int8) as "
     "a string: pagination.total is \"3\" instead of 3 whenever a search term is given."),
    ("list-count-separate-snapshot", "LIST-TOTAL-HASMORE",
     "count(*) and the page query run as separate autocommit statements (READ COMMITTED, no shared snapshot, "
     "the Django paginator's way), tens of ms apart: a create or delete that commits in between makes total "
     "and the page's items disagree."),
)
