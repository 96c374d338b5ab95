"""The catalogue of hostile inputs: the values real stacks get wrong, by class, for every field, parameter,
header and path of the API. The exploration draws from it for every field it fills, and the catalogue
sweep sends each class once; the contract model judges every answer — never a 5xx, never accepted when
invalid, round-tripped exactly when accepted.

Strings are split by what the contract promises: ORDINARY ones (≤ 255 characters, any printable Unicode,
spaces at either end) MUST be accepted and round-trip; ODD ones (control characters, NUL, lone surrogates,
over 255 characters up to 1 MB) MAY be refused with 400/422/413 and, when accepted, round-trip too."""

from __future__ import annotations

# Strings a target must accept and give back character for character.
ORDINARY_TEXT: tuple[str, ...] = (
    "  leading and trailing spaces  ",
    "Zoë Ørsted-Łukasiewicz",
    "名前 テスト 이름",
    "emoji 🎉🚀👩🏽‍💻 flag 🇺🇦",
    "combining e\u0301 vs é",  # decomposed and composed forms of one letter
    "right-to-left \u200fשלום\u200f עולם",
    "zero\u200bwidth\u2060joiner",
    "quotes ' \" ` and backslash \\ end\\",
    "sql % _ * [a] ^ $ ; -- /* */",
    "<script>alert(1)</script> &amp;",
    "ǅ ß ẞ İ ı ﬁ Σσς",  # letters whose case mapping is not one to one
    "x" * 255,
    "é" * 255,  # 255 characters, 510 bytes
    "🎉" * 63 + "abc",  # characters outside the BMP: 4 bytes, 2 UTF-16 units each
    "0",
    "null",
    "true",
    "12",
)

# Strings a target may refuse (400/422, 413 for size) but, when it accepts them, must give back unchanged.
ODD_TEXT: tuple[str, ...] = (
    "tab\there new\nline\r\nreturn bell\x07 escape \x1b[31m \uffff noncharacter",
    "nul\x00inside",
    "\ud800 lone surrogate",
    "é" * 10_000,
)
HUGE_TEXT = "z" * 1_048_576  # 1 MB: accepted, refused with 400/422, or 413 — never a 5xx

# customFields keys: any string is a legal key (CUSTOMFIELDS-KEYS).
ORDINARY_KEYS: tuple[str, ...] = ("plan", "Plan", "account.id", "account_id", "plan-tier", "accountId", "with space",
                                  "café", "cafe", "ключ", "emoji🔑", "$dollar", "__proto__", "constructor", "UPPER",
                                  "a" * 64)

# customFields values a target must keep, type and all.
ORDINARY_VALUES: tuple[object, ...] = (0, 12, -7, 1.5, 0.1, 19.99, 1e-7, 123456.789, 2**53 - 1, True, False, "",
                                       "12", "true")
# Numbers a stack may refuse or keep (past 2^53 JSON numbers lose precision in many stacks; -0; 1e308).
ODD_VALUES: tuple[object, ...] = (2**53 + 1, 2**63, -(2**63) - 1, 2**64, -0.0, 1e308, None)
NESTED_VALUES: tuple[object, ...] = ([1, "a"], {"k": {"deep": True}}, [])

# Addresses: ordinary ones (MUST accept, keep letter case), and ones a validator may take either way.
ORDINARY_EMAIL_SHAPES: tuple[str, ...] = ("{u}@conformance.example", "{u}+tag@conformance.example",
                                          "first.{u}@mail.conformance.example", "{U}@Conformance.Example",
                                          "{u}_x-y@sub.domain.conformance.example")
ODD_EMAIL_SHAPES: tuple[str, ...] = ('"quoted {u}"@conformance.example', "{u}@[127.0.0.1]", "{u}@localhost",
                                     "{u}!#$%&'*/=?^`{{|}}~@conformance.example", "ünï{u}@conformance.example",
                                     "{u}@xn--bcher-kva.example")
INVALID_EMAIL_SHAPES: tuple[str, ...] = ("{u}", "{u}@", "@conformance.example", "{u}@@conformance.example",
                                         "{u} space@conformance.example", "{u}@conformance..example",
                                         "{u}@.conformance.example")

# Content types a JSON body may be sent with: each is read as JSON, or refused with a 4xx — never a 5xx.
JSON_CONTENT_TYPES: tuple[str, ...] = ("application/json; charset=utf8mb4",)

# Where integers go: what may be refused (SHOULD 400/422) but never gives a 5xx or a dishonest page.
PAGE_VALUES: tuple[str, ...] = ("0", "-1", "-0", "1.5", "1e2", "01", "+1", " 1", "99999999999999999999",
                                "9223372036854775808", "NaN", "", "%00", "１")

# Wrong-typed body values for every field (a target MUST refuse them, 400/422).
WRONG_TYPES: tuple[object, ...] = (123, 1.5, True, [], {}, ["x"])

# Methods on each path: the contract defines some; HEAD answers as GET, OPTIONS never fails.
METHODS: tuple[str, ...] = ("PUT", "TRACE", "HEAD", "OPTIONS", "POST", "PATCH", "DELETE", "GET")
# Never sent to a collection: on a target that wrongly serves it as a bulk delete, it would delete every customer
# of the team on a shared staging. (The red team's `collection-delete-bulk` is therefore not probed, by design.)
NEVER_ON_COLLECTION: tuple[str, ...] = ("DELETE",)

# Query-string tricks: repeated, empty and array-style parameters, encoded plus and NUL.
QUERY_PACKS: tuple[str, ...] = (  # the tricks packed: a request that trips any of them trips
    "search=a&search=b&status=active&status=inactive&page=1&page=2",
    "search=%2B&sentiment=&status[]=active&pageSize=",  # a NUL in a search: test_filters_and_search's odd bytes
)
QUERY_TRICKS: tuple[str, ...] = ("status=active&status=inactive", "status=", "sentiment=", "status[]=active",
                                 "search=%2B", "search=+", "search=%00", "search=%25", "search=_", "search=%5C",
                                 "page=1&page=2", "pageSize=", "pageSize=1&pageSize=100", "search=%FF")

# Ids in the path that are no customer's.
BAD_IDS: tuple[str, ...] = ("not-a-uuid", "00000000-0000-0000-0000-000000000000", "%00", "..%2F..%2Fcustomers",
                            "{00000000-0000-4000-8000-000000000000}", "00000000000040008000000000000000",
                            "' OR '1'='1", "9" * 40, "not a uuid", "x" * 300)


def near_misses(key: str) -> tuple[str, ...]:
    """Credentials that are almost right: the key extended, changed at its end, in other letter case, with a byte
    outside ASCII, with a LIKE wildcard for its tail, as Basic credentials, without a scheme (each → 401)."""
    import base64

    recased = key.upper() if key.upper() != key else key.lower()
    basic = base64.b64encode(f"{key}:".encode()).decode()
    changed = key[:-1] + ("y" if key.endswith("x") else "x")  # never the key itself
    return (f"Bearer {changed}", f"Bearer {recased}", f"Bearer {key}é", f"Bearer {key[:12]}%", f"Basic {basic}",
            f"Bearer {key}x", f"Bearer {key} extra", key, "Bearer", f"Bearer{key}", "Bearer %")


def accepted_spellings(key: str) -> tuple[str, ...]:
    """Spellings of a valid credential the contract says work: any letter case of the scheme, then spaces
    or tabs."""
    return (f"bearer {key}", f"BEARER {key}", f"Bearer\t{key}", f"Bearer   {key}")
