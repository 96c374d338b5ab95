"""Group testing for create probes: probes that set different fields ride in one create, split when it is not
accepted.

Many probes are "this value, in this field, is kept or refused, never a 5xx": a 10,000-character note, a
whitespace-only name, a number past 2^53 in a custom field. Each used to cost a create and, at the end, the
cleanup's delete. Probes that set different fields (or different custom-field keys) are merged into one body
and sent once; an answer in 2xx stands for each of them (a target that stored the whole body stored each of
its values), and any other answer (a refusal, a 5xx, no customer) sends each probe of that body alone, so that
every refusal or failure is attributed to its own field, exactly as before. On a target that accepts them,
n probes cost one create instead of n; on one that refuses them, one more.

Pure logic: the caller's `send` does the request; this module only merges and splits.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

R = TypeVar("R")
MERGED = ("customFields",)  # objects whose distinct keys merge; every other field is one probe's alone


def compatible(body: Mapping[str, Any], extra: Mapping[str, Any]) -> bool:
    """Whether `extra` can ride in `body`: no field (or custom-field key) set by both to different values."""
    for field, value in extra.items():
        if field not in body:
            continue
        if field in MERGED and isinstance(value, Mapping) and isinstance(body[field], Mapping):
            if any(k in body[field] and body[field][k] != v for k, v in value.items()):
                return False
        elif body[field] != value:
            return False
    return True


def merge(body: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(body)
    for field, value in extra.items():
        if field in MERGED and isinstance(value, Mapping) and isinstance(merged.get(field), Mapping):
            merged[field] = {**merged[field], **value}
        else:
            merged[field] = value
    return merged


def _groups(cases: Mapping[str, Mapping[str, Any]]) -> list[tuple[list[str], dict[str, Any]]]:
    """The cases in groups, first fit in the order given, each with its merged fields."""
    groups: list[tuple[list[str], dict[str, Any]]] = []
    for name, fields in cases.items():
        for members, body in groups:
            if compatible(body, fields):
                members.append(name)
                body.update(merge(body, fields))
                break
        else:
            groups.append(([name], dict(fields)))
    return groups


def plan(cases: Mapping[str, Mapping[str, Any]]) -> list[list[str]]:
    """The cases in groups, first fit in the order given: each group's fields are pairwise compatible."""
    return [members for members, _ in _groups(cases)]


def probe(cases: Mapping[str, Mapping[str, Any]], send: Callable[[dict[str, Any]], R],
          accepted: Callable[[R], bool]) -> dict[str, tuple[dict[str, Any], R]]:
    """Each case → (the fields sent with it, the answer that judges it). `send` gets the merged probe fields
    of a group (the caller adds what every create needs); a group's answer judges each of its cases when
    `accepted`, else each case is sent alone and judged by its own answer."""
    answers: dict[str, tuple[dict[str, Any], R]] = {}
    for members, body in _groups(cases):
        answer = send(body)
        if len(members) == 1 or accepted(answer):
            answers.update({name: (body, answer) for name in members})
            continue
        for name in members:
            alone = dict(cases[name])
            answers[name] = (alone, send(alone))
    return answers
