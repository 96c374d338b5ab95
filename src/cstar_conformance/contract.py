"""Schemathesis configuration for the contract: the spec, the target, the volume per profile,
and which checks apply where — so that no MAY alternative of the contract (docs/contract.md) is ever flagged."""

from __future__ import annotations

import hashlib
import itertools
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cstar_conformance import fuzz_failures, specfile
from cstar_conformance.exits import EXIT_SPEC, StopRun
from cstar_conformance.factory import EMAIL_DOMAIN
from cstar_conformance.traffic import retry_hint

if TYPE_CHECKING:
    from schemathesis import Case
    from schemathesis.config import SchemathesisConfig
    from schemathesis.schemas import BaseSchema

    from cstar_conformance.keywords import Keywords
    from cstar_conformance.session import Session

SPEC_PATH = Path(__file__).resolve().parents[2] / "openapi" / "customers.yaml"

# Volume per profile: Hypothesis examples per operation, whether the coverage phase runs (it enumerates
# every boundary of every parameter: hundreds of requests that the scenario suites spend better), whether
# the Tickets subset and DELETE of random ids are fuzzed. Sequences of operations are the model-based
# exploration's (suites/exploration, exploration.BUDGETS), judged by the contract model, which replaced
# Schemathesis' link-following stateful walks. Every profile fits the documented 1,000 requests per hour per
# key (measured against the embedded reference: see README; --max-requests stops a run that would not fit).
# `auth`: whether Schemathesis' ignored_auth check sends its own requests without and with a wrong key for every
# case (two per operation): the scenario suite's key matrix sends every kind of wrong key to every operation and
# the contract model judges AUTH-401 on every answer, so the smoke and the gate leave those requests out.
PROFILES: dict[str, dict[str, int]] = {
    "smoke": {"max_examples": 2, "coverage": 0, "tickets": 0, "delete": 0, "auth": 0},
    "gate": {"max_examples": 2, "coverage": 0, "tickets": 0, "delete": 0, "auth": 0},
    "thorough": {"max_examples": 12, "coverage": 0, "tickets": 1, "delete": 1, "auth": 1},
}

# Checks that would turn a MAY (or a SHOULD) of the contract into a failure:
# - positive_data_acceptance: a conformant server may reject long strings, whitespace names,
#   null optionals, unknown fields and pageSize > 100 with 400/422 (all MAY);
# - unsupported_method: 404 for an undefined method is as legal as 405 (the scenario suite checks
#   the rule itself, on a record of its own, and fuzzing sends no undocumented methods).
EXCLUDED_CHECKS = ["positive_data_acceptance", "unsupported_method"]
# negative_data_rejection on list and tickets: an invalid filter may legally give an empty 200, and
# non-integer page values are only a SHOULD (the scenario suite grades them).
NO_NEGATIVE_REJECTION = ["listCustomers", "listTickets", "createTicket", "getTicket", "deleteTicket"]
# Webhook registration is never fuzzed: random receiver URLs would make the target call out.
NOT_FUZZED_TAGS = ["webhooks"]


def config_for(session: Session | None, anchor_id: str | None = None) -> SchemathesisConfig:
    """`anchor_id`: a real customer of the run that get/update fuzzing targets, so generated PATCH
    bodies reach validation and the update logic instead of a 404 for a random id."""
    profile = PROFILES[session.profile if session else "gate"]
    not_fuzzed = NOT_FUZZED_TAGS + ([] if profile["tickets"] else ["tickets"])
    operations: list[dict[str, Any]] = [
        {"include-operation-id": op, "checks": {"negative_data_rejection": {"enabled": False}}}
        for op in NO_NEGATIVE_REJECTION
    ] + [{"include-tag": tag, "enabled": False} for tag in not_fuzzed]
    if not profile["delete"]:  # deletes of random ids answer 404; the scenarios and the exploration delete for real
        operations.append({"include-operation-id": "deleteCustomer", "enabled": False})
    if anchor_id:
        operations += [{"include-operation-id": op, "parameters": {"customerId": anchor_id}}
                       for op in ("getCustomer", "updateCustomer")]
    data: dict[str, Any] = {
        "seed": session.seed if session else None,
        "generation": {"max-examples": profile["max_examples"], "deterministic": False},
        "phases": {
            "coverage": {"enabled": bool(profile["coverage"]), "unexpected-methods": []},
        },
        "checks": {name: {"enabled": False}
                   for name in EXCLUDED_CHECKS + ([] if profile["auth"] else ["ignored_auth"])},
        "operations": operations,
        "output": {"sanitization": {"enabled": True}},
    }
    if data["seed"] is None:
        del data["seed"]
    if session is not None:
        data["base-url"] = session.target.base_url
        data["headers"] = {"Authorization": f"Bearer {session.target.team.api_key}"}
        data["parameters"] = {"teamId": session.target.team.id}
        data["request-timeout"] = 15
        data["tls-verify"] = session.target.trust.verify()  # the run's one trust setting (network.py)
    from schemathesis.config import SchemathesisConfig

    return SchemathesisConfig.from_dict(data)


# The operations the suites and the fuzzing configuration name: a spec without them is not this API's.
REQUIRED_OPERATIONS = (("get", "/teams/{teamId}/customers"), ("post", "/teams/{teamId}/customers"),
                       ("get", "/teams/{teamId}/customers/{customerId}"),
                       ("patch", "/teams/{teamId}/customers/{customerId}"),
                       ("delete", "/teams/{teamId}/customers/{customerId}"))


def _validation_stamp(text: str) -> Path:
    """Where the validation of this exact spec text, by this validator version, is remembered: the user's
    cache folder (validating takes ~1 s, paid by every run otherwise)."""
    from importlib.metadata import version

    key = hashlib.sha256(f"{version('openapi-spec-validator')}\n{text}".encode()).hexdigest()
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "cstar-conformance" / "valid-specs"
    return cache / key


def _validated_before(text: str) -> bool:
    try:
        return _validation_stamp(text).exists()
    except OSError:
        return False


def _remember_valid(text: str) -> None:
    stamp = _validation_stamp(text)
    try:
        stamp.parent.mkdir(parents=True, exist_ok=True)
        stamp.touch()
    except OSError:
        pass  # a read-only home only costs the next run the validation


def check_spec(path: Path) -> None:
    """Anything that is not an OpenAPI 3.1 document of this API ends the run before any request, with
    one line: an unreadable or binary file, YAML that is not a mapping, Swagger 2.0, OpenAPI 3.0, a
    document that fails validation, or one without the customer operations."""
    import yaml

    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise StopRun(f"cannot read the spec {path}: {exc.strerror or exc}", EXIT_SPEC) from None
    except UnicodeDecodeError:
        raise StopRun(f"the spec {path} is not a text file (its bytes are not UTF-8)", EXIT_SPEC) from None
    if "\x00" in text:
        raise StopRun(f"the spec {path} is not a text file (it holds NUL bytes)", EXIT_SPEC)
    try:
        document = specfile.parse(text)
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        at = f" at line {where.line + 1}" if where else ""
        raise StopRun(f"the spec {path} is not valid YAML{at}", EXIT_SPEC) from None
    except RecursionError:
        raise StopRun(f"the spec {path} is not valid YAML (nested too deeply)", EXIT_SPEC) from None
    if not isinstance(document, dict):
        raise StopRun(f"the spec {path} is not an OpenAPI document (its top level is not a mapping)", EXIT_SPEC)
    if "swagger" in document:
        raise StopRun(f"the spec {path} is Swagger {document['swagger']}: the suite needs OpenAPI 3.1", EXIT_SPEC)
    version = document.get("openapi")
    if version is None:
        raise StopRun(f"the spec {path} has no 'openapi' field: it is not an OpenAPI document", EXIT_SPEC)
    if not re.fullmatch(r"3\.1(\.\d+)?", str(version)):
        raise StopRun(f"the spec {path} is OpenAPI {version}: the suite needs OpenAPI 3.1", EXIT_SPEC)
    try:
        if not _validated_before(text):
            from openapi_spec_validator import validate

            validate(document)
            _remember_valid(text)
    except Exception as exc:  # noqa: BLE001 - the validator raises several kinds; each means "not valid"
        path_in_doc = "/".join(str(p) for p in getattr(exc, "path", []) or [])
        reason = (str(getattr(exc, "message", "") or exc).splitlines() or [type(exc).__name__])[0][:200]
        raise StopRun(f"the spec {path} is not valid OpenAPI 3.1: {reason} (at /{path_in_doc})", EXIT_SPEC) from None
    paths = document.get("paths") or {}
    missing = [f"{method.upper()} {route}" for method, route in REQUIRED_OPERATIONS
               if not isinstance(paths.get(route), dict) or method not in paths[route]]
    if missing:
        raise StopRun(f"the spec {path} does not describe the Customers API: it lacks {', '.join(missing)}",
                      EXIT_SPEC)


def load(session: Session | None) -> BaseSchema:
    anchor = create_anchor(session) if session is not None else None
    spec = session.spec_path if session is not None else SPEC_PATH
    import schemathesis

    schema = schemathesis.openapi.from_path(spec, config=config_for(session, anchor))
    if session is not None:
        from cstar_conformance.keywords import Keywords

        send_through(schema, session, Keywords(specfile.parse(Path(spec).read_bytes()) or {}))
    return schema


def operation_label(case: Case) -> str:
    """`PATCH /customers/{customerId}`: the operation, as the suite's own client counts it."""
    return f"{case.operation.method.upper()} {case.operation.path.removeprefix('/teams/{teamId}')}"


def send_through(schema: BaseSchema, session: Session, keywords: Keywords) -> None:
    """Send every request of this schema — generated cases, the probes some checks make on their own,
    the stateful steps — through the run's Traffic: counted, throttled, within budget, 429s waited out
    (never graded), and attached to the running test as evidence; note the schema keywords each request
    and each answer exercised (keyword coverage)."""
    from schemathesis.transport.requests import REQUESTS_TRANSPORT, RequestsTransport

    from cstar_conformance.client import exchange_of
    from cstar_conformance.session import FAMILY

    class CountedTransport(RequestsTransport):
        def send(self, case: Case, *, session: Any = None, **kwargs: Any) -> Any:
            def attempt() -> Any:
                with state.observer.request() as clock:
                    try:
                        response = RequestsTransport.send(self, case, session=session, **dict(kwargs))
                    except Exception:
                        observe(case, None, clock)
                        raise
                    observe(case, response, clock)
                state.evidence_of(response)
                fuzz_failures.remember(case, response)
                return response

            operation = operation_label(case)
            state.stats.note_keywords(keywords.request_hits(operation, request_parts(case)))
            response = state.traffic.send(attempt, family=FAMILY.get(), operation=operation,
                                          status=lambda r: int(r.status_code),
                                          hint=lambda r: retry_hint(r.headers, r.json),
                                          headers=lambda r: r.headers)
            state.stats.note_keywords(keywords.response_hits(operation, int(response.status_code),
                                                             json_body(response)))
            return response

    def observe(case: Case, response: Any, clock: dict[str, float]) -> None:
        """Hand the exchange to the contract model (a 429 is only remembered: it must have changed nothing)."""
        if response is not None:
            request = response.request
            body = request.body.encode() if isinstance(request.body, str) else request.body
            state.observer.record(method=str(request.method), url=str(request.url),
                                  request_headers=dict(request.headers), request_body=body,
                                  status=int(response.status_code), response_headers=dict(response.headers),
                                  response_body=response.content or b"", clock=clock,
                                  label=exchange_of(response, state.masker).curl())
        else:
            state.observer.record(method=case.operation.method.upper(), url=case.formatted_path, request_headers={},
                                  request_body=None, status=None, response_headers={}, response_body=b"",
                                  clock=clock, label="")

    state = session
    transport = CountedTransport()
    transport._copy_serializers_from(REQUESTS_TRANSPORT)

    class CountedSchema(type(schema)):  # type: ignore[misc, valid-type]
        @property
        def transport(self) -> Any:
            return transport

    schema.__class__ = CountedSchema


def request_parts(case: Case) -> dict[str, Any]:
    """What a case sends, by place, for keyword coverage (no "body" key when it sends none)."""
    from schemathesis.core import NOT_SET

    parts: dict[str, Any] = {"query": case.query or {}, "path": case.path_parameters or {},
                             "header": case.headers or {}}
    if case.body is not NOT_SET:
        parts["body"] = case.body
    return parts


def json_body(response: Any) -> Any:
    """The answer's JSON body, or None when it has none."""
    if "json" not in str(response.headers.get("content-type", "")).lower():
        return None
    try:
        return response.json()
    except ValueError:
        return None


def create_anchor(session: Session) -> str | None:
    """The run-tagged customer that get/update fuzzing works on (deleted with the run's data)."""
    client = session.client(session.target.team.api_key)
    try:
        email = f"{session.run_id}-anchor{next(_marks)}@{EMAIL_DOMAIN}"
        response = client.post("/customers", {"name": f"Conformance {session.run_id} fuzz anchor", "email": email})
    finally:
        client.close()
    if response.status_code not in (200, 201):
        return None  # the fuzzer then draws ids itself; scenario tests report the create failure
    anchor = response.json().get("data", {}).get("id")
    if isinstance(anchor, str):
        session.created.append(("customer", anchor))
        return anchor
    return None


_marks = itertools.count(1)


def mark_generated_customer(case: Case, run_id: str) -> None:
    """Give a positively generated customer body — a create, or a PATCH that sets the email of the run's
    fuzzing anchor — the run's marker, so an interrupted run's records can be found and swept. Only the
    email changes; the body stays valid. (Negative bodies are left as generated: re-tagging their email
    could make them valid. What a target wrongly creates from one is tracked by id and deleted.)"""
    body = case.body
    method, path = case.operation.method.upper(), case.operation.path
    customer_write = (method == "POST" and path.endswith("/customers")) or (
        method == "PATCH" and path.endswith("/customers/{customerId}"))
    if (customer_write and isinstance(body, dict) and isinstance(body.get("email"), str)
            and case.meta is not None and case.meta.generation.mode.is_positive):
        body["email"] = f"{run_id}-fz{next(_marks)}@{EMAIL_DOMAIN}"


def created_kind(case: Case) -> str | None:
    """What a successful call of this case creates, if anything (for cleanup)."""
    if case.operation.method.upper() != "POST":
        return None
    for kind in ("customer", "ticket", "webhook"):
        if case.operation.path.endswith(f"/{kind}s"):
            return kind
    return None
