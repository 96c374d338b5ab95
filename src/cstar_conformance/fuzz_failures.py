"""Schemathesis failures as a reader needs them: the failing check's name, the contract rule it
stands for, the request (as a masked curl line) and the response — not a Python repr that names
every rule the fuzzing test could break."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cstar_conformance.rules import BY_ID

if TYPE_CHECKING:
    from schemathesis import Case
    from schemathesis.core.failures import Failure

    from cstar_conformance.client import Masker

BODY_LIMIT = 600
_BY_CLASS = {
    "ServerError": "NO-5XX", "ContentTypeServerError": "NO-5XX",
    "MissingContentType": "CONTENT-TYPE-JSON", "MalformedMediaType": "CONTENT-TYPE-JSON",
    "UndefinedContentType": "CONTENT-TYPE-JSON",
    "IgnoredAuth": "AUTH-401", "MissingHeaderNotRejected": "AUTH-401",
    "UseAfterFree": "DELETE-GONE", "EnsureResourceAvailability": "GET-EQUALS",
    "UnsupportedMethodResponse": "UNKNOWN-METHOD", "AllowHeaderMismatch": "UNKNOWN-METHOD",
    "RejectedPositiveData": "CREATE-ROUNDTRIP",
}
_NEGATIVE_ACCEPTED = {"POST": "CREATE-VALIDATION", "PATCH": "PATCH-INVALID-NOCHANGE", "GET": "GET-MALFORMED-ID",
                      "DELETE": "GET-MALFORMED-ID"}


def _envelope_rule(method: str, path: str, status: int) -> str:
    if status >= 400:
        return "ENV-ERROR"
    if method == "DELETE":
        return "DELETE-STATUS"
    if method == "GET" and path.endswith("s"):
        return "ENV-LIST"
    return "ENV-SUCCESS"


def rule_of(failure: Failure, case: Case, status: int) -> str | None:
    """The contract rule a Schemathesis failure stands for (None: not one the mapping knows)."""
    name = type(failure).__name__
    method, path = case.operation.method.upper(), case.operation.path
    customers = "/customers" in path
    if name in _BY_CLASS:
        return _BY_CLASS[name]
    if name == "UndefinedStatusCode":
        if status >= 500:
            return "NO-5XX"
        return "CREATE-2XX" if method == "POST" and status < 300 and customers else _envelope_rule(method, path,
                                                                                                    status)
    if name == "AcceptedNegativeData":
        return _NEGATIVE_ACCEPTED.get(method)
    if name in ("MalformedJson", "ContentDeserializationError", "MissingHeaders"):
        return _envelope_rule(method, path, status)
    if name == "JsonSchemaError":
        if status >= 400 or method == "DELETE" or not customers:
            return _envelope_rule(method, path, status)
        where = [str(p) for p in getattr(failure, "instance_path", []) or []]
        keyword = str((list(getattr(failure, "schema_path", []) or []) or ["?"])[-1])
        if where[:1] != ["data"] or (len(where) == 1 and keyword != "required"):
            return _envelope_rule(method, path, status)  # the envelope, or `data` itself of the wrong kind
        if method == "POST" and keyword == "required" and len(where) == 1:
            return "CREATE-2XX"  # create did not answer with the full customer
        return "CUSTOMER-SHAPE"
    return None


def _first_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[0] if lines else ""


def _check_name(failure: Failure) -> str:
    checks = getattr(failure, "checks", ()) or ()
    return checks[0] if checks else type(failure).__name__


def describe(failure: Failure, case: Case, status: int) -> tuple[str | None, str]:
    """(rule id, one line: "[RULE] check: what went wrong")."""
    rule = rule_of(failure, case, status)
    what = failure.title
    detail = _first_line(failure.message or "")
    where = "/".join(str(p) for p in getattr(failure, "instance_path", []) or [])
    if detail and detail != what:
        what += f": {detail}"
    if where:
        what += f" (at /{where})"
    return rule, f"[{rule or '?'}] {_check_name(failure)} — {what}"


def render(failures: list[Failure], case: Case, response: Any, masker: Masker) -> tuple[list[str], str]:
    """(the rules that failed, the text pytest shows): one line per failure, then request and response."""
    status = int(response.status_code)
    operation = f"{case.operation.method.upper()} {case.operation.path.removeprefix('/teams/{teamId}')}"
    described = [describe(failure, case, status) for failure in failures]
    rules = list(dict.fromkeys(rule for rule, _ in described if rule))
    lines = [f"{operation} → {status}: " + "; ".join(line for _, line in described)]
    for rule in rules:
        if rule in BY_ID:
            lines.append(f"  rule {rule} ({BY_ID[rule].level.value}): {BY_ID[rule].title}")
    try:
        curl = case.as_curl_command()
    except Exception:  # noqa: BLE001 - a reproduction is a courtesy; the failure stands without it
        curl = f"{case.operation.method.upper()} {case.formatted_path}"
    content_type = (response.headers.get("content-type") or ["-"])[0] if isinstance(
        response.headers.get("content-type"), list) else response.headers.get("content-type", "-")
    body = (response.content or b"").decode("utf-8", "replace")
    if len(body) > BODY_LIMIT:
        body = body[:BODY_LIMIT] + f"… ({len(body)} chars)"
    lines += ["  request:  " + masker(curl), f"  response: {status} {content_type}", "    " + masker(body or "(empty)")]
    return rules, "\n".join(lines)
