"""Red team, round 1: faults of §2/§3 the customer object: create, get, update (PATCH), validation, email rules.

Written blind — from docs/contract.md and the reference's code only — each naming the rules it breaks and
the real-stack cause it plays. Rows of (name, "RULE-ID,RULE-ID", description); `faults.py` registers them.
"""

ROWS: tuple[tuple[str, str, str], ...] = (
    ("patch-updatedat-local-time", "TIMESTAMP-TRUE-UTC,PATCH-IMMUTABLE-FIELDS,PATCH-UPDATEDAT-MOVES,CUSTOMER-SHAPE",
     "updatedAt of a PATCH is the host's naive local time (an `onupdate=datetime.now` on a host whose clock is "
     "UTC-5) read back as UTC, while create stamps UTC: after a PATCH, updatedAt is 5 h behind, before createdAt"),
    ("customfields-keys-camelized", "CUSTOMFIELDS-KEYS",
     "the response serializer camelizes keys recursively (pyhumps / `deep_transform_keys`) and walks into "
     "customFields too: a key `account_id` or `plan-tier` comes back as `accountId` / `planTier`"),
    ("customfields-keys-ci-collation", "CUSTOMFIELDS-KEYS,PATCH-CUSTOMFIELDS-MERGE",
     "customFields live in an EAV table whose unique (customer, key) index has MySQL's utf8mb4_0900_ai_ci "
     "collation, written by upsert: keys differing only in case or accents collide (`Plan` over `plan` updates "
     "the old row, first spelling kept, last value wins)"),
    ("email-distinct-canonicalized", "EMAIL-DISTINCT-ADDRESSES",
     "the duplicate check compares a 'canonical' address with Gmail's rules applied to every domain (dots and a "
     "+tag of the local part dropped, as validator.js normalizeEmail does): `j.ane@x.com` or `jane+news@x.com` "
     "is refused with 409 when `jane@x.com` exists (create and PATCH)"),
    ("patch-lost-update", "PATCH-NO-LOST-UPDATE",
     "PATCH reads the customer outside its write transaction (a read replica / a session opened before "
     "BEGIN), merges the body into that snapshot and writes every column back (Django `save()` without "
     "update_fields): of two concurrent PATCHes of different fields, the first one's change is lost"),
    ("created-at-rounded-on-store", "GET-EQUALS",
     "the timestamp columns are MySQL DATETIME(0), which rounds to the nearest second, but the create answer "
     "is rendered from the in-memory object: GET shows createdAt/updatedAt (rounded, up to 0.5 s later) "
     "different from what the create returned"),
    ("name-nfkc-normalized", "CREATE-ROUNDTRIP",
     "the name validator applies Unicode NFKC (Django's `normalize_username` copied into the serializer): "
     "decomposed accents and combining marks are composed, ligatures, fullwidth and superscript letters "
     "folded, so such names do not come back as sent (create and PATCH)"),
    ("patch-tags-sync-reorders", "PATCH-TAGS-REPLACE,CREATE-ROUNDTRIP",
     "tags live in a join table that PATCH syncs by diff (keep the rows of tags still present, insert the "
     "new ones after them): a PATCH that keeps an existing tag but moves it returns and stores another order"),
    ("customfields-float32", "CUSTOMFIELDS-TYPES",
     "the EAV table's numeric value column is a single-precision FLOAT: fractions exact in binary32 (1.5) "
     "survive, others come back changed (0.1 → 0.10000000149011612, 19.99 → 19.989999771118164)"),
    ("email-domain-normalized", "EMAIL-ORDINARY",
     "the email validator returns email-validator's `normalized` form instead of the input: the local part "
     "keeps its case but the domain is lowered (`Jane@Mail.Example.COM` → `Jane@mail.example.com`)"),
    ("email-unique-ascii-lower", "EMAIL-UNIQUE-CASE,SEARCH-NAME-OR-EMAIL,SEARCH-CASE-INSENSITIVE",
     "the indexed lower-case copy of the address is SQL `lower()`, which folds ASCII letters only, while the "
     "app lowers in Python: `ÅSA@x.com` and `åsa@x.com` are both accepted, and a search for `åsa` or `ÅSA` "
     "misses the upper-case one"),
    ("patch-answer-stale-updatedat", "PATCH-UPDATEDAT-MOVES,GET-EQUALS",
     "updatedAt is set by a database trigger (`server_onupdate`) and the ORM object is not refreshed "
     "(no RETURNING / eager_defaults): the PATCH answer and its event carry the previous updatedAt, GET the new"),
    ("patch-customfields-mutated-in-place", "GET-EQUALS,PATCH-CUSTOMFIELDS-MERGE,CUSTOMFIELDS-TYPES",
     "the merge is applied to the loaded `custom_fields` dict in place, and the column is SQLAlchemy's plain "
     "JSON type (no MutableDict): the ORM sees no change and leaves the column out of the UPDATE — the PATCH "
     "answer shows the new customFields, GET the old ones"),
    ("tags-string-split", "CREATE-VALIDATION,PATCH-INVALID-NOCHANGE",
     "a hand-written tags validator accepts any `collections.abc.Sequence` and iterates it: a string is a "
     "sequence of characters, so `\"tags\": \"vip\"` is stored as [\"v\", \"i\", \"p\"] instead of being refused"),
    ("patch-json-change-undetected", "PATCH-UPDATEDAT-MOVES,WEBHOOK-EVENTS",
     "the change detector (a row version hash) covers the scalar columns only, the JSON columns were added "
     "later: a PATCH that changes only tags or customFields is stored, but updatedAt stays and no "
     "customer.updated is sent"),
    ("patch-email-check-all-teams", "EMAIL-OTHER-TEAM-OK",
     "the PATCH's friendly pre-check for a taken address queries `email_lower = ?` without the team "
     "condition: changing an address to one used only in another team is refused with 409"),
    ("email-max-64", "EMAIL-ORDINARY",
     "the validator caps the whole address at 64 characters (RFC 5321's limit of the local part taken for the "
     "address's, 254): an ordinary but long address of 65+ characters is refused with 400/422"),
    ("customfields-bigint-double", "CUSTOMFIELDS-TYPES",
     "customFields are stored through a JSON parser that reads every number as an IEEE double (a Node.js "
     "service, JavaScript's JSON.parse): integers beyond 2^53 come back rounded (9007199254740993 → "
     "9007199254740992), smaller ones unchanged"),
)
