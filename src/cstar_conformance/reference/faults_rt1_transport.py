"""Red team, round 1: faults of §1 transport, authentication, envelopes, HTTP methods and framing.

Written blind — from docs/contract.md and the reference's code only — each naming the rules it breaks and
the real-stack cause it plays. Rows of (name, "RULE-ID,RULE-ID", description); `faults.py` registers them.
"""

ROWS: tuple[tuple[str, str, str], ...] = (
    # authentication: how the Authorization header is parsed and the key looked up
    ("auth-split-second-word", "AUTH-401,AUTH-EXACT-KEY,NO-5XX",
     "the `authorization.split(' ')[1]` idiom: the scheme is never checked and words after the key are "
     "dropped (`Token <key>`, `Bearer <key> x` are served), a bare `Bearer` or a tab raises IndexError (500)"),
    ("auth-key-bcrypt-72-bytes", "AUTH-EXACT-KEY",
     "keys verified as bcrypt('<team id>:<key>'), and bcrypt reads only the first 72 bytes: the key's last "
     "5 characters and anything appended to it are never compared"),
    ("auth-key-case-insensitive-collation", "AUTH-EXACT-KEY",
     "the api_keys.key column has MySQL's default *_ci collation: `WHERE key = ?` matches a key whose "
     "letter case was changed"),
    ("auth-missing-header-403", "AUTH-401",
     "FastAPI's HTTPBearer(auto_error=True) guards the routes: a request without Authorization, with "
     "another scheme or without credentials gets its 403 'Not authenticated' (an unknown key is still 401)"),
    ("auth-key-hash-ascii-500", "NO-5XX,AUTH-401",
     "keys are looked up by sha256(token.encode('ascii')): a key with a byte outside ASCII raises "
     "UnicodeEncodeError (500) instead of being an unknown key (401)"),
    ("head-skips-auth", "HEAD-AS-GET,AUTH-401,AUTH-CROSS-TEAM",
     "the auth middleware guards a method allowlist (GET, POST, PATCH, DELETE); HEAD, served by the "
     "framework from the GET route, skips it: 200 without a key or on another team's path"),
    ("get-cache-ignores-authorization", "AUTH-CROSS-TEAM,AUTH-401",
     "a reverse-proxy micro-cache of GET answers (10 s, purged on the team's writes) keyed by URL without "
     "`Vary: Authorization`: right after the owner's read, any caller — no key, another team's — gets it"),
    ("webhook-delete-any-team", "AUTH-CROSS-TEAM",
     "the webhook DELETE route loads the row by primary key (session.get); the team condition lives only "
     "in the finder of the read routes: a key deletes another team's webhook by its id (200)"),
    ("pk-registers-webhooks", "PK-READ-ONLY",
     "the webhook-registration route was copy-pasted from the list route with the read dependency: a "
     "publishable key (public, in browser code) registers a webhook (201) and receives every event"),
    # idempotency keys
    ("idempotency-conflict-after-commit", "REJECTED-CHANGES-NOTHING",
     "the idempotency layer compares the body fingerprint only when it stores the answer, after the "
     "handler's transaction committed: a key reused with another body answers 409 but the record exists"),
    ("idempotency-check-outside-lock", "IDEMPOTENCY-KEY",
     "check-then-set without a lock (Redis GET before the handler, SET after it, no SETNX): two POSTs with "
     "one key in flight together both run — two tickets, or a 409 instead of the replayed customer"),
    ("idempotency-replay-text-html", "CONTENT-TYPE-JSON",
     "the idempotency store keeps status and body but not headers; a replay is sent the way Express's "
     "res.send(string) sends it, as text/html"),
    # envelopes and content types
    ("validation-problem-json", "CONTENT-TYPE-JSON",
     "an RFC 9457 problem-details library handles validation errors: their 400/422 answers say "
     "`Content-Type: application/problem+json` (the envelope itself is right)"),
    ("options-framework-metadata", "ENV-SUCCESS",
     "the framework's default OPTIONS handler (Django REST framework's SimpleMetadata) answers an "
     "authenticated OPTIONS with 200 and a bare description of the view, no success/data envelope"),
    ("body-limit-proxy-html-413", "ENV-ERROR",
     "the 1 MB body limit is enforced in front of the app (nginx client_max_body_size): a body announced "
     "larger gets the proxy's own HTML 413 page, not the error envelope"),
    ("pagination-echoes-query-strings", "ENV-LIST",
     "the handler echoes req.query.page / req.query.pageSize (strings, in Express) into pagination: "
     "`\"page\": \"2\"` whenever the client sent the parameter"),
    ("body-charset-lookup-500", "NO-5XX",
     "the body is decoded with the charset the Content-Type names, catching only UnicodeDecodeError: an "
     "unknown charset (`charset=utf8mb4`) raises LookupError (500)"),
    # HTTP methods and framing
    ("method-not-allowed-drops-allow", "UNKNOWN-METHOD",
     "the custom HTTPException handler rebuilds the answer from status and detail and drops exc.headers, "
     "where the router put Allow: a 405 without an Allow header"),
    ("options-served-by-create", "OPTIONS-SAFE",
     "the collection route was declared methods=['POST', 'OPTIONS'] (Flask style, for CORS) and the "
     "handler never looks at the method: OPTIONS is a create — 400 without a body, 201 and a record with one"),
    ("chunked-body-read-as-empty", "HTTP-FRAMING,CREATE-2XX",
     "the body is read as io.LimitReader(r.Body, r.ContentLength), and ContentLength is -1 for a chunked "
     "request: a body sent with Transfer-Encoding: chunked is read as empty (400)"),
    ("content-length-counts-characters", "HTTP-FRAMING,CREATE-ROUNDTRIP",
     "Content-Length set by hand from the serialised string's length in characters, not its UTF-8 bytes: "
     "a success body with non-ASCII text is framed short and the connection breaks mid-answer"),
)
