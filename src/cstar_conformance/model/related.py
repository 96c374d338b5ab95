"""How the model judges tickets (cascade, ticketCount, tenancy) and webhook registrations, and names the
rule a delivery breaks when no write of the run explains it."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from cstar_conformance.model import events, lists
from cstar_conformance.model.exchange import Delivery, Exchange, Violation
from cstar_conformance.model.state import Life, TicketRec, WebhookRec
from cstar_conformance.model.values import is_uuid

if TYPE_CHECKING:
    from cstar_conformance.model.core import Model

def ticket_create(m: Model, ex: Exchange, team: str, _: str | None) -> list[Violation]:
    status = ex.status or 0
    body = ex.request_json if isinstance(ex.request_json, dict) else {}
    customer_id = body.get("customerId")
    rec = m.state.customers.get(customer_id.lower()) if isinstance(customer_id, str) else None
    if rec is None and not (isinstance(customer_id, str) and customer_id.lower() not in m.state.seen_ids
                            and is_uuid(customer_id)):
        return []
    bad = rec is None or rec.team != team or rec.life is Life.DELETED
    if 200 <= status < 300:
        data = ex.json.get("data") if isinstance(ex.json, dict) else None
        ticket_id = str(data.get("id")) if isinstance(data, dict) else ""
        if bad:
            return [Violation(("TICKET-BAD-CUSTOMER",), f"a ticket for {customer_id}, no live customer of team "
                              f"{team}, was created ({status})", (ex,))]
        assert rec is not None
        if rec.life is Life.MAYBE or ticket_id.lower() in m.state.tickets:
            return []  # a replay of a ticket already opened (an Idempotency-Key): nothing new
        m.state.tickets[ticket_id.lower()] = TicketRec(ticket_id.lower(), team, rec.id)
        rec.tickets_live += 1
        rec.tickets_ever += 1
        return []
    if bad and status not in (400, 404, 422) and 400 <= status < 500:
        return [Violation(("TICKET-BAD-CUSTOMER",), f"a ticket for a customer outside the team must get 400, 404 "
                          f"or 422, not {status}", (ex,))]
    if ex.status is None and rec is not None:
        rec.tickets_unsure += 1
    return []


def ticket_get(m: Model, ex: Exchange, team: str, item: str | None) -> list[Violation]:
    ticket = m.state.tickets.get((item or "").lower())
    status = ex.status or 0
    if ticket is None:
        return []
    if ticket.team != team and 200 <= status < 300:
        return [Violation(("AUTH-CROSS-TEAM",), f"ticket {ticket.id} of team {ticket.team} was served on team "
                          f"{team}'s path", (ex,))]
    if ticket.life is Life.DELETED and 200 <= status < 300 and ticket.cascaded:
        return [Violation(("DELETE-CASCADE",), f"ticket {ticket.id} of a deleted customer still answers {status}",
                          (ex,))]
    return []


def ticket_delete(m: Model, ex: Exchange, team: str, item: str | None) -> list[Violation]:
    ticket = m.state.tickets.get((item or "").lower())
    status = ex.status or 0
    if ticket is None or ticket.team != team or ticket.life is not Life.LIVE:
        return []
    rec = m.state.customers.get(ticket.customer)
    if 200 <= status < 300:
        ticket.life = Life.DELETED
        if rec is not None:
            rec.tickets_live -= 1
    elif ex.status is None and rec is not None:
        rec.tickets_unsure += 1
    return []


def ticket_list(m: Model, ex: Exchange, team: str, _: str | None) -> list[Violation]:
    if not (ex.status and 200 <= ex.status < 300) or not isinstance(ex.json, dict):
        return []
    shape = lists.envelope(ex)
    if shape:
        return shape
    data = ex.json.get("data")
    wanted = ex.param("customerId")
    found = []
    owner = m.state.customers.get((wanted or "").lower())
    if owner is not None and owner.team == team and owner.life is Life.DELETED and data:
        found.append(Violation(("DELETE-CASCADE",), f"customer {owner.id} was deleted, but tickets of it are still "
                               "listed", (ex,)))
    for item in data if isinstance(data, list) else []:
        if not isinstance(item, dict):
            continue
        ticket = m.state.tickets.get(str(item.get("id")).lower())
        if ticket is not None and ticket.team != team:
            found.append(Violation(("AUTH-CROSS-TEAM",), f"ticket {ticket.id} of team {ticket.team} is listed in "
                                   f"team {team}", (ex,)))
        elif ticket is not None and ticket.life is Life.DELETED and ticket.cascaded:
            found.append(Violation(("DELETE-CASCADE",), f"ticket {ticket.id} of a deleted customer is still "
                                   "listed", (ex,)))
    return found


def hook_list(m: Model, ex: Exchange, team: str, _: str | None) -> list[Violation]:
    """The team's registrations (a list the contract does not define beyond registration: pagination optional):
    none of another team's, none a refused registration made."""
    found = lists.envelope(ex, paginated=False)
    data = ex.json.get("data") if isinstance(ex.json, dict) else None
    for item in data if isinstance(data, list) and not found else []:
        if not isinstance(item, dict):
            continue
        hook = m.state.webhooks.get(str(item.get("id")))
        if hook is not None and hook.team != team:
            found.append(Violation(("AUTH-CROSS-TEAM",), f"webhook {hook.id} of team {hook.team} is listed in team "
                                   f"{team}", (ex,)))
        refused = m.state.refused_hooks.get(str(item.get("url")))
        if hook is None and refused is not None:
            found.append(Violation(("REJECTED-CHANGES-NOTHING",), f"a registration for {item.get('url')} is listed, "
                                   f"made by a request answered {refused.status}", (refused, ex)))
    return found


def hook_create(m: Model, ex: Exchange, team: str, _: str | None) -> list[Violation]:
    if ex.status is not None and 400 <= ex.status < 500 and isinstance(ex.request_json, dict) \
            and isinstance(ex.request_json.get("url"), str):
        m.state.refused_hooks[ex.request_json["url"]] = ex  # it must leave no registration behind
    if not (ex.status and 200 <= ex.status < 300) or not isinstance(ex.json, dict):
        return []
    data, body = ex.json.get("data"), ex.request_json
    if not isinstance(data, dict) or not isinstance(body, dict) or not isinstance(data.get("id"), str):
        return []
    url = body.get("url") if isinstance(body.get("url"), str) else ""
    events_ = body.get("events") if isinstance(body.get("events"), list) else []
    base = next((base for base in m.config.receivers if url.startswith(base)), None)
    heard = base is not None
    path = url[len(base):] if base is not None else urlsplit(url).path  # the receiver knows it by that path
    m.state.webhooks[data["id"]] = WebhookRec(data["id"], team, path, tuple(map(str, events_)),
                                              str(data.get("secret") or ""), ex.answered,
                                              healthy=heard and not any(word in path for word in m.config.failing))
    return []


def hook_delete(m: Model, ex: Exchange, team: str, item: str | None) -> list[Violation]:
    hook = m.state.webhooks.get(item or "")
    if hook is None:
        return []
    if hook.team != team:
        if ex.status is not None and 200 <= ex.status < 300:
            return [Violation(("AUTH-CROSS-TEAM",), f"webhook {hook.id} of team {hook.team} was deleted through team "
                              f"{team}'s path ({ex.status})", (ex,))]
        return []
    hook.deleting = hook.deleting or ex.sent
    if ex.status is not None and (200 <= ex.status < 300 or ex.status == 404):
        hook.deleted = ex.answered
    return []


def unexplained(m: Model, delivery: Delivery, hook: WebhookRec) -> list[Violation]:
    """A delivery no write of the run implies: the rule it breaks."""
    payload = delivery.json
    customer = events.customer_of(payload) or {}
    event_type = payload.get("type") if isinstance(payload, dict) else None
    rec = m.state.customers.get(str(customer.get("id")).lower())
    email = customer.get("email")
    ghost = m.state.ghosts.get(email.lower()) if isinstance(email, str) else None
    if rec is None and ghost is None:
        return []  # another client's customer: the team's webhook may hear of it
    if rec is not None and rec.team != hook.team:
        return [Violation(("WEBHOOK-TEAM-ONLY",), f"registration {hook.id} of team {hook.team} got {event_type} "
                          f"about customer {rec.id} of team {rec.team}", (delivery,))]
    if not hook.wants(str(event_type)):
        return [Violation(("WEBHOOK-SUBSCRIBED-ONLY",), f"registration {hook.id} subscribed to {hook.events} "
                          f"got {event_type}", (delivery,))]
    if hook.deleted is not None:
        return [Violation(("WEBHOOK-DELETED-SILENT",), f"registration {hook.id}, deleted, got {event_type} about "
                          f"customer {customer.get('id')}", (delivery,))]
    if ghost is not None and (rec is None or event_type == "customer.created"):
        return [Violation(ghost.rules, f"{event_type} was delivered for a create that was refused "
                          f"({ghost.exchange.status})", (ghost.exchange, delivery))]
    if rec is not None and rec.rejected:
        return [Violation(rec.rejected[-1].rules, f"{event_type} was delivered after a refused write",
                          (rec.rejected[-1].exchange, delivery))]
    return [Violation(("WEBHOOK-EVENTS",), f"{event_type} about customer {customer.get('id')} was delivered, but no "
                      "write of the run caused it", (delivery,))]
