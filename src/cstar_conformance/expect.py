"""Assertions the scenario suites share. Each failure message says what the contract wanted and
shows the exchange that broke it (method, URL, status, body)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Collection
from datetime import datetime
from typing import Any

import httpx

VALIDATION = (400, 422)
STATUSES = ("active", "inactive")
SENTIMENTS = ("happy", "neutral", "frustrated", "angry")
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def describe(response: httpx.Response) -> str:
    body = response.text
    if len(body) > 500:
        body = body[:500] + "…"
    return f"{response.request.method} {response.request.url.path} → {response.status_code} {body}"


def _json(response: httpx.Response) -> Any:
    content_type = response.headers.get("content-type", "")
    assert content_type.split(";")[0].strip().lower() == "application/json", (
        f"[CONTENT-TYPE-JSON] expected Content-Type application/json, got {content_type!r}: "
        f"{describe(response)}")
    try:
        return response.json()
    except ValueError:
        raise AssertionError(f"response body is not JSON: {describe(response)}") from None


def success(response: httpx.Response, statuses: Collection[int] = (200,)) -> Any:
    """Assert a success envelope with one of `statuses`; return `data`."""
    assert response.status_code in statuses, f"expected {'/'.join(map(str, statuses))}: {describe(response)}"
    body = _json(response)
    assert isinstance(body, dict) and body.get("success") is True and "data" in body, (
        f"[ENV-SUCCESS] success body must be {{success: true, data}}: {describe(response)}")
    return body["data"]


def listing(response: httpx.Response, rule: str | None = None) -> tuple[list[Any], dict[str, Any]]:
    """Assert a 200 list envelope; return (data, pagination). With `rule`, a failure names it first."""
    if rule is not None:
        try:
            return listing(response)
        except AssertionError as exc:
            raise AssertionError(f"[{rule}] {exc}") from None
    data = success(response)
    body = response.json()
    assert isinstance(data, list), f"[ENV-LIST] list data must be an array: {describe(response)}"
    pagination = body.get("pagination")
    assert isinstance(pagination, dict), f"[ENV-LIST] top-level pagination missing: {describe(response)}"
    for key, kind in (("total", int), ("page", int), ("pageSize", int), ("hasMore", bool)):
        value = pagination.get(key)
        assert isinstance(value, kind) and (kind is bool or not isinstance(value, bool)), (
            f"[ENV-LIST] pagination.{key} must be {kind.__name__}: {describe(response)}")
    return data, pagination


def error(response: httpx.Response, statuses: Collection[int]) -> dict[str, Any]:
    """Assert an error status among `statuses` with the error envelope; return `error`."""
    assert response.status_code in statuses, (
        f"expected {' or '.join(map(str, statuses))}: {describe(response)}")
    body = _json(response)
    err = body.get("error") if isinstance(body, dict) else None
    assert isinstance(body, dict) and body.get("success") is False and isinstance(err, dict), (
        f"[ENV-ERROR] error body must be {{success: false, error: {{code, message}}}}: {describe(response)}")
    assert isinstance(err.get("code"), str) and isinstance(err.get("message"), str), (
        f"[ENV-ERROR] error.code and error.message must be strings: {describe(response)}")
    return err


def no_server_error(response: httpx.Response) -> None:
    assert response.status_code < 500, f"[NO-5XX] a client mistake got a server error: {describe(response)}"


def timestamp(value: Any, name: str) -> datetime:
    assert isinstance(value, str) and RFC3339.match(value), f"{name} is not RFC 3339: {value!r}"
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def customer(c: Any) -> dict[str, Any]:
    """Assert the customer object's shape (CONTRACT §2); return it."""
    assert isinstance(c, dict), f"customer is not an object: {c!r}"
    problems = []
    try:
        uuid.UUID(str(c.get("id")))
    except ValueError:
        problems.append(f"id {c.get('id')!r} is not a UUID")
    if not isinstance(c.get("name"), str) or not c.get("name"):
        problems.append("name must be a non-empty string")
    if not isinstance(c.get("email"), str) or "@" not in c.get("email", ""):
        problems.append("email must be an address")
    if c.get("status") not in STATUSES:
        problems.append(f"status {c.get('status')!r} not in {STATUSES}")
    if c.get("sentiment") not in SENTIMENTS:
        problems.append(f"sentiment {c.get('sentiment')!r} not in {SENTIMENTS}")
    if not isinstance(c.get("tags"), list) or not all(isinstance(t, str) for t in c.get("tags", [])):
        problems.append("tags must be an array of strings")
    if c.get("notes") is not None and not isinstance(c.get("notes"), str):
        problems.append("notes must be a string or null")
    if not isinstance(c.get("customFields"), dict):
        problems.append("customFields must be an object")
    count = c.get("ticketCount")
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        problems.append("ticketCount must be an integer ≥ 0")
    try:
        if timestamp(c.get("updatedAt"), "updatedAt") < timestamp(c.get("createdAt"), "createdAt"):
            problems.append("updatedAt is before createdAt")
    except AssertionError as exc:
        problems.append(str(exc))
    assert not problems, "[CUSTOMER-SHAPE] " + "; ".join(problems) + f" in {c!r}"
    return c


def same_instant(a: Any, b: Any) -> bool:
    """Two RFC 3339 strings name the same instant (Z vs +00:00, fractions differ in form only)."""
    try:
        return timestamp(a, "a") == timestamp(b, "b")
    except AssertionError:
        return a == b


def same_json(a: Any, b: Any) -> bool:
    """Equal as JSON values, type included: 12 is not "12" nor 12.0, true is not 1 (Python's == says
    True == 1 == 1.0)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_json(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_json(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


def json_type(value: Any) -> str:
    """The JSON type a reader sees: string, integer, decimal, boolean, null, array or object."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    return {float: "decimal", str: "string", list: "array", dict: "object", type(None): "null"}.get(
        type(value), type(value).__name__)


def value_diffs(actual: Any, expected: Any, name: str) -> list[str]:
    """Per-key differences of two JSON objects, naming the JSON type where only the type differs."""
    if not (isinstance(actual, dict) and isinstance(expected, dict)):
        return [] if same_json(actual, expected) else [f"{name}: {actual!r} != {expected!r}"]
    diffs = []
    for key in sorted(set(actual) | set(expected)):
        if key not in actual:
            diffs.append(f"{name}.{key} missing (sent {expected[key]!r})")
        elif key not in expected:
            diffs.append(f"{name}.{key} = {actual[key]!r} was never sent")
        elif not same_json(actual[key], expected[key]):
            diffs.append(f"{name}.{key}: sent {expected[key]!r} ({json_type(expected[key])}), got "
                         f"{actual[key]!r} ({json_type(actual[key])})")
    return diffs


def same_customer(actual: dict[str, Any], expected: dict[str, Any], fields: Collection[str] | None = None) -> list[str]:
    """Differences between two customer objects on the contract's fields (timestamps by instant, every
    other value as JSON, type included)."""
    names = fields or ("id", "name", "email", "status", "sentiment", "tags", "notes", "customFields",
                       "ticketCount", "createdAt", "updatedAt")
    diffs = []
    for name in names:
        a, b = actual.get(name), expected.get(name)
        if name in ("createdAt", "updatedAt"):
            if not same_instant(a, b):
                diffs.append(f"{name}: {a!r} != {b!r}")
        elif name == "notes" and a in (None, "") and b in (None, ""):
            continue
        elif not same_json(a, b):
            diffs.append(f"{name}: {a!r} != {b!r}")
    return diffs


MAX_PAGE_SIZE = 100


def page_problems(data: list[Any], pagination: dict[str, Any], *, total: int | None = None,
                  page: int | None = None, page_size: int | None = None) -> list[str]:
    """What is wrong with one list page (CONTRACT §3 List): at most 100 items, `hasMore` and
    `len(data)` consistent with `total`, `page`, `pageSize`; and, when given, the expected values."""
    problems = []
    p, size, count, more = pagination["page"], pagination["pageSize"], pagination["total"], pagination["hasMore"]
    if len(data) > MAX_PAGE_SIZE:
        problems.append(f"{len(data)} items (more than {MAX_PAGE_SIZE})")
    if not 1 <= size <= MAX_PAGE_SIZE:
        problems.append(f"pagination.pageSize {size} is outside 1..{MAX_PAGE_SIZE}")
    if p < 1:
        problems.append(f"pagination.page {p} is below 1")
    if count < 0:
        problems.append(f"pagination.total {count} is negative")
    if size >= 1 and p >= 1:
        want_len = min(size, max(0, count - (p - 1) * size))
        if len(data) != want_len:
            problems.append(f"{len(data)} items but page {p} of size {size} with total {count} holds {want_len}")
        if more != (p * size < count):
            problems.append(f"hasMore {more} but page × pageSize = {p * size} and total = {count}")
    for name, want, got in (("total", total, count), ("page", page, p), ("pageSize", page_size, size)):
        if want is not None and got != want:
            problems.append(f"pagination.{name} {got}, expected {want}")
    return problems


def ids_of(data: list[Any]) -> list[str]:
    """The `id` of every item of a list page, in order."""
    return [str(item.get("id")) if isinstance(item, dict) else repr(item) for item in data]
