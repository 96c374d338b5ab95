"""The executable model of the contract: fed every exchange the suite makes (and every webhook delivery), it
keeps the state of what the run owns and returns the violations each answer shows, whichever check made the
request. Every MAY alternative is legal here; where the contract allows several answers, the model keeps
every state they lead to until a later answer tells them apart."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from urllib.parse import unquote

from cstar_conformance.model import creates, events, lists, related, updates
from cstar_conformance.model.bodies import judge_request
from cstar_conformance.model.exchange import NO_BODY, NOT_JSON, Delivery, Exchange, Key, Violation
from cstar_conformance.model.state import Life, Rejected, State
from cstar_conformance.model.values import Kind, is_uuid

WRITES = ("POST", "PATCH", "DELETE", "PUT")
DEFINED = {"customers": {"GET", "POST"}, "customer": {"GET", "PATCH", "DELETE"}}
RESOURCES = ("customers", "tickets", "webhooks")


@dataclass
class Config:
    teams: Collection[str]  # the teams the suite holds keys for
    marker: str = ""  # in every address the run makes: a search for it finds only the run's records
    skew: float = 300.0  # how far the target's clock may be from the suite's (TIMESTAMP-TRUE-UTC)
    failing: tuple[str, ...] = ("-failing", "-hanging", "-flaky")  # in the path of an endpoint that does not answer
    # 2xx (in time): no delivery bound holds there
    receivers: list[str] = field(default_factory=list)  # base URLs of the suite's webhook receivers: only a
    # registration pointing there can be heard, so only there are events expected


@dataclass
class Route:
    team: str | None
    resource: str | None  # customers | tickets | webhooks | None (not an API path)
    item: str | None  # the id in the path, if any
    extra: bool = False  # more segments than the contract has
    traversal: bool = False  # the path reached here through dot segments (`/teams/A/%2e%2e/B/…`)

    @property
    def template(self) -> str:
        return f"{self.resource[:-1] if self.item is not None else self.resource}" if self.resource else ""


def route(ex: Exchange) -> Route:
    """Where a request lands, dot segments resolved as a server or proxy would resolve them."""
    raw = ex.segments
    parts: list[str] = []
    for part in raw:
        decoded = unquote(part)
        if decoded == "..":
            if parts:
                parts.pop()
        elif decoded != ".":
            parts.append(part)
    traversal = parts != raw
    if len(parts) < 3 or parts[0] != "teams" or parts[2] not in RESOURCES:
        return Route(None, None, None)
    return Route(parts[1], parts[2], parts[3] if len(parts) > 3 else None, len(parts) > 4, traversal)


@dataclass
class Model:
    config: Config
    state: State = field(default_factory=State)
    ledger: events.Ledger = field(default_factory=events.Ledger)

    # ------------------------------------------------------------------------------------- entry

    def observe(self, ex: Exchange) -> list[Violation]:
        """The violations `ex` shows, the state moved on by it."""
        where = route(ex)
        if ex.status == 429:  # waited out and sent again: only remembered, since it too must change nothing
            if where.resource is not None and ex.credential.valid and ex.credential.team == where.team:
                self._rejected_write(ex, where, ())
            return []
        found = self._generic(ex)
        if where.resource is None or where.extra:
            return found
        if ex.method in WRITES:
            self.state.version += 1
        found += self._auth(ex, where)
        return _unique(found)

    def deliver(self, delivery: Delivery) -> list[Violation]:
        return self.ledger.deliver(self.state, delivery, delivery.received)

    def due(self, now: float) -> list[Violation]:
        return self.ledger.due(self.state, now, lambda delivery, hook: related.unexplained(self, delivery,
                                                                                            hook))

    def next_deadline(self) -> float | None:
        return self.ledger.next_deadline()

    def fork(self) -> Model:
        """An independent copy, to try a concurrent batch in one order."""
        return Model(self.config, self.state.fork(), self.ledger.fork())

    # ----------------------------------------------------------------------------------- generic

    def _generic(self, ex: Exchange) -> list[Violation]:
        """What every answer must be, whatever was asked."""
        status = ex.status
        if status is None:
            return []
        found = []
        if status >= 500:
            found.append(Violation(("NO-5XX",), f"answered {status}: no request the suite sends may get a 5xx", (ex,)))
            return found
        if ex.method == "HEAD" or status == 204 or status == 429:
            return found
        body = ex.json
        if ex.method == "OPTIONS" and body in (NO_BODY, NOT_JSON):
            return found  # a CORS preflight may answer without a body, or with text such as "OK"
        if body is NO_BODY:
            if 200 <= status < 300:
                found.append(Violation(("ENV-SUCCESS",), f"a {status} without a body (only 204 may have none)", (ex,)))
            elif 400 <= status < 500:
                found.append(Violation(("ENV-ERROR",), f"a {status} without the error envelope (no body)", (ex,)))
            return found
        if body is NOT_JSON:
            rule = "ENV-SUCCESS" if status < 400 else "ENV-ERROR"
            found.append(Violation((rule,), f"a {status} whose body is not JSON", (ex,)))
            return found
        media = ex.response_headers.get("content-type", "").split(";")[0].strip().lower()
        if media != "application/json":
            found.append(Violation(("CONTENT-TYPE-JSON",), f"a JSON answer with Content-Type {media or '(none)'!r}",
                                   (ex,)))
        if 200 <= status < 300 and not (isinstance(body, dict) and body.get("success") is True and "data" in body):
            found.append(Violation(("ENV-SUCCESS",), "a success body must be {success: true, data}", (ex,)))
        if 400 <= status < 500:
            error = body.get("error") if isinstance(body, dict) else None
            if not (isinstance(body, dict) and body.get("success") is False and isinstance(error, dict)
                    and isinstance(error.get("code"), str) and isinstance(error.get("message"), str)):
                found.append(Violation(("ENV-ERROR",), "an error body must be {success: false, error: {code, message}} "
                                       "with string code and message", (ex,)))
        return found

    # -------------------------------------------------------------------------------------- auth

    def _auth(self, ex: Exchange, where: Route) -> list[Violation]:
        status, cred = ex.status, ex.credential
        found: list[Violation] = []
        kind = where.template
        if ex.method == "OPTIONS":
            if status is not None and status < 500 and not (200 <= status < 300 or status in (401, 403, 404, 405)):
                found.append(Violation(("OPTIONS-SAFE",), f"OPTIONS answered {status} (2xx, 401, 403, 404 or 405)",
                                       (ex,)))
            elif status == 201:
                found.append(Violation(("OPTIONS-SAFE",), "OPTIONS answered 201 Created: it must change nothing",
                                       (ex,)))
            self._rejected_write(ex, where, ("OPTIONS-SAFE",), refused=False)  # whatever it answered
            return found
        defined = DEFINED.get(kind)
        head = ex.method == "HEAD"
        if defined is not None and not head and ex.method not in defined:
            if status is not None and 200 <= status < 300:
                found.append(Violation(("UNKNOWN-METHOD",), f"{ex.method} is not defined here, but answered {status}",
                                       (ex,)))
            elif status is not None and status < 500 and status not in (404, 405, 401):
                found.append(Violation(("UNKNOWN-METHOD",), f"{ex.method} is not defined here: 405 with Allow or "
                                       f"404, not {status}", (ex,)))
            elif status == 405 and not ex.response_headers.get("allow"):
                found.append(Violation(("UNKNOWN-METHOD",), "405 without an Allow header", (ex,)))
            self._rejected_write(ex, where, ("UNKNOWN-METHOD",))
            return found
        if status is None or status >= 500:
            self._uncertain(ex, where)
            return found
        if head and defined is not None and "GET" in defined and status in (405, 501):
            found.append(Violation(("HEAD-AS-GET",), f"HEAD where GET is defined answered {status}", (ex,)))
            return found
        if not cred.valid:
            rules = ("AUTH-EXACT-KEY", "AUTH-401") if cred.key is Key.NEAR_MISS else ("AUTH-401",)
            if 200 <= status < 300:
                found.append(Violation(rules, f"a request with {cred.key.value} credentials was served ({status})",
                                       (ex,)))
            elif status != 401 and where.team in self.config.teams and (where.item is None or is_uuid(where.item)) \
                    and status not in (413,):
                found.append(Violation(rules, f"a request with {cred.key.value} credentials must get 401, not {status}",
                                       (ex,)))
            self._rejected_write(ex, where, rules)
            return found
        if cred.team != where.team:
            judged = self._body_kind(ex, kind)
            if 200 <= status < 300:
                found.append(Violation(("AUTH-CROSS-TEAM",), f"team {cred.team}'s key was served on team "
                                       f"{where.team}'s path ({status})", (ex,)))
            elif status not in (403, 404) and judged is not Kind.INVALID and where.team in self.config.teams \
                    and not where.traversal:
                found.append(Violation(("AUTH-CROSS-TEAM",), f"a valid key on another team's path must get 403 or 404, "
                                       f"not {status}", (ex,)))
            self._rejected_write(ex, where, ("AUTH-CROSS-TEAM",))
            return found
        if cred.key is Key.PUBLISHABLE and ex.method in WRITES:
            if 200 <= status < 300:
                found.append(Violation(("PK-READ-ONLY",), f"a write with a publishable key was served ({status})",
                                       (ex,)))
            elif status != 403 and self._body_kind(ex, kind) is not Kind.INVALID:
                found.append(Violation(("PK-READ-ONLY",), f"a write with a publishable key must get 403, not {status}",
                                       (ex,)))
            self._rejected_write(ex, where, ("PK-READ-ONLY",))
            return found
        team = str(where.team)
        handler = HANDLERS.get((kind, ex.method))
        if handler is not None:
            found += handler(self, ex, team, where.item)
        return found

    def _body_kind(self, ex: Exchange, kind: str) -> Kind:
        if kind in ("customers", "customer") and ex.method in ("POST", "PATCH"):
            return judge_request(ex).kind
        return Kind.ORDINARY

    def _rejected_write(self, ex: Exchange, where: Route, rules: tuple[str, ...], refused: bool = True) -> None:
        """A request that must change nothing (a refused write; an OPTIONS): remembered on its record, or by
        the address in its body, so that a change seen later is blamed on it."""
        if (ex.method not in WRITES and ex.method != "OPTIONS") or where.resource != "customers":
            return
        body = ex.request_json if isinstance(ex.request_json, dict) else {}
        rejected = Rejected(ex, ("REJECTED-CHANGES-NOTHING", *rules) if refused else rules, dict(body))
        if where.item is not None:
            rec = self.state.customers.get(where.item.lower())
            if rec is not None:
                if ex.method == "DELETE":
                    rejected.fields["__delete__"] = True
                rec.rejected.append(rejected)
        elif isinstance(body.get("email"), str):
            self.state.ghosts[body["email"].lower()] = rejected

    def _uncertain(self, ex: Exchange, where: Route) -> None:
        """A write without an answer (or with a 5xx): it may or may not have happened."""
        if ex.method not in WRITES or where.resource != "customers":
            return
        body = ex.request_json if isinstance(ex.request_json, dict) else {}
        if where.item is None and isinstance(body.get("email"), str) and where.team:
            self.state.lost_creates[body["email"].lower()] = where.team
            return
        rec = self.state.customers.get((where.item or "").lower())
        if rec is None:
            return
        if ex.method == "DELETE":
            rec.life = Life.MAYBE
        elif ex.method == "PATCH" and isinstance(ex.request_json, dict):
            rec.values = rec.values + [v for value in rec.values for v in updates.patched(value, ex.request_json)]


def _list(m: Model, ex: Exchange, team: str, _: str | None) -> list[Violation]:
    return lists.judge_list(m.state, ex, team, m.config.marker, m.config.skew)


HANDLERS: dict[tuple[str, str], Callable[[Model, Exchange, str, str | None], list[Violation]]] = {
    ("customers", "GET"): _list, ("customers", "HEAD"): creates.head, ("customers", "POST"): creates.create,
    ("customer", "GET"): updates.get, ("customer", "HEAD"): creates.head, ("customer", "PATCH"): updates.patch,
    ("customer", "DELETE"): updates.delete, ("tickets", "POST"): related.ticket_create,
    ("ticket", "GET"): related.ticket_get, ("ticket", "DELETE"): related.ticket_delete,
    ("tickets", "GET"): related.ticket_list, ("webhooks", "POST"): related.hook_create,
    ("webhooks", "GET"): related.hook_list,
    ("webhook", "DELETE"): related.hook_delete,
}


def _unique(found: list[Violation]) -> list[Violation]:
    seen, out = set(), []
    for violation in found:
        key = (violation.rules, violation.message)
        if key not in seen:
            seen.add(key)
            out.append(violation)
    return out
