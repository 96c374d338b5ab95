"""Concurrent exchanges, judged as Porcupine and Knossos judge a history: a batch of requests that were in
flight together is legal when some order of them — one that keeps every request after those that were
answered before it was sent — replays through the sequential model without a violation. The batch is split
by what its requests touch (one customer, one address), so each part's orders stay few."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import chain, permutations
from typing import TYPE_CHECKING

from cstar_conformance.model.core import WRITES, route
from cstar_conformance.model.exchange import Exchange, Violation
from cstar_conformance.rules import BY_ID, Level

if TYPE_CHECKING:
    from cstar_conformance.model.core import Model

MAX_ORDERS = 720  # orders tried per part (6 requests: all of them)
RACE_RULES = {"PATCH": "PATCH-NO-LOST-UPDATE", "POST": "EMAIL-UNIQUE-CONCURRENT"}


def part_of(ex: Exchange) -> str:
    """What a request touches: one customer (by id), one address (a create), or the rest."""
    where = route(ex)
    if where.resource == "customers" and where.item is not None:
        return f"customer:{where.item.lower()}"
    if where.resource == "customers" and ex.method == "POST":
        body = ex.request_json
        email = body.get("email") if isinstance(body, dict) else None
        return f"email:{email.lower()}" if isinstance(email, str) else f"create:{ex.seq}"
    return f"other:{ex.seq}"


def _orders(batch: list[Exchange]) -> Iterator[list[Exchange]]:
    """Orders consistent with real time: first the likeliest (by answer, and the successful writes first),
    then every permutation, up to MAX_ORDERS."""
    def legal(order: tuple[Exchange, ...] | list[Exchange]) -> bool:
        return all(not (later.answered_mono < earlier.sent_mono)
                   for i, earlier in enumerate(order) for later in order[i + 1:])

    tried: set[tuple[int, ...]] = set()
    likely = [sorted(batch, key=lambda e: e.answered_mono),
              sorted(batch, key=lambda e: (not (e.status and 200 <= e.status < 300), e.answered_mono))]
    for order in chain(likely, (list(p) for p in permutations(batch))):  # lazily: 10 requests have 3.6M orders
        key = tuple(e.seq for e in order)
        if key in tried or not legal(order):
            continue
        tried.add(key)
        yield order
        if len(tried) >= MAX_ORDERS:
            return


def observe_batch(model: Model, batch: list[Exchange]) -> list[Violation]:
    """Judge exchanges that overlapped in time; the model moves on by the order found legal (or, when none
    is, by the one that got furthest, whose first violations are reported)."""
    parts: dict[str, list[Exchange]] = {}
    for ex in sorted(batch, key=lambda e: e.sent_mono):
        parts.setdefault(part_of(ex), []).append(ex)
    writes = [p for p in parts.values() if any(e.method in WRITES for e in p)]
    reads = [p for p in parts.values() if not any(e.method in WRITES for e in p)]
    found: list[Violation] = []
    for part in sorted(writes, key=lambda p: min(e.sent_mono for e in p)):
        found += _observe_part(model, part)
    # a read in flight with writes may show any of the states they pass through: their records are unsettled
    model.state.unsettled = {touched for p in writes for e in p for touched in _touched(e)}
    try:
        for part in sorted(reads, key=lambda p: min(e.sent_mono for e in p)):
            found += _observe_part(model, part)
    finally:
        model.state.unsettled = set()
    return found


def _touched(ex: Exchange) -> list[str]:
    where = route(ex)
    ids = [where.item.lower()] if where.resource == "customers" and where.item else []
    data = ex.json.get("data") if isinstance(ex.json, dict) else None
    if isinstance(data, dict) and isinstance(data.get("id"), str):
        ids.append(data["id"].lower())
    body = ex.request_json
    if isinstance(body, dict) and isinstance(body.get("customerId"), str):
        ids.append(body["customerId"].lower())
    return ids


def _observe_part(model: Model, part: list[Exchange]) -> list[Violation]:
    if len(part) == 1:
        return model.observe(part[0])
    best: tuple[int, list[Exchange], list[Violation]] | None = None
    for order in _orders(part):
        twin = model.fork()
        reached, violations = len(order), []
        for index, ex in enumerate(order):
            violations = twin.observe(ex)
            if violations:
                reached = index
                break
        if not violations:
            best = (len(order), order, [])
            break
        if best is None or reached > best[0]:
            best = (reached, order, violations)
    assert best is not None
    _, order, _ = best
    before = model.fork()
    methods = {ex.method for ex in part}
    race = [RACE_RULES[m] for m in methods if m in RACE_RULES and sum(ex.method == m for ex in part) > 1]
    found: list[Violation] = []
    for ex in order:
        for v in model.observe(ex):
            if before.fork().observe(ex) or not any(BY_ID[r].level is Level.MUST for r in v.rules if r in BY_ID):
                found.append(v)  # wrong whatever ran beside it, or only short of a SHOULD: not the race's doing
            else:
                found.append(Violation(tuple(dict.fromkeys((*race, *v.rules))), f"{v.message} (no order of the "
                                       f"{len(part)} concurrent requests explains the answers)",
                                       tuple(dict.fromkeys((*v.evidence, *part)))))
    return found
