"""Request bodies as the contract judges them: a create or PATCH body a target MUST accept, MAY accept or
refuse, or MUST refuse — and, for what it accepts, the customer values the answer must show."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from cstar_conformance.model.exchange import Exchange
from cstar_conformance.model.values import (
    ORDINARY_ITEMS,
    ORDINARY_LENGTH,
    SENTIMENTS,
    STATUSES,
    Kind,
    email_kind,
    text_kind,
    worst,
)

DEFAULTS: dict[str, Any] = {"status": "active", "sentiment": "neutral", "tags": [], "notes": None, "customFields": {}}
EDITABLE = ("name", "email", "status", "sentiment", "tags", "notes", "customFields")
READ_ONLY = ("id", "ticketCount", "createdAt", "updatedAt")
SAFE_INTEGER = 2**53  # beyond it JSON numbers lose precision in many stacks: a target's choice


@dataclass
class Judged:
    """One body: what the contract makes of it, and why."""

    kind: Kind
    reasons: list[str] = field(default_factory=list)  # why it is INVALID or ODD
    fields: dict[str, Any] = field(default_factory=dict)  # the contract's fields present, as sent
    nulls: list[str] = field(default_factory=list)  # optional fields sent as null
    dropped_custom_keys: list[str] = field(default_factory=list)  # customFields keys sent as null (create)

    def add(self, kind: Kind, reason: str) -> None:
        self.kind = worst(self.kind, kind)
        if kind is not Kind.ORDINARY:
            self.reasons.append(reason)


def _number_kind(value: Any) -> Kind:
    if isinstance(value, bool):
        return Kind.ORDINARY
    if isinstance(value, int):
        return Kind.ORDINARY if abs(value) < SAFE_INTEGER else Kind.ODD
    if isinstance(value, float):
        if not math.isfinite(value) or abs(value) >= SAFE_INTEGER or (value == 0 and math.copysign(1, value) < 0):
            return Kind.ODD  # infinities, huge values and -0 are a stack's choice to keep or refuse
        return Kind.ORDINARY
    return Kind.INVALID


def _custom_fields(judged: Judged, values: Any, *, patch: bool) -> None:
    if not isinstance(values, dict):
        judged.add(Kind.INVALID, f"customFields is {type(values).__name__}, not an object")
        return
    if len(values) > ORDINARY_ITEMS:
        judged.add(Kind.ODD, f"customFields has {len(values)} keys")
    for key, value in values.items():
        key_kind = text_kind(key)
        if key == "" or key_kind is not Kind.ORDINARY:
            judged.add(Kind.ODD, f"customFields key {key!r:.40} is empty, long or has control characters")
        if value is None:
            if not patch:
                judged.add(Kind.ODD, f"customFields.{key} is null on create")
                judged.dropped_custom_keys.append(key)
        elif isinstance(value, str):
            judged.add(text_kind(value), f"customFields.{key} is a long or odd string")
        elif isinstance(value, bool | int | float):
            judged.add(_number_kind(value), f"customFields.{key} = {value!r:.40} is beyond ordinary numbers")
        elif isinstance(value, dict | list):
            judged.add(Kind.ODD, f"customFields.{key} is nested (an {type(value).__name__})")
        else:
            judged.add(Kind.INVALID, f"customFields.{key} has no JSON type")


def _optional(judged: Judged, name: str, value: Any, *, patch: bool) -> None:
    if value is None:
        judged.nulls.append(name)
        judged.add(Kind.ODD, f"{name} is null")
        return
    if name in ("status", "sentiment"):
        allowed = STATUSES if name == "status" else SENTIMENTS
        if value not in allowed:
            judged.add(Kind.INVALID, f"{name} {value!r:.40} is not one of {', '.join(allowed)}")
    elif name == "tags":
        if not isinstance(value, list) or not all(isinstance(tag, str) for tag in value):
            judged.add(Kind.INVALID, "tags is not an array of strings")
            return
        if len(value) > ORDINARY_ITEMS:
            judged.add(Kind.ODD, f"{len(value)} tags")
        for tag in value:
            judged.add(text_kind(tag), f"tag {tag!r:.40} is long or odd")
            if tag == "":
                judged.add(Kind.ODD, "an empty tag")
    elif name == "notes":
        judged.add(text_kind(value), "notes is not a string" if not isinstance(value, str) else "notes is long or odd")
    elif name == "customFields":
        _custom_fields(judged, value, patch=patch)


def judge_body(body: Any, *, patch: bool) -> Judged:
    """A create body (`patch=False`: name and email required) or a PATCH body (every field optional)."""
    judged = Judged(Kind.ORDINARY)
    if not isinstance(body, dict):
        judged.add(Kind.INVALID, "the body is not a JSON object")
        return judged
    for name in ("name", "email"):
        if name not in body:
            if not patch:
                judged.add(Kind.INVALID, f"{name} is missing")
            continue
        value = body[name]
        kind = text_kind(value, name=True) if name == "name" else email_kind(value)
        if isinstance(value, str) and len(value) > ORDINARY_LENGTH and kind is Kind.INVALID:
            kind = Kind.ODD
        judged.add(kind, f"{name} {value!r:.60} is {'not a string' if not isinstance(value, str) else 'not ordinary'}")
    for name in ("status", "sentiment", "tags", "notes", "customFields"):
        if name in body:
            _optional(judged, name, body[name], patch=patch)
    unknown = [key for key in body if key not in EDITABLE]
    if unknown:
        judged.add(Kind.ODD, f"fields beyond the contract's editable ones: {', '.join(map(str, unknown))[:80]}")
    judged.fields = {key: body[key] for key in EDITABLE if key in body}
    return judged


def judge_request(ex: Exchange) -> Judged:
    """The body of a create (POST) or PATCH as sent: a JSON object sent without a JSON Content-Type is
    the target's to read or refuse."""
    judged = judge_body(ex.request_json, patch=ex.method == "PATCH")
    if ex.request_body and not ex.json_typed and judged.kind is Kind.ORDINARY:
        judged.add(Kind.ODD, f"the body was sent as {ex.request_headers.get('content-type') or 'no Content-Type'}")
    return judged


def dedupe(tags: list[Any]) -> list[Any]:
    """Duplicate tags collapsed to their first occurrence (TAGS-DUPLICATES, MAY)."""
    seen: list[Any] = []
    for tag in tags:
        if tag not in seen:
            seen.append(tag)
    return seen


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


def shallow_merge(target: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """Merge per key, a nested value replaced as a whole (CUSTOMFIELDS-NESTED allows it)."""
    result = dict(target)
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = value
    return result
