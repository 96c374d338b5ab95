"""Red team, round 2: faults of §1 transport, authentication, envelopes, HTTP methods and framing.

Written blind — from docs/contract.md and the reference's code only — by helpers other than round 1's, after
the suite was changed to close round 1's misses. Rows of (name, "RULE-ID,RULE-ID", description).
"""

ROWS: tuple[tuple[str, str, str], ...] = (
    ("auth-key-sql-like", "AUTH-EXACT-KEY,AUTH-401",
     "The key store is queried through the generic filter helper, `WHERE key LIKE :token` (PostgreSQL, no "
     "ESCAPE): `%` and `_` in the presented key are wildcards, so `Bearer %` or `sk_test_%` is a valid key."),
    ("auth-connection-cached", "AUTH-401,AUTH-CROSS-TEAM,PK-READ-ONLY",
     "The identity is cached per keep-alive connection (state keyed by the ASGI `client` address, NTLM-style): "
     "later requests on that connection are served as the first one's key, whatever key (or none) they carry."),
    ("gateway-bearer-case-sensitive", "ENV-ERROR,AUTH-EXACT-KEY",
     "An API-gateway authorizer in front checks `header.startswith('Bearer ')` and answers anything else itself, "
     "AWS-style `401 {\"message\":\"Unauthorized\"}`: no error envelope, and `bearer KEY` or `Bearer<TAB>KEY` "
     "with a valid key is refused."),
    ("auth-basic-key-accepted", "AUTH-401",
     "Stripe-compatibility shim: `Authorization: Basic base64(<key>:)` is accepted as that key, so a header that "
     "is not `Bearer <key>` authenticates instead of being answered 401."),
    ("auth-team-from-raw-uri", "AUTH-CROSS-TEAM",
     "The team check reads the team from the original request URI (`$request_uri`/X-Original-URI) while the "
     "proxy routes the dot-segment-normalised path: `/teams/A/%2e%2e/B/customers` with A's key reads team B."),
    ("idempotency-replay-before-auth", "AUTH-401,AUTH-CROSS-TEAM,PK-READ-ONLY",
     "The idempotency middleware sits before authentication in the chain: a POST repeating a stored "
     "Idempotency-Key and body gets the stored 201 back with no key, an unknown key, another team's or a pk key."),
    ("idempotency-replay-200", "IDEMPOTENCY-KEY,CREATE-201",
     "The replay is rebuilt from the stored body only (the status column was never written, Django "
     "`JsonResponse(cached)`): a repeated create gets 200 where the first answer was 201."),
    ("pk-noop-patch-allowed", "PK-READ-ONLY",
     "The handler diffs the PATCH first and checks the key's write permission only when there is something to "
     "write: a publishable key's PATCH that changes nothing ({} or the same values) is answered 200."),
    ("validation-message-array", "ENV-ERROR",
     "Error mapper ported from a NestJS ValidationPipe: with several problems in one request `error.message` is "
     "the array of every message instead of a string (one problem: a string)."),
    ("empty-list-data-omitted", "ENV-SUCCESS,LIST-PAST-END",
     "Go envelope struct `Data any `json:\"data,omitempty\"``: an empty page (past the end, a filter matching "
     "nothing, no webhooks yet) is answered without its `data` member."),
    ("webhook-list-hasmore-int", "ENV-LIST",
     "The webhook list computes `hasMore` in SQL (`SELECT count(*) > :end`), and SQLite hands back 0/1: "
     "`pagination.hasMore` is an integer, not a boolean, on that list."),
    ("body-first-chunk-only", "HTTP-FRAMING,CREATE-2XX",
     "An audit middleware reads the request body to log it and replays it to the app, but reads only the first "
     "`http.request` message (ignores `more_body`): a chunked body of several chunks is cut to its first chunk."),
    ("search-repeated-param-500", "NO-5XX",
     "Express-style query parsing: a repeated `search` parameter arrives as an array, and the handler's "
     "`search.toLowerCase()` (here `.lower()`) raises: `?search=a&search=b` is a 500."),
    ("customfield-int64-overflow-500", "NO-5XX",
     "Numeric custom fields are also written to an EAV index table's INTEGER column: an integer beyond 64 bits "
     "raises sqlite3's OverflowError (\"Python int too large to convert to SQLite INTEGER\"), a 500."),
    ("cors-preflight-500", "OPTIONS-SAFE,NO-5XX",
     "A hand-written CORS middleware answers OPTIONS with an Origin header as a preflight and calls "
     "`.upper()` on Access-Control-Request-Method: an OPTIONS with Origin but without that header is a 500."),
    ("head-item-405", "HEAD-AS-GET",
     "FastAPI's `@get` serves no HEAD; HEAD was added by hand (`@head`) on the collection routes the uptime "
     "monitor probes only: HEAD of a customer (ticket, webhook) is 405 (or 404) where GET is 200."),
    ("rate-limit-after-handler", "REJECTED-CHANGES-NOTHING",
     "The rate limiter is an after-request hook that counts on the way out and swaps the answer for a 429: "
     "a write over the limit has already been committed (and its event sent) when it is answered 429."),
    ("webhook-validated-after-save", "REJECTED-CHANGES-NOTHING",
     "Django-style `Webhook.objects.create(...)` (autocommit) then `full_clean()`: a registration whose URL is "
     "not http(s) is answered 400/422, but the webhook is saved and listed."),
    ("collection-delete-bulk", "UNKNOWN-METHOD",
     "A bulk-destroy action generated on the collection route (`DELETE /customers`, Rails/DRF router): "
     "answered 200 and deletes every customer of the team, where the contract defines no such method."),
    ("get-cache-key-too-long-500", "NO-5XX,GET-MALFORMED-ID",
     "A memcached read-through cache is asked before the id is validated, keyed `customer:<team>:<raw id>`: a "
     "key over 250 bytes or with spaces raises pymemcache's MemcacheIllegalInputError, a 500."),
    ("delete-answer-untyped", "CONTENT-TYPE-JSON",
     "The ticket and webhook routers' delete helper returns `Response(json.dumps(...))` (Starlette's base "
     "Response): the JSON body of those DELETE answers carries no Content-Type."),
)
