"""JSON values as the contract reads them: exact equality (type included), instants, the customer's
shape, and how ordinary a string or an address is (what a target MUST accept, what it MAY refuse, what
it MUST refuse). Pure functions of plain values."""

from __future__ import annotations

import re
import unicodedata
import uuid
from datetime import datetime
from enum import Enum
from typing import Any

STATUSES = ("active", "inactive")
SENTIMENTS = ("happy", "neutral", "frustrated", "angry")
CUSTOMER_FIELDS = ("id", "name", "email", "status", "sentiment", "tags", "notes", "customFields", "ticketCount",
                   "createdAt", "updatedAt")
ORDINARY_LENGTH = 255  # strings up to this many characters MUST be accepted and round-trip
ORDINARY_ITEMS = 20  # tags and custom fields up to this many MUST be accepted (beyond: the target's limit)
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
_ATOM = r"[A-Za-z0-9_+\-]+"
ORDINARY_LOCAL = re.compile(rf"^{_ATOM}(\.{_ATOM})*$")
ORDINARY_DOMAIN = re.compile(r"^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$")


def same_json(a: Any, b: Any) -> bool:
    """Equal as JSON values, type included: 12 is not "12" nor 12.0, true is not 1, key order aside."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_json(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_json(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


def json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    return {float: "number", str: "string", list: "array", dict: "object", type(None): "null"}.get(
        type(value), type(value).__name__)


def instant(value: Any) -> datetime | None:
    """The instant an RFC 3339 string with a zone names, or None (no string, no zone, not RFC 3339)."""
    if not isinstance(value, str) or not RFC3339.match(value):
        return None
    try:
        return datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError:
        return None


def seconds(value: Any) -> float | None:
    moment = instant(value)
    return None if moment is None else moment.timestamp()


def same_instant(a: Any, b: Any) -> bool:
    first, second = instant(a), instant(b)
    return first == second if first is not None and second is not None else a == b


def is_uuid(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return len(value) == 36


def shape_problems(c: Any) -> list[str]:
    """What makes `c` no customer of the contract (§2), or [] (extra fields are legal)."""
    if not isinstance(c, dict):
        return [f"a customer must be an object, got {json_type(c)}"]
    problems = []
    if not is_uuid(c.get("id")):
        problems.append(f"id {c.get('id')!r} is not a UUID")
    if not isinstance(c.get("name"), str) or not c.get("name"):
        problems.append(f"name {c.get('name')!r} is not a non-empty string")
    if not isinstance(c.get("email"), str) or "@" not in c.get("email", ""):
        problems.append(f"email {c.get('email')!r} is not an address")
    if c.get("status") not in STATUSES:
        problems.append(f"status {c.get('status')!r} is not one of {', '.join(STATUSES)}")
    if c.get("sentiment") not in SENTIMENTS:
        problems.append(f"sentiment {c.get('sentiment')!r} is not one of {', '.join(SENTIMENTS)}")
    tags = c.get("tags")
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        problems.append(f"tags {tags!r} is not an array of strings")
    if "notes" not in c or (c["notes"] is not None and not isinstance(c["notes"], str)):
        problems.append(f"notes {c.get('notes', '(missing)')!r} is not a string or null")
    if not isinstance(c.get("customFields"), dict):
        problems.append(f"customFields {c.get('customFields')!r} is not an object")
    count = c.get("ticketCount")
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        problems.append(f"ticketCount {count!r} is not an integer ≥ 0")
    created, updated = instant(c.get("createdAt")), instant(c.get("updatedAt"))
    if created is None:
        problems.append(f"createdAt {c.get('createdAt')!r} is not an RFC 3339 date-time with a zone")
    if updated is None:
        problems.append(f"updatedAt {c.get('updatedAt')!r} is not an RFC 3339 date-time with a zone")
    if created is not None and updated is not None and updated < created:
        problems.append(f"updatedAt {c['updatedAt']} is before createdAt {c['createdAt']}")
    return problems


class Kind(Enum):
    """What the contract says of one input value: a target MUST accept it, MAY accept or refuse it, or
    MUST refuse it (400/422)."""

    ORDINARY = "ordinary"
    ODD = "odd"
    INVALID = "invalid"


def worst(*kinds: Kind) -> Kind:
    if Kind.INVALID in kinds:
        return Kind.INVALID
    return Kind.ODD if Kind.ODD in kinds else Kind.ORDINARY


def _odd_characters(text: str) -> bool:
    """Control characters (NUL included), lone surrogates, noncharacters: legal to refuse."""
    for ch in text:
        category = unicodedata.category(ch)
        if category in ("Cc", "Cs", "Cn") and ch not in " ":
            return True
    return False


def text_kind(value: Any, *, name: bool = False) -> Kind:
    """A name, note, tag or custom-field string."""
    if not isinstance(value, str):
        return Kind.INVALID
    if name and value == "":
        return Kind.INVALID
    if len(value) > ORDINARY_LENGTH or _odd_characters(value) or (name and not value.strip()):
        return Kind.ODD
    return Kind.ORDINARY


def email_kind(value: Any) -> Kind:
    """ORDINARY: a dot-atom local part of letters, digits, `_+-` and dots, and a domain of labels with an
    alphabetic top level — what every validator accepts. INVALID: what no address is. ODD: the rest (quoted
    local parts, other symbols, IP literals, Unicode, single-label domains: a validator's choice)."""
    if not isinstance(value, str):
        return Kind.INVALID
    local, at, domain = value.rpartition("@")
    if not at or not local or not domain or any(ch.isspace() for ch in value) or _odd_characters(value):
        return Kind.INVALID
    if "@" in local and not (local.startswith('"') and local.endswith('"')):
        return Kind.INVALID
    if domain.startswith(".") or domain.endswith(".") or ".." in domain:
        return Kind.INVALID
    if (ORDINARY_LOCAL.match(local) and len(local) <= 64 and ORDINARY_DOMAIN.match(domain)
            and len(value) <= 254):
        return Kind.ORDINARY
    return Kind.ODD


def folded(text: str) -> str:
    """The loosest reading a case-insensitive search may take: compatibility-normalised, case-folded, accents
    dropped (a collation such as MySQL's *_unicode_ci compares that way)."""
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text).casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


class Match(Enum):
    MUST = "must"  # the term is a substring as sent
    MAY = "may"  # a substring only when letter case (or Unicode normalisation) is ignored
    NOT = "not"


def search_match(term: str, *fields: Any) -> Match:
    texts = [f for f in fields if isinstance(f, str)]
    if any(term in text for text in texts):
        return Match.MUST
    loose = folded(term).strip()
    if any(loose in folded(text) for text in texts) or any(
            term.lower() in text.lower() or term.upper() in text.upper() for text in texts):
        return Match.MAY
    return Match.NOT
