"""How the model judges reads and changes of one customer: GET against the state, a PATCH answer against
every legal way to apply it (and updatedAt), a DELETE and its cascade."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from cstar_conformance.model.bodies import DEFAULTS, Judged, dedupe, judge_request, merge_patch, shallow_merge
from cstar_conformance.model.creates import TOO_LARGE, VALIDATION, check_new
from cstar_conformance.model.exchange import Exchange, Violation
from cstar_conformance.model.state import CustomerRec, Life, Rejected, clock_rules, differences, rules_of
from cstar_conformance.model.values import Kind, is_uuid, same_json, seconds, shape_problems

if TYPE_CHECKING:
    from cstar_conformance.model.core import Model

def get(m: Model, ex: Exchange, team: str, item: str | None) -> list[Violation]:
    status = ex.status or 0
    raw = item or ""
    if not is_uuid(raw):
        if 200 <= status < 300:
            return [Violation(("GET-MALFORMED-ID",), f"GET of the malformed id {raw!r:.40} answered {status}",
                              (ex,))]
        if status not in (400, 404):
            return [Violation(("GET-MALFORMED-ID",), f"a malformed id must get 404 or 400, not {status}", (ex,))]
        return []
    rec = m.state.customers.get(raw.lower())
    data = ex.json.get("data") if isinstance(ex.json, dict) else None
    if rec is None:
        if 200 <= status < 300:
            problems = shape_problems(data)
            if problems:
                return [Violation(("GET-UNKNOWN-404", "CUSTOMER-SHAPE"), f"GET of a customer the run never saw "
                                  f"answered {status} without one: {'; '.join(problems[:2])}", (ex,))]
            if raw.lower() not in m.state.seen_ids and not m.state.lost_creates and \
                    not m.state.ghosts:
                return [Violation(("GET-UNKNOWN-404",), f"GET of an id no answer ever carried answered {status}",
                                  (ex,))]
        elif status != 404 and raw.lower() not in m.state.seen_ids:
            return [Violation(("GET-UNKNOWN-404",), f"an unknown customer must get 404, not {status}", (ex,))]
        return []
    if rec.team != team:
        if 200 <= status < 300:
            return [Violation(("AUTH-CROSS-TEAM",), f"customer {rec.id} of team {rec.team} was served on team "
                              f"{team}'s path", (ex,))]
        return []
    if raw != raw.lower() and status == 404:
        return []  # an id in upper case: the same UUID, or no id of the target's — its choice
    return read(m, ex, rec, data, ("GET-EQUALS",))


def read(m: Model, ex: Exchange, rec: CustomerRec, data: Any, rules: tuple[str, ...]) -> list[Violation]:
    """A GET of a record the run owns."""
    status = ex.status or 0
    deleted = [r for r in rec.rejected if "__delete__" in r.fields]
    if rec.life is Life.MAYBE:
        if 200 <= status < 300 and isinstance(data, dict):
            rec.life = Life.LIVE
            rec.settle(data)
        elif status == 404:
            rec.life = Life.DELETED
        return []
    if rec.life is Life.DELETED:
        if 200 <= status < 300:
            return [Violation(("DELETE-GONE",), f"customer {rec.id} was deleted but GET answered {status}", (ex,))]
        if status != 404:
            return [Violation(("DELETE-GONE",), f"GET of deleted customer {rec.id} must get 404, not {status}",
                              (ex,))]
        return []
    if status == 404:
        blame = ("REJECTED-CHANGES-NOTHING", *deleted[-1].rules) if deleted else rules
        return [Violation(blame, f"customer {rec.id} exists but GET answered 404", (ex,))]
    if not 200 <= status < 300:
        return [Violation(rules, f"GET of existing customer {rec.id} answered {status}", (ex,))]
    problems = shape_problems(data)
    if problems:
        return [Violation(("CUSTOMER-SHAPE",), "; ".join(problems[:4]), (ex,))]
    return compare(m, ex, rec, data, rules)


def compare(m: Model, ex: Exchange, rec: CustomerRec, data: dict[str, Any], rules: tuple[str, ...]
             ) -> list[Violation]:
    low_high = rec.ticket_range()
    diffs_by_value = [differences(data, value, low_high) for value in rec.values]
    if any(not diffs for diffs in diffs_by_value):
        rec.settle(data)
        return []
    diffs = min(diffs_by_value, key=len)
    blame = rules + rules_of(diffs) + clock_rules(data, rec, ex.answered, m.config.skew)
    stale = any(not differences(data, old, None) for old in rec.history)
    if rec.rejected:
        blame = ("REJECTED-CHANGES-NOTHING", *rec.rejected[-1].rules, *blame)
    found = [Violation(tuple(dict.fromkeys(blame)), f"customer {rec.id} is not as its last answer said"
                       f"{' (an earlier state of it)' if stale else ''}: {'; '.join(d for _, d in diffs[:4])}",
                       (ex,))]
    rec.settle(data)
    return found


def patch(m: Model, ex: Exchange, team: str, item: str | None) -> list[Violation]:
    status = ex.status or 0
    raw = item or ""
    judged = judge_request(ex)
    rec = m.state.customers.get(raw.lower()) if is_uuid(raw) else None
    if rec is None:
        if 200 <= status < 300 and (not is_uuid(raw) or (raw.lower() not in m.state.seen_ids
                                                       and not m.state.lost_creates)):
            return [Violation(("PATCH-UNKNOWN-404",), f"PATCH of a customer that does not exist answered {status}",
                              (ex,))]
        return []
    if raw != raw.lower() and 400 <= status < 500:
        return []  # an id in upper case: the same UUID, or no id of the target's — its choice
    if rec.team != team:
        if 200 <= status < 300:
            return [Violation(("AUTH-CROSS-TEAM",), f"customer {rec.id} of team {rec.team} was changed through "
                              f"team {team}'s path", (ex,))]
        rec.rejected.append(Rejected(ex, ("REJECTED-CHANGES-NOTHING", "AUTH-CROSS-TEAM"), judged.fields))
        return []
    if rec.life is Life.MAYBE:
        return []
    if rec.life is Life.DELETED:
        if 200 <= status < 300 or (status != 404 and judged.kind is Kind.ORDINARY):
            return [Violation(("DELETE-GONE",), f"PATCH of deleted customer {rec.id} answered {status}", (ex,))]
        return []
    email = judged.fields.get("email") if isinstance(judged.fields.get("email"), str) else None
    others = [c for c in m.state.email_holders(team, email) if c.id != rec.id] if email else []
    exact = [c for c in others if c.life is Life.LIVE and any(v.get("email") == email for v in c.values)]
    own = email is not None and any(isinstance(v.get("email"), str) and v["email"].lower() == email.lower()
                                    for v in rec.values)
    if 200 <= status < 300:
        data = ex.json.get("data") if isinstance(ex.json, dict) else None
        if judged.kind is Kind.INVALID:
            rec.rejected.append(Rejected(ex, ("PATCH-INVALID-NOCHANGE",), judged.fields))
            return [Violation(("PATCH-INVALID-NOCHANGE",), f"an invalid PATCH was accepted ({status}): "
                              f"{'; '.join(judged.reasons[:3])}", (ex,))]
        if exact:
            rec.rejected.append(Rejected(ex, ("PATCH-EMAIL-CONFLICT",), judged.fields))
            return [Violation(("PATCH-EMAIL-CONFLICT",), f"a PATCH to {email!r}, the address of {exact[0].id}, "
                              f"was accepted", (ex,))]
        if not isinstance(data, dict) or shape_problems(data):
            problems = shape_problems(data)
            return [Violation(("CUSTOMER-SHAPE",), f"a PATCH answer without the customer: {'; '.join(problems[:3])}",
                              (ex,))]
        found = patched_as_sent(m, ex, rec, judged, data)
        if others and not exact:
            found.append(Violation(("EMAIL-UNIQUE-CASE",), f"a PATCH to {email!r} was accepted beside "
                                   f"{others[0].id} (the same address in another case)", (ex,)))
        return found
    if not 400 <= status < 500:
        return []
    if judged.kind is Kind.INVALID:
        rec.rejected.append(Rejected(ex, ("REJECTED-CHANGES-NOTHING", "PATCH-INVALID-NOCHANGE"), judged.fields))
        if status not in VALIDATION and status != TOO_LARGE:
            return [Violation(("PATCH-INVALID-NOCHANGE",), f"an invalid PATCH must get 400 or 422, not {status}",
                              (ex,))]
        return []
    if exact or others:
        rec.rejected.append(Rejected(ex, ("REJECTED-CHANGES-NOTHING", "PATCH-EMAIL-CONFLICT"), judged.fields))
        return []
    rec.rejected.append(Rejected(ex, ("REJECTED-CHANGES-NOTHING",), judged.fields))
    if judged.kind is Kind.ORDINARY and status not in (401, 403, 404, 409, 412, 413, 428):
        rules = ["PATCH-KEEPS-OMITTED"]
        if not judged.fields:
            rules.insert(0, "PATCH-EMPTY-NOOP")
        if own:
            rules.insert(0, "PATCH-OWN-EMAIL-OK")
        elif email:
            rules.append("EMAIL-ORDINARY")
        if judged.fields.get("customFields"):
            rules += ["CUSTOMFIELDS-TYPES", "CUSTOMFIELDS-KEYS"]
        return [Violation(tuple(rules), f"a valid PATCH was refused ({status})", (ex,))]
    if own and status == 409:
        return [Violation(("PATCH-OWN-EMAIL-OK",), "setting the customer's own address again got 409", (ex,))]
    return []


def patched_as_sent(m: Model, ex: Exchange, rec: CustomerRec, judged: Judged, data: dict[str, Any]
                     ) -> list[Violation]:
    body = ex.request_json if isinstance(ex.request_json, dict) else {}
    before = rec.values
    candidates = [(value, cand, below) for value in before for cand, below in patched_variants(value, body, data)]
    found: list[Violation] = []
    best: tuple[int, list[tuple[str, str]], dict[str, Any], dict[str, Any], bool] | None = None
    for value, cand, below in candidates:
        diffs = [d for d in differences(data, cand, rec.ticket_range()) if d[0] != "updatedAt"]
        if best is None or len(diffs) < best[0]:
            best = (len(diffs), diffs, value, cand, below)
    assert best is not None
    _, diffs, value, cand, below = best
    if diffs:
        rules = []
        for name, _ in diffs:
            base = name.split(".")[0]
            if base in ("id", "createdAt", "ticketCount"):
                rules.append("PATCH-IMMUTABLE-FIELDS")
            elif base not in body:
                rules.append("PATCH-CUSTOMFIELDS-KEPT" if base == "customFields" else "PATCH-KEEPS-OMITTED")
            elif base == "tags":
                rules.append("PATCH-TAGS-REPLACE")
            elif same_json(data.get(base), value.get(base)):
                rules.append("PATCH-KEEPS-OMITTED")  # the field in the body was not applied at all
            else:
                rules += list(rules_of([(name, "")]))
        if rec.rejected:
            rules = ["REJECTED-CHANGES-NOTHING", *rec.rejected[-1].rules, *rules]
        found.append(Violation(tuple(dict.fromkeys(rules)), f"the PATCH answer is not the customer with the "
                               f"PATCH applied: {'; '.join(d for _, d in diffs[:4])}", (ex,)))
    elif below:
        found.append(Violation(("PATCH-CUSTOMFIELDS-MERGE",), "customFields were replaced as a whole, not merged "
                               "key by key (RFC 7396)", (ex,)))
    changed = bool(differences(cand, value, None)) and not diffs
    previous, now = seconds(value.get("updatedAt")), seconds(data.get("updatedAt"))
    if previous is not None and now is not None:
        if now < previous:
            found.append(Violation(("PATCH-IMMUTABLE-FIELDS",), f"updatedAt went back from {value.get('updatedAt')}"
                                   f" to {data.get('updatedAt')}", (ex,)))
        elif changed and now == previous and ex.sent_mono - rec.written_mono > 1.05:
            found.append(Violation(("PATCH-UPDATEDAT-MOVES",), f"a PATCH that changed something left updatedAt "
                                   f"at {value.get('updatedAt')}, {ex.sent_mono - rec.written_mono:.1f} s after the "
                                   "last write", (ex,)))
    if changed:
        found += check_new(m, ex, data, created=False)
    moved = previous is not None and now is not None and now != previous
    rec.settle(data)
    if changed or moved:
        rec.written_mono = ex.answered_mono
    found += m.ledger.expect(m.state, rec.team, "customer.updated", data, ex, required=changed)
    return found


def delete(m: Model, ex: Exchange, team: str, item: str | None) -> list[Violation]:
    status = ex.status or 0
    rec = m.state.customers.get((item or "").lower()) if is_uuid(item or "") else None
    if rec is None or rec.life is Life.MAYBE:
        if rec is not None and 200 <= status < 300:
            rec.life = Life.DELETED
        return []
    if (item or "") != (item or "").lower() and 400 <= status < 500:
        return []  # an id in upper case: the same UUID, or no id of the target's — its choice
    if rec.team != team:
        if 200 <= status < 300:
            return [Violation(("AUTH-CROSS-TEAM",), f"customer {rec.id} of team {rec.team} was deleted through "
                              f"team {team}'s path", (ex,))]
        rec.rejected.append(Rejected(ex, ("REJECTED-CHANGES-NOTHING", "AUTH-CROSS-TEAM"), {"__delete__": True}))
        return []
    if rec.life is Life.DELETED:
        if status != 404:
            return [Violation(("DELETE-GONE",), f"DELETE of deleted customer {rec.id} must get 404, not {status}",
                              (ex,))]
        return []
    if not 200 <= status < 300:
        if status not in (401, 403, 409, 412, 428):
            return [Violation(("DELETE-STATUS",), f"DELETE of customer {rec.id} answered {status}", (ex,))]
        return []
    found = []
    if status == 204 and ex.response_body:
        found.append(Violation(("DELETE-STATUS",), "a 204 with a body", (ex,)))
    elif status not in (200, 204):
        found.append(Violation(("DELETE-STATUS",), f"a delete answered {status} (200 with JSON, or 204)", (ex,)))
    rec.life = Life.DELETED
    for ticket in m.state.tickets.values():
        if ticket.customer == rec.id:
            ticket.life = Life.DELETED
            ticket.cascaded = True
    m.ledger.expect(m.state, team, "customer.deleted", rec.values[0], ex, required=False, tickets=rec.ticket_range())
    return found


def patched(value: dict[str, Any], body: dict[str, Any]) -> list[dict[str, Any]]:
    return [cand for cand, _ in patched_variants(value, body, None)]


def patched_variants(value: dict[str, Any], body: dict[str, Any], answer: dict[str, Any] | None
                      ) -> Iterable[tuple[dict[str, Any], bool]]:
    """Every customer a legal target may make of `value` with this PATCH body: (customer, below the SHOULD).
    Duplicate tags kept or collapsed; customFields merged (RFC 7396), nested values replaced, or — legal, short
    of the SHOULD — the whole object replaced; null resets a field to its default (notes: null or "")."""
    base = dict(value)
    tag_options: list[Any] = [None]
    custom_options: list[tuple[Any, bool]] = [(None, False)]
    for name, sent in body.items():
        if name == "tags" and isinstance(sent, list):
            tag_options = [sent, dedupe(sent)] if dedupe(sent) != sent else [sent]
        elif name == "tags" and sent is None:
            tag_options = [[]]
        elif name == "customFields" and isinstance(sent, dict):
            current = value.get("customFields") if isinstance(value.get("customFields"), dict) else {}
            custom_options = [(merge_patch(current, sent), False), (shallow_merge(current, sent), False),
                              ({k: v for k, v in sent.items() if v is not None}, True)]
        elif name == "customFields" and sent is None:
            custom_options = [({}, False)]
        elif name in ("name", "email", "status", "sentiment", "notes"):
            base[name] = DEFAULTS.get(name) if sent is None else sent
    notes_options = [base.get("notes")]
    if "notes" in body and body["notes"] is None:
        notes_options = [None, ""]
    for tags in tag_options:
        for custom, below in custom_options:
            for notes in notes_options:
                cand = dict(base)
                if tags is not None:
                    cand["tags"] = tags
                if custom is not None:
                    cand["customFields"] = custom
                cand["notes"] = notes
                if answer is not None:
                    cand["updatedAt"] = answer.get("updatedAt")
                yield cand, below
