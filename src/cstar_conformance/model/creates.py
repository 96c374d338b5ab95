"""How the model judges a create (and HEAD): what a target must accept, refuse or may do either way, the
answer against what was sent, the address's uniqueness, and the clock of a new record."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cstar_conformance.model import lists
from cstar_conformance.model.bodies import DEFAULTS, Judged, dedupe, judge_request
from cstar_conformance.model.exchange import Exchange, Violation
from cstar_conformance.model.state import CustomerRec, Life, Rejected, differences, rules_of, view
from cstar_conformance.model.values import Kind, is_uuid, same_json, seconds, shape_problems

VALIDATION = (400, 422)
TOO_LARGE = 413

if TYPE_CHECKING:
    from cstar_conformance.model.core import Model

def check_new(m: Model, ex: Exchange, data: dict[str, Any], *, created: bool) -> list[Violation]:
    """A customer a write just made or changed: its shape and its clock."""
    problems = shape_problems(data)
    if problems:
        return [Violation(("CUSTOMER-SHAPE",), "; ".join(problems[:4]), (ex,))]
    found = []
    names = ("createdAt", "updatedAt") if created else ("updatedAt",)
    for name in names:
        moment = seconds(data.get(name))
        if moment is not None and not ex.sent - m.config.skew <= moment <= ex.answered + m.config.skew:
            found.append(Violation(("TIMESTAMP-TRUE-UTC",), f"{name} {data.get(name)} is {moment - ex.sent:+.0f} s "
                                   f"from the suite's clock at the request (at most {m.config.skew:.0f} s)",
                                   (ex,)))
    return found


def create(m: Model, ex: Exchange, team: str, _: str | None) -> list[Violation]:
    status = ex.status or 0
    body = ex.request_json
    judged = judge_request(ex)
    email = body.get("email") if isinstance(body, dict) and isinstance(body.get("email"), str) else None
    exact = [c for c in m.state.email_holders(team, email) if c.life is Life.LIVE and any(
        v.get("email") == email for v in c.values)] if email else []
    any_case = [c for c in m.state.email_holders(team, email) if c.life is Life.LIVE and all(
        str(v.get("email")).lower() == email.lower() for v in c.values)] if email else []
    replay = idempotent_replay(m, ex, team)
    found: list[Violation] = []
    if 200 <= status < 300:
        data = ex.json.get("data") if isinstance(ex.json, dict) else None
        if not isinstance(data, dict) or not is_uuid(data.get("id")):
            found.append(Violation(("CREATE-2XX",), "a create answered 2xx without the customer", (ex,)))
            return found
        known = m.state.customers.get(str(data["id"]).lower())
        if known is not None and known.team != team:
            found.append(Violation(("AUTH-CROSS-TEAM",), f"a create of team {team} answered with customer "
                                   f"{known.id} of team {known.team}", (ex,)))
            return found
        if replay is not None and known is not None:
            return found  # the first answer again (IDEMPOTENCY-KEY): nothing new
        if known is not None:
            rule = "EMAIL-UNIQUE" if exact else "CREATE-2XX"
            found.append(Violation((rule,), f"a create answered {status} with customer {known.id}, which already "
                                   "existed, instead of making a new one or refusing", (ex,)))
            return found
        found += check_new(m, ex, data, created=True)
        if judged.kind is Kind.INVALID:
            found.append(Violation(("CREATE-VALIDATION",), f"an invalid create was accepted ({status}): "
                                   f"{'; '.join(judged.reasons[:3])}", (ex,)))
        elif exact:
            found.append(Violation(("EMAIL-UNIQUE",), f"a second customer with {email!r} was created beside "
                                   f"{exact[0].id}", (ex,)))
        elif any_case and not shape_problems(data):
            found.append(Violation(("EMAIL-UNIQUE-CASE",), f"{email!r} was accepted beside "
                                   f"{any_case[0].values[0].get('email')!r} (the same address in another case)",
                                   (ex,)))
        if judged.kind is not Kind.INVALID and not shape_problems(data):
            found += created_as_sent(m, ex, judged, data)
            if status != 201:
                found.append(Violation(("CREATE-201",), f"a create answered {status}, not 201", (ex,)))
        adopt(m, team, data, ex)
        if not shape_problems(data):
            found += m.ledger.expect(m.state, team, "customer.created", data, ex, required=True)
        return found
    if not 400 <= status < 500:
        return found
    ghost = m.state.ghosts.get(email.lower()) if email else None
    if ghost is not None and not exact and not any_case and status == 409 and ghost.exchange is not ex:
        found.append(Violation(ghost.rules, f"{email!r} is taken by a customer no accepted create made: the refused "
                               f"{ghost.exchange.method} ({ghost.exchange.status}) stored it", (ghost.exchange, ex)))
        return found
    if replay is not None and status not in (401, 403, 429):
        found.append(Violation(("IDEMPOTENCY-KEY",), f"a create repeated with the Idempotency-Key and body of one "
                               f"answered {replay.status} was refused ({status}) instead of answered the same way",
                               (replay, ex)))
        return found
    if judged.kind is Kind.INVALID:
        if status not in VALIDATION and status != TOO_LARGE:
            found.append(Violation(("CREATE-VALIDATION",), f"an invalid create must get 400 or 422, not {status}",
                                   (ex,)))
        rules: tuple[str, ...] = ("CREATE-VALIDATION",)
    elif exact or any_case:
        if status != 409 and exact:
            found.append(Violation(("EMAIL-UNIQUE-409",), f"a duplicate address got {status}, not 409", (ex,)))
        rules = ("EMAIL-UNIQUE",)
    else:
        rules = ("CREATE-VALIDATION",)
        reused = idempotent_replay(m, ex, team, same_body=False)  # a key reused for another body: refusable
        if judged.kind is Kind.ORDINARY and email and only_ours(m, email) and reused is None:
            found.append(Violation(refusal_rules(m, judged, team, email, status),
                                   f"a valid create was refused ({status})", (ex,)))
    if email:
        m.state.ghosts[email.lower()] = Rejected(ex, ("REJECTED-CHANGES-NOTHING", *rules), judged.fields)
    return found


def only_ours(m: Model, email: str) -> bool:
    """No record the model does not know can hold this address: it carries the run's marker and no create
    of it went unanswered."""
    return bool(m.config.marker) and m.config.marker in email.lower() and \
        email.lower() not in m.state.lost_creates


def refusal_rules(m: Model, judged: Judged, team: str, email: str, status: int) -> tuple[str, ...]:
    """The rules a refused valid create breaks: CREATE-2XX, and whatever its content makes likely."""
    rules = ["CREATE-2XX"]
    if status == 409 and m.state.live_customers(team):
        rules.insert(0, "EMAIL-DISTINCT-ADDRESSES")
    local = email.partition("@")[0]
    if "+" in local or "." in local or email != email.lower():
        rules.append("EMAIL-ORDINARY")
    fields = judged.fields
    if isinstance(fields.get("customFields"), dict) and fields["customFields"]:
        rules += ["CUSTOMFIELDS-TYPES", "CUSTOMFIELDS-KEYS"]
    strings = [fields.get("name"), fields.get("notes"), *(fields.get("tags") or [])]
    if any(isinstance(s, str) and (not s.isascii() or s != s.strip()) for s in strings):
        rules.append("CREATE-ROUNDTRIP")
    return tuple(rules)


def created_as_sent(m: Model, ex: Exchange, judged: Judged, data: dict[str, Any]) -> list[Violation]:
    sent = judged.fields
    expected = dict(view(data))
    defaults = []
    for name in ("name", "email", "status", "sentiment", "tags", "notes", "customFields"):
        if name in sent and name not in judged.nulls:
            value = sent[name]
            if name == "tags" and isinstance(data.get("tags"), list) and data["tags"] == dedupe(value):
                value = dedupe(value)
            if name == "customFields":
                value = {k: v for k, v in value.items() if k not in judged.dropped_custom_keys or
                         k in (data.get("customFields") or {})}
            expected[name] = value
        else:
            default = DEFAULTS.get(name)
            if name == "notes" and data.get("notes") in (None, ""):
                default = data.get("notes")
            expected[name] = default
            if not same_json(data.get(name), default):
                defaults.append(name)
    found = []
    diffs = [d for d in differences(data, expected, (0, 0)) if d[0] not in defaults]
    if any(name == "ticketCount" for name, _ in diffs):
        defaults.append("ticketCount")
        diffs = [d for d in diffs if d[0] != "ticketCount"]
    if diffs:
        found.append(Violation(rules_of(diffs), f"the create answer does not show what was sent: "
                               f"{'; '.join(d for _, d in diffs[:4])}", (ex,)))
    if defaults:
        found.append(Violation(("CREATE-DEFAULTS",), "defaults not applied: " + "; ".join(
            f"{n} {data.get(n)!r} (default {DEFAULTS.get(n, 0)!r})" for n in defaults), (ex,)))
    return found


def idempotent_replay(m: Model, ex: Exchange, team: str, same_body: bool = True) -> Exchange | None:
    """The earlier create of `team` answered 2xx that carried this request's Idempotency-Key (and, with
    `same_body`, its body too)."""
    key = ex.request_headers.get("idempotency-key")
    if not key:
        return None
    for rec in m.state.customers.values():
        first = rec.created_by
        if first is not None and first.request_headers.get("idempotency-key") == key and rec.team == team \
                and (first.request_body == ex.request_body or not same_body):
            return first
    return None


def adopt(m: Model, team: str, data: dict[str, Any], ex: Exchange) -> CustomerRec:
    rec = CustomerRec(str(data["id"]).lower(), team, [view(data)], written_mono=ex.answered_mono,
                      created_window=(ex.sent, ex.answered))
    rec.created_by = ex
    m.state.customers[rec.id] = rec
    m.state.seen_ids.add(rec.id)
    email = data.get("email")
    if isinstance(email, str):
        m.state.lost_creates.pop(email.lower(), None)
    return rec


def head(m: Model, ex: Exchange, team: str, item: str | None) -> list[Violation]:
    rec = m.state.customers.get((item or "").lower()) if item else None
    want = 200 if item is None or (rec is not None and rec.team == team and rec.life is Life.LIVE) else None
    if want is not None and ex.status != want and lists.parse_query(ex).valid:
        return [Violation(("HEAD-AS-GET",), f"HEAD answered {ex.status} where GET answers {want}", (ex,))]
    return []
