"""Schemathesis configuration for the contract: the spec, the target, the volume per profile,
and which checks apply where — so that no MAY alternative of CONTRACT.md is ever flagged."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import TYPE_CHECKING, Any

import schemathesis
from schemathesis.config import SchemathesisConfig

from cstar_conformance.factory import EMAIL_DOMAIN

if TYPE_CHECKING:
    from schemathesis import Case
    from schemathesis.schemas import BaseSchema

    from cstar_conformance.session import Session

SPEC_PATH = Path(__file__).resolve().parents[2] / "openapi" / "customers.yaml"

# Hypothesis examples per operation in the fuzzing phase, stateful scenarios and steps, per profile.
PROFILES: dict[str, dict[str, int]] = {
    "smoke": {"max_examples": 3, "stateful_examples": 3, "stateful_steps": 4},
    "gate": {"max_examples": 8, "stateful_examples": 6, "stateful_steps": 6},
    "thorough": {"max_examples": 100, "stateful_examples": 50, "stateful_steps": 10},
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


def config_for(session: Session | None) -> SchemathesisConfig:
    profile = PROFILES[session.profile if session else "gate"]
    data: dict[str, Any] = {
        "seed": session.seed if session else None,
        "generation": {"max-examples": profile["max_examples"], "deterministic": False},
        "phases": {
            "coverage": {"unexpected-methods": []},
        },
        "checks": {name: {"enabled": False} for name in EXCLUDED_CHECKS},
        "operations": [
            {"include-operation-id": op, "checks": {"negative_data_rejection": {"enabled": False}}}
            for op in NO_NEGATIVE_REJECTION
        ] + [{"include-tag": tag, "enabled": False} for tag in NOT_FUZZED_TAGS],
        "output": {"sanitization": {"enabled": True}},
    }
    if data["seed"] is None:
        del data["seed"]
    if session is not None:
        data["base-url"] = session.target.base_url
        data["headers"] = {"Authorization": f"Bearer {session.target.team.api_key}"}
        data["parameters"] = {"teamId": session.target.team.id}
        data["request-timeout"] = 15
        if session.throttle.interval:
            data["rate-limit"] = f"{max(1, round(1 / session.throttle.interval))}/s"
    return SchemathesisConfig.from_dict(data)


def load(session: Session | None) -> BaseSchema:
    return schemathesis.openapi.from_path(SPEC_PATH, config=config_for(session))


_marks = itertools.count(1)


def mark_generated_customer(case: Case, run_id: str) -> None:
    """Give a positively generated customer body the run's marker, so an interrupted run's
    records can be found and swept. Only the email changes; the body stays valid."""
    body = case.body
    if (case.operation.method.upper() == "POST" and case.operation.path.endswith("/customers")
            and isinstance(body, dict) and isinstance(body.get("email"), str)
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
