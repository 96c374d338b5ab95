"""Parsing the OpenAPI document: YAML's C loader where PyYAML has it (the spec is read several times per
run; the pure-Python loader takes ~0.4 s each time)."""

from __future__ import annotations

from typing import Any

import yaml


def parse(text: str | bytes) -> Any:
    """The YAML document, with the safe loader's rules (no Python objects)."""
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506 - a safe loader
