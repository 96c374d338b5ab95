"""How a customer row is found and how values are stored — the storage-side bugs (mangled characters,
type-losing custom fields) live here, where a real backend's column types and converters would."""

from __future__ import annotations

import json
import struct
import unicodedata
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .context import Reference, parse_json
from .errors import UUID_RE, ApiError, not_found
from .storage import Customer

ID_LENGTH = 36


def parse_customer_id(ref: Reference, raw: str) -> str:
    if ref.faults.on("customer-id-cast-truncates") and UUID_RE.fullmatch(raw[:ID_LENGTH]):
        return raw[:ID_LENGTH].lower()  # the bug: CAST(@id AS uniqueidentifier) ignores what follows the 36th
    if ref.faults.on("malformed-id-500"):
        return str(uuid.UUID(raw))  # the bug: the ValueError of a malformed id escapes (500)
    if not UUID_RE.fullmatch(raw):
        if ref.mode.takes("malformed-id", "400"):  # 404 or 400, never the mode's 422
            raise ApiError(400, "parameter_invalid", "customerId must be a UUID", param="customerId")
        raise not_found("customer", "customerId")
    return raw.lower()


def find_customer(session: Session, team_id: str | None, customer_id: str) -> Customer | None:
    """A live customer by id, in `team_id` (None: any team — only faults ask for that)."""
    query = select(Customer).where(Customer.id == customer_id, Customer.deleted.is_(False))
    if team_id is not None:
        query = query.where(Customer.team_id == team_id)
    return session.scalars(query).first()


def email_key(ref: Reference, email: str) -> str:
    """The lower-case copy of an address that the unique index and search use."""
    if ref.faults.on("email-unique-ascii-lower"):  # SQL lower(): ASCII letters only
        return "".join(ch.lower() if ch.isascii() else ch for ch in email)
    return email.lower()


def canonical_email(address: str) -> str:
    """Gmail's rules, applied to every domain: the local part without dots and without its +tag."""
    local, _, domain = address.rpartition("@")
    return f"{local.split('+', 1)[0].replace('.', '')}@{domain}".lower()


def canonical_email_taken(ref: Reference, session: Session, team_id: str, email: str,
                          own_id: str | None = None) -> bool:
    """The email-distinct-canonicalized fault's duplicate check (never taken without it)."""
    if not ref.faults.on("email-distinct-canonicalized"):
        return False
    domain = email.rpartition("@")[2].lower()
    query = select(Customer.id, Customer.email).where(
        Customer.team_id == team_id, Customer.deleted.is_(False),
        Customer.email_lower.endswith("@" + domain, autoescape=True))
    wanted = canonical_email(email)
    return any(canonical_email(other) == wanted for other_id, other in session.execute(query) if other_id != own_id)


def duplicate_email(ref: Reference) -> ApiError:
    if ref.faults.on("duplicate-email-400"):
        return ApiError(400, "email_taken", "A customer with this email already exists", param="email")
    return ApiError(409, "email_taken", "A customer with this email already exists in this team", param="email")


def default_notes(ref: Reference) -> str | None:
    return "" if ref.mode.takes("notes-default", "empty") else None


def defaults(ref: Reference) -> dict[str, Any]:
    """The editable fields of a customer created with only name and email."""
    return {"status": "active", "sentiment": "happy" if ref.faults.on("create-defaults-wrong") else "neutral",
            "tags": [], "notes": default_notes(ref), "customFields": {}}


VARCHAR_LENGTH = 255  # the column of the long-string-500 fault


class StorageError(Exception):
    """What a database driver raises for a value its column type cannot hold (only under faults)."""


def stored_text(ref: Reference, value: str) -> str:
    """A string as a text column keeps it (faithfully, but for the faults' column types and drivers)."""
    faults = ref.faults
    if faults.on("nul-500") and "\x00" in value:  # PostgreSQL text
        raise StorageError('invalid byte sequence for encoding "UTF8": 0x00')
    if faults.on("long-string-500") and len(value) > VARCHAR_LENGTH:  # MySQL strict mode, no check in the API
        raise StorageError(f"Data too long for column (VARCHAR({VARCHAR_LENGTH}))")
    if faults.on("nul-truncates"):  # a C string in the driver
        value = value.split("\x00", 1)[0]
    if faults.on("emoji-mangled"):  # a utf8mb3 column: no room for characters outside the BMP
        return "".join(ch if ord(ch) <= 0xFFFF else "?" for ch in value)
    return value


def stored_notes(ref: Reference, notes: str | None) -> str | None:
    """`notes` as its nullable text column keeps it."""
    if notes is None:
        return None
    if notes == "" and ref.faults.on("notes-empty-string-null"):  # Oracle VARCHAR2: '' IS NULL
        return None
    return stored_text(ref, notes)


def stored_tags(ref: Reference, tags: list[str]) -> list[str]:
    """`tags` as stored: each as its text column keeps it, repeats collapsed where the mode says so."""
    stored = [stored_text(ref, tag) for tag in tags]
    if ref.mode.takes("tag-duplicates", "collapsed"):
        stored = list(dict.fromkeys(stored))
    return stored


def _read_back_from_text(value: Any) -> Any:
    """What an EAV text value column gives back when read as "JSON if it parses, else the raw text"."""
    if not isinstance(value, str):
        return value  # written as JSON text, read back the same
    try:
        return parse_json(value.encode("utf-8"))  # the bug: the raw string is parsed too
    except ValueError:
        return value


def _as_text(value: Any) -> Any:
    if isinstance(value, str) or value is None:
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


FLOAT32_MAX = 3.4028234663852886e38


def _single_precision(value: Any) -> Any:
    """A float as a single-precision FLOAT column keeps it."""
    if isinstance(value, float) and abs(value) <= FLOAT32_MAX:
        return struct.unpack("<f", struct.pack("<f", value))[0]
    return value


def _as_double(value: Any) -> Any:
    """An integer as an IEEE double holds it (exact up to 2^53), written back without a fraction."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2**53:
        try:
            return int(float(value))
        except OverflowError:  # beyond the double's range: JSON.parse gives Infinity, stored as null
            return None
    return value


def _collation_key(key: str) -> str:
    """How utf8mb4_0900_ai_ci compares keys: letter case and accents ignored."""
    decomposed = unicodedata.normalize("NFKD", key)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def _upserted_by_collation(values: dict[str, Any]) -> dict[str, Any]:
    """Rows upserted one key at a time under a case- and accent-insensitive unique key: the first spelling of
    a key stays, the last value wins."""
    spellings: dict[str, str] = {}
    result: dict[str, Any] = {}
    for key, value in values.items():
        result[spellings.setdefault(_collation_key(key), key)] = value
    return result


SQLITE_INTEGER = range(-(2**63), 2**63)


def _indexed_numbers(values: dict[str, Any]) -> None:
    """The customfield-int64-overflow-500 fault: numeric values also go to an EAV index table's INTEGER column,
    and sqlite3 cannot bind an integer beyond 64 bits."""
    for value in values.values():
        if isinstance(value, int) and not isinstance(value, bool) and value not in SQLITE_INTEGER:
            raise OverflowError("Python int too large to convert to SQLite INTEGER")


ARRAY_FAULTS = ("customfields-array-accepted", "customfields-emptied-as-array")  # a JSON array may be stored


def stored_custom_fields(ref: Reference, values: dict[str, Any]) -> dict[str, Any]:
    """customFields as the store keeps them (faithfully, but for the faults' column types)."""
    if isinstance(values, list) and any(ref.faults.on(name) for name in ARRAY_FAULTS):
        return list(values)  # type: ignore[return-value] - the faults' array, kept as such
    if ref.faults.on("customfield-int64-overflow-500"):
        _indexed_numbers(values)
    if ref.faults.on("customfields-text-reparsed"):  # an EAV table: strings written raw, JSON text otherwise
        values = {key: _read_back_from_text(value) for key, value in values.items()}
    if ref.faults.on("customfields-keys-ci-collation"):  # an EAV table, its key column in a *_ai_ci collation
        values = _upserted_by_collation(values)
    if ref.faults.on("customfields-float32"):  # an EAV table, its numeric value column a FLOAT
        values = {key: _single_precision(value) for key, value in values.items()}
    if ref.faults.on("customfields-bigint-double"):  # through JavaScript's JSON.parse: every number a double
        values = {key: _as_double(value) for key, value in values.items()}
    if ref.faults.on("customfields-stringified"):  # an EAV table with a text value column
        return {key: _as_text(value) for key, value in values.items()}
    if ref.faults.on("customfields-bool-as-int"):  # SQL boolean affinity
        return {key: int(value) if isinstance(value, bool) else value for key, value in values.items()}
    return dict(values)


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396 JSON Merge Patch."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result
