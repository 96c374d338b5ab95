"""Breaking changes of the OpenAPI contract against an earlier version (a git ref): removed operations,
removed or no-longer-guaranteed response fields, narrowed enums and limits, new required inputs, and
removed or added status codes.

    python -m cstar_conformance.spec_diff --base REF [--spec openapi/customers.yaml] [--json PATH]

Our own small diff over the parsed documents, because no maintained OpenAPI diff tool from the package
registries both installs without fetching a binary and reads OpenAPI 3.1 here (npm `@useoptic/optic`
1.0.9 installs but crashes on start on Node 20 — its spectral/ajv dependencies disagree —; npm
`openapi-diff` 0.24.1 refuses 3.1 documents; npm `@pb33f/openapi-changes` downloads a Go binary in its
postinstall). It reads the contract as a client does: what a client sends may not be narrowed, what it
reads may not be taken away or widened beyond what it was promised. Exit status: 0 no breaking change,
1 breaking changes, 4 the documents cannot be read.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml

from cstar_conformance import specfile

# Limits a request may not tighten: (keyword, True when a larger value is tighter).
_LIMITS = (("maxLength", False), ("maximum", False), ("exclusiveMaximum", False), ("maxItems", False),
           ("maxProperties", False), ("minLength", True), ("minimum", True), ("exclusiveMinimum", True),
           ("minItems", True), ("minProperties", True))


@dataclass(frozen=True)
class Change:
    kind: str  # "breaking" or "note"
    where: str  # "PATCH /teams/{teamId}/customers/{customerId}"
    what: str

    def line(self) -> str:
        return f"{self.kind.upper():9} {self.where}: {self.what}"


class Documents:
    """The two parsed documents, with local $ref resolution."""

    def __init__(self, base: dict[str, Any], head: dict[str, Any]) -> None:
        self.base, self.head = base, head
        self.changes: list[Change] = []

    def resolve(self, document: dict[str, Any], node: Any) -> Any:
        return specfile.resolve(document, node)

    def add(self, kind: str, where: str, what: str) -> None:
        self.changes.append(Change(kind, where, what))


def _types(schema: dict[str, Any]) -> set[str]:
    kind = schema.get("type")
    found = set(kind) if isinstance(kind, list) else {kind} if kind else set()
    if schema.get("nullable"):
        found.add("null")
    return found


def _covered(kinds: set[str], by: set[str]) -> set[str]:
    """The types of `kinds` that `by` does not take (a number takes every integer)."""
    return {k for k in kinds if k not in by and not (k == "integer" and "number" in by)}


def compare_schema(docs: Documents, old: Any, new: Any, where: str, path: str, reading: bool, depth: int = 0) -> None:
    """`reading`: a response the client reads (may not lose or widen); else a request it sends (may not narrow)."""
    old, new = docs.resolve(docs.base, old), docs.resolve(docs.head, new)
    if not isinstance(old, dict) or not isinstance(new, dict) or depth > 12:
        return
    label = path or "body"
    old_types, new_types = _types(old), _types(new)
    if old_types and new_types and old_types != new_types:
        lost, gained = sorted(_covered(old_types, new_types)), sorted(_covered(new_types, old_types))
        if reading and gained:
            docs.add("breaking", where, f"{label}: may now be of type {', '.join(gained)}")
        elif not reading and lost:
            docs.add("breaking", where, f"{label}: no longer accepts type {', '.join(lost)}")
    if not old_types and new_types and not reading:
        docs.add("breaking", where, f"{label}: now restricted to type {', '.join(sorted(new_types))}")
    if old_types and not new_types and reading and not any(k in new for k in ("allOf", "anyOf", "oneOf", "$ref")):
        docs.add("breaking", where, f"{label}: no longer restricted to type {', '.join(sorted(old_types))} "
                                    "in a response (may be anything)")
    old_enum, new_enum = old.get("enum"), new.get("enum")
    if isinstance(new_enum, list):
        if not isinstance(old_enum, list):
            if not reading:
                docs.add("breaking", where, f"{label}: now restricted to {new_enum}")
        else:
            removed = [v for v in old_enum if v not in new_enum]
            added = [v for v in new_enum if v not in old_enum]
            if removed and not reading:
                docs.add("breaking", where, f"{label}: enum narrowed, no longer accepts {removed}")
            if added and reading:
                docs.add("breaking", where, f"{label}: enum widened in a response, may now be {added}")
            if removed and reading:
                docs.add("note", where, f"{label}: no longer returns {removed}")
    if not reading:
        for keyword, larger_is_tighter in _LIMITS:
            before, after = old.get(keyword), new.get(keyword)
            if isinstance(after, (int, float)) and not isinstance(after, bool) and (
                    before is None or (after > before if larger_is_tighter else after < before)):
                docs.add("breaking", where, f"{label}: {keyword} tightened from {before} to {after}")
        if new.get("pattern") and new.get("pattern") != old.get("pattern"):
            docs.add("breaking", where, f"{label}: pattern {'changed' if old.get('pattern') else 'added'}")
        if old.get("additionalProperties") is not False and new.get("additionalProperties") is False:
            docs.add("breaking", where, f"{label}: no longer accepts undeclared fields")
    old_required, new_required = set(old.get("required") or []), set(new.get("required") or [])
    old_props, new_props = old.get("properties") or {}, new.get("properties") or {}
    prefix = f"{path}." if path else ""
    for name in sorted(set(old_props) - set(new_props)):
        kind = "breaking" if reading or new.get("additionalProperties") is False else "note"
        docs.add(kind, where, f"{prefix}{name}: field removed" + (" from the response" if reading else ""))
    if reading:
        for name in sorted((old_required - new_required) & set(new_props)):
            docs.add("breaking", where, f"{prefix}{name}: no longer always present in the response")
    else:
        for name in sorted(new_required - old_required):
            docs.add("breaking", where, f"{prefix}{name}: new required field")
    for name in sorted(set(old_props) & set(new_props)):
        compare_schema(docs, old_props[name], new_props[name], where, f"{prefix}{name}", reading, depth + 1)
    if "items" in old and "items" in new:
        compare_schema(docs, old["items"], new["items"], where, f"{label}[]", reading, depth + 1)
    for keyword in ("allOf", "anyOf", "oneOf"):
        before, after = old.get(keyword), new.get(keyword)
        if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
            for index, (a, b) in enumerate(zip(before, after, strict=True)):
                compare_schema(docs, a, b, where, f"{label}({keyword}[{index}])", reading, depth + 1)
        elif before != after and (before or after):
            docs.add("note", where, f"{label}: {keyword} changed (not compared further)")


def _parameters(docs: Documents, document: dict[str, Any], item: dict[str, Any],
                operation: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for raw in [*(item.get("parameters") or []), *(operation.get("parameters") or [])]:
        parameter = docs.resolve(document, raw)
        if isinstance(parameter, dict) and "name" in parameter:
            found[(str(parameter.get("in")), str(parameter["name"]))] = parameter
    return found


def _body_schema(docs: Documents, document: dict[str, Any], body: Any) -> tuple[bool, Any]:
    body = docs.resolve(document, body) or {}
    content = body.get("content") or {}
    media = content.get("application/json") or next(iter(content.values()), {}) if content else {}
    return bool(body.get("required")), (media or {}).get("schema")


def compare_operation(docs: Documents, where: str, old_item: dict[str, Any], new_item: dict[str, Any],
                      old: dict[str, Any], new: dict[str, Any]) -> None:
    old_params = _parameters(docs, docs.base, old_item, old)
    new_params = _parameters(docs, docs.head, new_item, new)
    for key in sorted(set(new_params) - set(old_params)):
        if new_params[key].get("required"):
            docs.add("breaking", where, f"new required {key[0]} parameter {key[1]}")
    for key in sorted(set(old_params) - set(new_params)):
        docs.add("breaking", where, f"{key[0]} parameter {key[1]} removed")
    for key in sorted(set(old_params) & set(new_params)):
        if new_params[key].get("required") and not old_params[key].get("required"):
            docs.add("breaking", where, f"{key[0]} parameter {key[1]} is now required")
        compare_schema(docs, old_params[key].get("schema"), new_params[key].get("schema"), where,
                       f"{key[0]} parameter {key[1]}", reading=False)
    old_required, old_body = _body_schema(docs, docs.base, old.get("requestBody"))
    new_required, new_body = _body_schema(docs, docs.head, new.get("requestBody"))
    if new_required and not old_required:
        docs.add("breaking", where, "a request body is now required")
    if old_body is not None and new_body is not None:
        compare_schema(docs, old_body, new_body, where, "body", reading=False)
    old_codes = {str(code): answer for code, answer in (old.get("responses") or {}).items()}
    new_codes = {str(code): answer for code, answer in (new.get("responses") or {}).items()}
    for code in sorted(set(old_codes) - set(new_codes)):
        docs.add("breaking", where, f"status {code} no longer documented")
    for code in sorted(set(new_codes) - set(old_codes)):
        docs.add("breaking", where, f"new status {code} (clients may not handle it)")
    for code in sorted(set(old_codes) & set(new_codes)):
        _, before = _body_schema(docs, docs.base, old_codes[code])
        _, after = _body_schema(docs, docs.head, new_codes[code])
        if before is not None and after is None:
            docs.add("breaking", where, f"status {code}: the response body is gone")
        elif before is not None:
            compare_schema(docs, before, after, f"{where} → {code}", "", reading=True)


def diff(base: dict[str, Any], head: dict[str, Any]) -> list[Change]:
    docs = Documents(base, head)
    old_paths, new_paths = base.get("paths") or {}, head.get("paths") or {}
    for path in old_paths:
        old_item = docs.resolve(base, old_paths[path]) or {}
        new_item = docs.resolve(head, new_paths.get(path)) or {}
        for method in specfile.METHODS:
            if method not in old_item:
                continue
            where = f"{method.upper()} {path}"
            if method not in new_item:
                docs.add("breaking", where, "operation removed")
                continue
            compare_operation(docs, where, old_item, new_item, old_item[method], new_item[method])
    for path in new_paths:
        for method in specfile.METHODS:
            if method in (new_paths[path] or {}) and method not in (old_paths.get(path) or {}):
                docs.add("note", f"{method.upper()} {path}", "operation added")
    return docs.changes


def read_base(spec: Path, ref: str) -> str:
    """The spec's text at a git ref (the file's path relative to its work tree)."""
    proc = subprocess.run(["git", "show", f"{ref}:./{spec.name}"], cwd=spec.parent, capture_output=True, text=True,
                          timeout=30)
    if proc.returncode != 0:
        message = (proc.stderr.strip().splitlines() or ["git show failed"])[-1]
        raise ValueError(f"cannot read {spec.name} at {ref}: {message}")
    return proc.stdout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cstar_conformance.spec_diff",
                                     description="breaking changes of the OpenAPI contract against a git ref")
    parser.add_argument("--base", required=True, help="git ref of the earlier contract (e.g. origin/main)")
    parser.add_argument("--spec", type=Path, default=Path("openapi/customers.yaml"))
    parser.add_argument("--json", type=Path, help="also write the changes as JSON here")
    args = parser.parse_args(argv)
    spec = args.spec.resolve()
    try:
        base = specfile.parse(read_base(spec, args.base))
        head = specfile.parse(spec.read_text(encoding="utf-8"))
    except (OSError, ValueError, yaml.YAMLError) as exc:
        sys.stderr.write(f"spec-diff: {str(exc).splitlines()[0]}\n")
        return 4
    if not isinstance(base, dict) or not isinstance(head, dict):
        sys.stderr.write("spec-diff: one of the documents is not an OpenAPI document\n")
        return 4
    changes = diff(base, head)
    breaking = [c for c in changes if c.kind == "breaking"]
    for change in sorted(changes, key=lambda c: (c.kind != "breaking", c.where)):
        print(change.line())
    print(f"spec-diff: {len(breaking)} breaking change(s), {len(changes) - len(breaking)} note(s) in "
          f"{args.spec} against {args.base}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps([asdict(c) for c in changes], indent=2) + "\n")
    return 1 if breaking else 0


if __name__ == "__main__":
    raise SystemExit(main())
