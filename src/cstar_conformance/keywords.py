"""Schema keyword coverage of the fuzzing: which validation keywords of the spec the generated traffic
exercised. A request keyword (of a parameter's or a body's schema) counts as *reached* when some request
carried a value it applies to, and as *both ways* when one such value satisfied it and another broke it
(the negative data that proves a server rejects what it must). A response keyword counts as reached when
an answer carried a value it applies to.

Our own counter over the spec the run used (TraceCov, the packaged alternative, may not be shown to third
parties under its licence, and this report is published). Keywords are the JSON Schema validation
keywords below; `properties` and `items` are walked into, so `.tags[]` `type` is a keyword of its own.
The team id in the path is the suite's own, never generated, so it is left out."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

from cstar_conformance.specfile import METHODS, operation_name, resolve

VALIDATION = ("type", "enum", "const", "format", "pattern", "minLength", "maxLength", "minimum", "maximum",
              "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "required", "minItems", "maxItems",
              "uniqueItems", "minProperties", "maxProperties", "additionalProperties")
# A keyword that constrains only one kind of value is not exercised by a value of another kind.
APPLIES_TO: dict[str, tuple[type, ...]] = {
    **dict.fromkeys(("format", "pattern", "minLength", "maxLength"), (str,)),
    **dict.fromkeys(("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"), (int, float)),
    **dict.fromkeys(("minItems", "maxItems", "uniqueItems"), (list,)),
    **dict.fromkeys(("required", "minProperties", "maxProperties", "additionalProperties"), (dict,)),
}
PINNED = frozenset({("path", "teamId")})  # parameters the suite sets itself
MAX_DEPTH = 8
_FORMATS = FormatChecker()


@dataclass(frozen=True)
class Site:
    """One keyword at one place: `where` is "query page", "body .tags[]" or "200 .data.email"."""

    operation: str
    side: str  # "request" or "response"
    where: str
    keyword: str
    path: tuple[str, ...]  # property names, "[]" for every item of an array
    validator: Draft202012Validator
    wants: tuple[str, ...]  # the types the schema at this place allows

    @property
    def breakable(self) -> bool:
        """False for `type: string` of a parameter: on the wire every parameter is text, so no request can
        break it (such a keyword is reached, never "both ways")."""
        return not (self.side == "request" and not self.where.startswith("body") and self.keyword == "type"
                    and "string" in self.wants)

    @property
    def key(self) -> str:
        return f"{self.operation}|{self.side}|{self.where}|{self.keyword}"

    def verdict(self, value: Any) -> bool | None:
        """True if `value` satisfies the keyword, False if it breaks it, None if the keyword does not apply."""
        kinds = APPLIES_TO.get(self.keyword)
        if kinds is not None and (not isinstance(value, kinds) or isinstance(value, bool)):
            return None
        return self.validator.is_valid(value)


class Keywords:
    """Every keyword site of a spec, by operation; tells which sites a request or an answer exercised."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document = document
        self.requests: dict[str, list[tuple[str, str, list[Site]]]] = {}  # operation → (in, name, sites)
        self.responses: dict[tuple[str, str], list[Site]] = {}  # (operation, status) → sites of its JSON body
        for path, item in (document.get("paths") or {}).items():
            shared = (item or {}).get("parameters") or []
            for method in METHODS:
                operation = (item or {}).get(method)
                if isinstance(operation, dict):
                    self._add(operation_name(method, str(path)), shared, operation)

    def _add(self, name: str, shared: list[Any], operation: Mapping[str, Any]) -> None:
        slots = self.requests.setdefault(name, [])
        for parameter in [*shared, *(operation.get("parameters") or [])]:
            parameter = self._resolve(parameter)
            place, pname = parameter.get("in"), parameter.get("name")
            if (place, pname) in PINNED or not isinstance(parameter.get("schema"), dict):
                continue
            slots.append((place, pname, list(self._walk(name, "request", f"{place} {pname}", parameter["schema"]))))
        body = self._json_schema(self._resolve(operation.get("requestBody") or {}))
        if body is not None:
            slots.append(("body", "", list(self._walk(name, "request", "body", body))))
        for status, answer in (operation.get("responses") or {}).items():
            schema = self._json_schema(self._resolve(answer or {}))
            if schema is not None and str(status).isdigit():
                self.responses[(name, str(status))] = list(self._walk(name, "response", str(status), schema))

    def _json_schema(self, holder: Mapping[str, Any]) -> Any:
        content = holder.get("content") or {}
        media = content.get("application/json") or {}
        return media.get("schema")

    def _resolve(self, node: Any) -> Any:
        node = resolve(self.document, node, MAX_DEPTH)
        return node if isinstance(node, dict) else {}

    def _walk(self, operation: str, side: str, where: str, schema: Any, path: tuple[str, ...] = (),
              depth: int = 0) -> Iterator[Site]:
        schema = self._resolve(schema)
        if depth > MAX_DEPTH:
            return
        declared = schema.get("type")
        wants = tuple(declared) if isinstance(declared, list) else (declared,) if isinstance(declared, str) else ()
        label = where + ("" if not path else " " + "".join(p if p == "[]" else f".{p}" for p in path))
        for keyword in VALIDATION:
            if keyword not in schema or (keyword == "additionalProperties" and schema[keyword] is not False):
                continue
            check = {keyword: schema[keyword]}
            if keyword == "additionalProperties":
                check["properties"] = {name: True for name in schema.get("properties") or {}}
            yield Site(operation, side, label, keyword, path, Draft202012Validator(check, format_checker=_FORMATS),
                       wants)
        for name, sub in (schema.get("properties") or {}).items():
            yield from self._walk(operation, side, where, sub, (*path, str(name)), depth + 1)
        if isinstance(schema.get("items"), dict):
            yield from self._walk(operation, side, where, schema["items"], (*path, "[]"), depth + 1)

    def sites(self) -> list[Site]:
        every = [site for slots in self.requests.values() for _, _, sites in slots for site in sites]
        return every + [site for sites in self.responses.values() for site in sites]

    def request_hits(self, operation: str, parts: Mapping[str, Any]) -> list[str]:
        """Counter keys ("…|ok" / "…|bad") of the request keywords `parts` exercised; `parts` maps
        "query"/"path"/"header" to their parameters and "body" to the JSON body (absent: no body)."""
        hits = []
        for place, name, sites in self.requests.get(operation, []):
            if place == "body":
                if "body" not in parts:
                    continue
                root = parts["body"]
            else:
                values = _lower(parts.get(place)) if place == "header" else parts.get(place) or {}
                key = name.lower() if place == "header" else name
                if key not in values:
                    continue
                root = values[key]
            hits += _hits(sites, root, loose=place != "body")
        return hits

    def response_hits(self, operation: str, status: int, body: Any) -> list[str]:
        """Counter keys of the response keywords an answer's JSON body reached."""
        return [key for key in _hits(self.responses.get((operation, str(status)), []), body, loose=False)
                if key.endswith("|ok")]


def _lower(values: Any) -> dict[str, Any]:
    return {str(k).lower(): v for k, v in (values or {}).items()}


def _hits(sites: list[Site], root: Any, *, loose: bool) -> list[str]:
    hits = []
    for site in sites:
        for value in _values(root, site.path):
            verdict = site.verdict(_typed(value, site) if loose else value)
            if verdict is not None:
                hits.append(f"{site.key}|{'ok' if verdict else 'bad'}")
    return sorted(set(hits))


def _values(value: Any, path: tuple[str, ...]) -> Iterator[Any]:
    if not path:
        yield value
    elif path[0] == "[]":
        if isinstance(value, list):
            for item in value:
                yield from _values(item, path[1:])
    elif isinstance(value, dict) and path[0] in value:
        yield from _values(value[path[0]], path[1:])


def _typed(value: Any, site: Site) -> Any:
    """A parameter travels as text: read "5" as 5 where the schema wants a number (as a server would)."""
    if not isinstance(value, str):
        return value
    if "integer" in site.wants or "number" in site.wants:
        for parse in (int, float):
            try:
                return parse(value)
            except ValueError:
                continue
    if "boolean" in site.wants:
        return {"true": True, "false": False}.get(value, value)
    return value


def is_customer(operation: str) -> bool:
    return operation.split(" ", 1)[-1].startswith("/customers")


def label(site: Site) -> str:
    return f"{site.operation} {site.where} {site.keyword}"


def summary(keywords: Keywords, hits: Mapping[str, int]) -> dict[str, Any]:
    """Keyword coverage of a run from its counted hits ("…|ok" / "…|bad" → requests)."""
    seen: dict[str, set[str]] = {}
    for key in hits:
        site, _, how = key.rpartition("|")
        seen.setdefault(site, set()).add(how)
    every = keywords.sites()

    def totals(sites: list[Site], lists: bool) -> dict[str, Any]:
        request = [s for s in sites if s.side == "request"]
        response = [s for s in sites if s.side == "response"]
        found = {
            "request_keywords": len(request),
            "request_reached": sum(s.key in seen for s in request),
            "request_breakable": sum(s.breakable for s in request),
            "request_both_ways": sum(seen.get(s.key, set()) >= {"ok", "bad"} for s in request),
            "response_keywords": len(response),
            "response_reached": sum(s.key in seen for s in response),
        }
        if lists:
            found["request_never_broken"] = [label(s) for s in request if s.breakable and seen.get(s.key) == {"ok"}]
            found["request_never_met"] = [label(s) for s in request if seen.get(s.key) == {"bad"}]
            found["request_not_reached"] = [label(s) for s in request if s.key not in seen]
        return found

    return {"customer_operations": totals([s for s in every if is_customer(s.operation)], lists=True),
            "all_operations": totals(every, lists=False)}


def line(coverage: Mapping[str, Any]) -> str:
    """One line for the terminal: the customer operations' keywords, then every operation's."""
    mine, every = coverage["customer_operations"], coverage["all_operations"]
    return (f"schema keywords (fuzzing): customer requests {mine['request_reached']}/{mine['request_keywords']} "
            f"reached, {mine['request_both_ways']}/{mine['request_breakable']} breakable ones with a valid and an "
            f"invalid value; customer responses "
            f"{mine['response_reached']}/{mine['response_keywords']} reached; all operations: requests "
            f"{every['request_reached']}/{every['request_keywords']}, responses "
            f"{every['response_reached']}/{every['response_keywords']}")
