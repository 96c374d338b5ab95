"""Red team, round 2: faults of §2/§3 the customer object: create, get, update (PATCH), validation, email rules.

Written blind — from docs/contract.md and the reference's code only — by helpers other than round 1's, after
the suite was changed to close round 1's misses. Rows of (name, "RULE-ID,RULE-ID", description).
"""

ROWS: tuple[tuple[str, str, str], ...] = (
    ("customfields-text-reparsed", "CUSTOMFIELDS-TYPES,CREATE-ROUNDTRIP",
     "customFields kept in an EAV table's text value column: strings written raw, every value read back with "
     "json.loads-or-raw, so a string that reads as JSON comes back typed (\"12\" → 12, \"true\" → true, "
     "\"null\" → null)."),
    ("patch-customfields-dotted-path", "CUSTOMFIELDS-KEYS,PATCH-CUSTOMFIELDS-MERGE",
     "The PATCH merge is sent to the store as MongoDB `$set`/`$unset` of `customFields.<key>`: a key with a dot "
     "is read as a path, so {\"a.b\": 1} lands as {\"a\": {\"b\": 1}} (and null unsets the nested path)."),
    ("patch-strings-stripped", "CREATE-ROUNDTRIP",
     "The update DTO's strings are `constr(strip_whitespace=True)` (the create DTO's are not): leading and trailing "
     "spaces of name, notes and tags set by a PATCH are cut off."),
    ("timestamp-millis-unpadded", "PATCH-IMMUTABLE-FIELDS,CUSTOMER-SHAPE,PATCH-UPDATEDAT-MOVES",
     "The serializer formats the fraction as `${ms}` without padStart(3, '0'): 31 ms is written `.31Z` (310 ms), "
     "so after a create in the first 100 ms of a second, a PATCH later in that second shows updatedAt going "
     "backwards and below createdAt."),
    ("customfields-emptied-as-array", "CUSTOMER-SHAPE",
     "PHP json_encode of the merged custom-field array: a PATCH that leaves customFields empty (null removing the "
     "last key) stores and answers `[]` instead of `{}` from then on."),
    ("customer-id-cast-truncates", "GET-MALFORMED-ID,PATCH-UNKNOWN-404",
     "No id check in the API, the lookup binds CAST(@id AS uniqueidentifier), and SQL Server's conversion ignores "
     "whatever follows the 36th character: `<uuid>junk` finds (and PATCHes, DELETEs) the customer."),
    ("patch-sentiment-unvalidated", "PATCH-INVALID-NOCHANGE,CUSTOMER-SHAPE",
     "The hand-written update DTO declares sentiment a plain string (the create DTO has the enum): PATCH "
     "{\"sentiment\": \"ecstatic\"} is accepted and stored."),
    ("customfields-array-accepted", "CREATE-VALIDATION,PATCH-INVALID-NOCHANGE,CUSTOMER-SHAPE",
     "customFields checked with JavaScript's `typeof value === 'object'`, which an array passes: customFields "
     "[\"a\"] is accepted on create and PATCH and stored and answered as an array."),
    ("patch-customfields-falsy-dropped", "CUSTOMFIELDS-TYPES,PATCH-CUSTOMFIELDS-MERGE",
     "The merge drops the null-valued keys with lodash `_.pickBy(merged)`, whose identity predicate drops every "
     "falsy value: a PATCH naming customFields loses each key whose value is false, 0 or \"\"."),
    ("create-rereads-latest-row", "CREATE-2XX,CREATE-ROUNDTRIP",
     "Django-style autocommitted INSERT, then the new customer fetched back as the team's newest row "
     "(`.latest('id')`, i.e. SELECT MAX(id)) rather than by its own key: two creates at once both answer with "
     "the second one."),
    ("name-invisible-chars-stripped", "CREATE-ROUNDTRIP",
     "An anti-spoofing display-name sanitizer removes every Unicode format character (Cf: ZWJ, ZWNJ, LRM/RLM, "
     "emoji tag characters): ZWJ emoji sequences fall apart and RTL marks vanish from names."),
    ("notes-empty-string-null", "CREATE-ROUNDTRIP",
     "Oracle VARCHAR2 semantics (the empty string IS NULL): notes \"\" sent on create or PATCH is stored and "
     "answered as null."),
    ("create-tags-second-transaction", "CREATE-VALIDATION,REJECTED-CHANGES-NOTHING",
     "The customer row is INSERTed and autocommitted before its tags go to the tag table in a second step with "
     "their own validation: a create whose tags hold a non-string is answered 400 but the customer exists."),
    ("email-unique-prefix-index", "EMAIL-DISTINCT-ADDRESSES,CREATE-2XX",
     "The per-team unique key on the address is a MySQL prefix index, UNIQUE KEY (team_id, email(64)): two "
     "addresses that share their first 64 characters (one local part at two long domains) collide, 409."),
    ("notes-html-escaped", "CREATE-ROUNDTRIP",
     "express-validator's `.escape()` in the notes field's chain (input sanitizing against XSS): notes come back "
     "HTML-escaped (`&` → `&amp;`, `'` → `&#x27;`, `<` → `&lt;`)."),
)
