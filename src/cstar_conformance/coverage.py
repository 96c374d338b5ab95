"""Schema coverage of a run: which documented operations were reached and which documented status codes
of each were observed — by fuzzing (the Schemathesis checks) and by the scenario checks — and what the
target answered that the spec does not document. Read from every answer the run counted (traffic.py),
so it covers exactly what the run sent; set-up and housekeeping (preflight, seeding, cleanup, sweep)
are counted apart and never make a code "observed"."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cstar_conformance import specfile

FUZZING = ("contract", "contract-stateful")
HOUSEKEEPING = ("preflight", "setup", "cleanup", "sweep")
# Codes the contract lets a target choose between (MAY): one target answers one of each pair, so the
# other counts as covered by the alternative it chose — 400|422 invalid input, 403|404 another team,
# 200|201 create, 200|204 delete, 400|404 a malformed id.
ALTERNATIVES = (("400", "422"), ("403", "404"), ("200", "201"), ("200", "204"), ("400", "404"))
RATE_LIMITED = "429"


def documented(spec_path: Path) -> dict[str, list[str]]:
    """Every operation of the spec (`POST /customers`, as the run names them) with its status codes."""
    document = specfile.parse(spec_path.read_bytes()) or {}
    found: dict[str, list[str]] = {}
    for path, item in (document.get("paths") or {}).items():
        for method in specfile.METHODS:
            operation = (item or {}).get(method)
            if isinstance(operation, dict):
                codes = operation.get("responses") or {}
                found[specfile.operation_name(method, str(path))] = sorted(str(c) for c in codes if str(c).isdigit())
    return found


def _alternative(code: str, observed: set[str], codes: list[str]) -> str | None:
    """The observed code this one is the legal alternative of, if any."""
    for pair in ALTERNATIVES:
        if code in pair:
            other = pair[1] if code == pair[0] else pair[0]
            if other in observed and other in codes:
                return other
    return None


def _source(family: str) -> str:
    return "fuzzing" if family in FUZZING else "housekeeping" if family in HOUSEKEEPING else "scenarios"


def of_run(spec_path: Path, by_answer: dict[str, int], by_keyword: dict[str, int] | None = None) -> dict[str, Any]:
    """The run's coverage, from its counted answers ("family|operation|status" → count) and the keyword
    hits of its fuzzing (keywords.py)."""
    spec = documented(spec_path)
    seen: dict[str, dict[str, dict[str, int]]] = {}
    for key, count in by_answer.items():
        family, operation, status = (key.split("|", 2) + ["", ""])[:3]
        codes = seen.setdefault(operation, {}).setdefault(status, {})
        codes[_source(family)] = codes.get(_source(family), 0) + int(count)
    operations = []
    for operation, codes in spec.items():
        answers = seen.get(operation, {})
        by_check = {code for code, sources in answers.items() if sources.get("fuzzing") or sources.get("scenarios")}
        by_fuzzing = {code for code, sources in answers.items() if sources.get("fuzzing")}
        operations.append({
            "operation": operation, "customer": operation.split(" ", 1)[1].startswith("/customers"),
            "reached": bool(by_check), "reached_by_fuzzing": bool(by_fuzzing), "documented": codes,
            "observed": sorted(c for c in codes if c in by_check),
            "observed_by_fuzzing": sorted(c for c in codes if c in by_fuzzing),
            "missing": sorted(c for c in codes if c not in by_check),
            "by_alternative": {c: alt for c in codes if c not in by_check for alt in [_alternative(c, by_check, codes)]
                               if alt},
            "undocumented": sorted(c for c in by_check if c not in codes),
            "answers": answers,
        })
    return {
        "customer_operations": _totals([o for o in operations if o["customer"]]),
        "all_operations": _totals(operations),
        "operations": operations,
        "other_requests": {op: codes for op, codes in seen.items() if op not in spec},
        "keywords": keyword_coverage(spec_path, by_keyword) if by_keyword else None,  # None: nothing fuzzed
    }


def keyword_coverage(spec_path: Path, hits: dict[str, int]) -> dict[str, Any]:
    """The schema keywords the run's fuzzing exercised (keywords.py, imported only by a run that fuzzed)."""
    from cstar_conformance import keywords

    return keywords.summary(keywords.Keywords(specfile.parse(spec_path.read_bytes()) or {}), hits)


def _totals(operations: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "operations": len(operations), "reached": sum(o["reached"] for o in operations),
        "reached_by_fuzzing": sum(o["reached_by_fuzzing"] for o in operations),
        "status_codes": sum(len(o["documented"]) for o in operations),
        "observed": sum(len(o["observed"]) for o in operations),
        "observed_by_fuzzing": sum(len(o["observed_by_fuzzing"]) for o in operations),
        "missing": [f"{o['operation']} {code}" for o in operations for code in o["missing"]],
        "covered_by_alternative": [f"{o['operation']} {code} (answered {alt})" for o in operations
                                   for code, alt in o["by_alternative"].items()],
        "rate_limit_not_met": [f"{o['operation']} {RATE_LIMITED}" for o in operations
                               if RATE_LIMITED in o["missing"]],
        "not_observed": [f"{o['operation']} {code}" for o in operations for code in o["missing"]
                         if code not in o["by_alternative"] and code != RATE_LIMITED],
    }


def line(coverage: dict[str, Any]) -> str:
    """One line for the terminal verdict."""
    customer, every = coverage["customer_operations"], coverage["all_operations"]
    missing = customer["not_observed"]
    return (f"schema coverage: customer operations {customer['reached']}/{customer['operations']} reached, "
            f"status codes {customer['observed']}/{customer['status_codes']} observed "
            f"({customer['observed_by_fuzzing']} by fuzzing, {len(customer['covered_by_alternative'])} more by the "
            f"legal alternative answered, {len(customer['rate_limit_not_met'])} × 429 not met); all operations "
            f"{every['reached']}/{every['operations']}, codes {every['observed']}/{every['status_codes']}; "
            + (f"not observed: {', '.join(missing[:12])}{' …' if len(missing) > 12 else ''}" if missing
               else "every other documented code of the customer operations observed")
            + (f"\n{keyword_line(coverage['keywords'])}" if coverage.get("keywords") else ""))


def keyword_line(coverage: dict[str, Any]) -> str:
    from cstar_conformance import keywords

    return keywords.line(coverage)
