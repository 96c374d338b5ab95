"""Schemathesis failures as a reader needs them: the failing check's name, the contract rule it
stands for, the request (as a masked curl line) and the response — not a Python repr that names
every rule the fuzzing test could break."""

from __future__ import annotations

from collections import OrderedDict
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


def _where(failure: Failure) -> str:
    path = "/".join(str(p) for p in getattr(failure, "instance_path", []) or [])
    return f"/{path}" if path else ""


def describe(failures: list[Failure], case: Case, status: int) -> tuple[str | None, str]:
    """(rule id, one line: "[RULE] check — what went wrong (at where)") for failures of one kind."""
    failure = failures[0]
    rule = rule_of(failure, case, status)
    what = failure.title
    detail = _first_line(failure.message or "")
    if detail and detail != what:
        what += f": {detail}"
    where = list(dict.fromkeys(w for w in map(_where, failures) if w))
    if where:
        what += f" (at {', '.join(where)})"
    return rule, f"[{rule or '?'}] {_check_name(failure)} — {what}"


# The last cases Schemathesis sent (generated cases and the probes its checks send themselves), by case
# id, so that a failure — which names only its case id — can be shown with its request and response.
SENT: OrderedDict[str, tuple[Case, Any]] = OrderedDict()
SENT_LIMIT = 500


def remember(case: Case, response: Any) -> None:
    SENT[case.id] = (case, response)
    SENT.move_to_end(case.id)
    while len(SENT) > SENT_LIMIT:
        SENT.popitem(last=False)


def failures_in(error: BaseException) -> list[Failure]:
    """The Schemathesis failures an exception carries, however grouped (Schemathesis, Hypothesis)."""
    from schemathesis.core.failures import Failure

    if isinstance(error, Failure):
        return [error]
    if isinstance(error, BaseExceptionGroup):
        return [failure for inner in error.exceptions for failure in failures_in(inner)]
    return []


def validate(case: Case, response: Any, validator: Any) -> None:
    """Run Schemathesis' checks (`validator(response, case)`); a failure raised carries this case's id,
    which pytest-mode failures lack, so the report can show its request and response."""
    from schemathesis.core.failures import Failure, FailureGroup

    try:
        validator(response, case)
    except (Failure, FailureGroup) as error:
        for failure in failures_in(error):
            if failure.case_id is None:
                failure.case_id = case.id
        raise


def _exchange(case: Case, response: Any, masker: Masker) -> list[str]:
    status = int(response.status_code)
    try:
        curl = case.as_curl_command()
    except Exception:  # noqa: BLE001 - a reproduction is a courtesy; the failure stands without it
        curl = f"{case.operation.method.upper()} {case.formatted_path}"
    content_type = response.headers.get("content-type", ["-"])
    content_type = content_type[0] if isinstance(content_type, list) and content_type else content_type
    body = (response.content or b"").decode("utf-8", "replace")
    if len(body) > BODY_LIMIT:
        body = body[:BODY_LIMIT] + f"… ({len(body)} chars)"
    return ["  request:  " + masker(curl), f"  response: {status} {content_type}", "    " + masker(body or "(empty)")]


def render(failures: list[Failure], masker: Masker) -> tuple[list[str], str]:
    """(the rules that failed, the text a reader gets): per kind of failure its check, rule, request
    and response."""
    kinds: OrderedDict[tuple[str, str, str], list[Failure]] = OrderedDict()
    for failure in failures:
        kinds.setdefault((failure.case_id or "", type(failure).__name__, failure.title), []).append(failure)
    heads: list[str] = []
    blocks: list[str] = []
    rules: list[str] = []
    shown: set[str] = set()
    for (case_id, _, _), group in kinds.items():
        case, response = SENT.get(case_id, (None, None))
        if case is None:
            line = f"[?] {_check_name(group[0])} — {group[0].title}: {_first_line(group[0].message or '')}"
            heads.append(line)
            blocks.append(line)
            continue
        status = int(response.status_code)
        rule, line = describe(group, case, status)
        operation = f"{case.operation.method.upper()} {case.operation.path.removeprefix('/teams/{teamId}')}"
        line = f"{line} — {operation} → {status}"
        heads.append(line)
        block = [line]
        if rule:
            rules.append(rule)
            if rule in BY_ID:
                block.append(f"  rule {rule} ({BY_ID[rule].level.value}): {BY_ID[rule].title}")
        if case_id not in shown:
            shown.add(case_id)
            block += _exchange(case, response, masker)
        blocks.append("\n".join(block))
    rules = list(dict.fromkeys(rules))
    if len(blocks) == 1:
        return rules, blocks[0]
    return rules, "\n".join([f"{heads[0]} (and {len(heads) - 1} more)", "", *blocks])
