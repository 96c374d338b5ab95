"""Parsing the OpenAPI document: YAML's C loader where PyYAML has it (the pure-Python loader takes ~0.4 s),
once per content per process (a run reads the spec for its check, its identity and its coverage). The
document returned is shared: read it, never change it.

Also the names every reader of the spec agrees on: an operation is `POST /customers`, its path without the
team prefix."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import yaml

METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
TEAM_PREFIX = "/teams/{teamId}"


def parse(text: str | bytes) -> Any:
    """The YAML document, with the safe loader's rules (no Python objects). Bytes that are not UTF-8 raise
    UnicodeDecodeError."""
    return _parse(text.decode("utf-8") if isinstance(text, bytes) else text)


@lru_cache(maxsize=4)
def _parse(text: str) -> Any:
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506 - a safe loader


def resolve(document: Any, node: Any, limit: int = 20) -> Any:
    """`node` with its local `$ref`s followed (JSON pointer escapes read; at most `limit` hops; a pointer
    into nothing gives `{}`; a remote reference is returned as it is)."""
    hops = 0
    while isinstance(node, dict) and "$ref" in node and hops < limit:
        ref = str(node["$ref"])
        if not ref.startswith("#/"):
            return node
        target: Any = document
        for part in ref[2:].split("/"):
            target = target.get(part.replace("~1", "/").replace("~0", "~"), {}) if isinstance(target, dict) else {}
        node, hops = target, hops + 1
    return node


def operation_name(method: str, path: str) -> str:
    """`POST /customers`: how the run names the operation of `method` on the spec's `path`."""
    return f"{method.upper()} {path.removeprefix(TEAM_PREFIX) or '/'}"
