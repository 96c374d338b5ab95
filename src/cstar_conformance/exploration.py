"""Model-based exploration: a Hypothesis state machine whose every rule sends real requests — customers,
tickets and webhook registrations created, read, changed and deleted in random order, by both teams, with
values from the hostile catalogue, some released at one instant — while the contract model (observer.py)
judges every answer. The model, not the rule, decides what was legal.

A failing sequence is shrunk by Hypothesis within a request budget of its own and reported as the shortest
failing sequence seen, one curl line per request (keys masked)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, multiple, rule

from cstar_conformance import draws, hostile
from cstar_conformance.client import ApiClient
from cstar_conformance.factory import EMAIL_DOMAIN, DataFactory
from cstar_conformance.model import Violation
from cstar_conformance.observer import ModelViolation, Observer
from cstar_conformance.release import Held, release_together
from cstar_conformance.session import family
from cstar_conformance.webhooks import FAILING, SLOW, Receiver

FAMILY = "exploration"
# Requests per profile: what the exploration may spend finding a violation, and shrinking one it found.
BUDGETS: dict[str, tuple[int, int]] = {"smoke": (6, 10), "gate": (6, 40), "thorough": (110, 60)}
STEPS = 30


class ShrinkBudgetSpent(BaseException):  # noqa: N818 - a stop, like BudgetExhausted
    """The shrinking's requests are spent: the shortest failing sequence seen so far is the report."""


@dataclass
class Explorer:
    """What every example of the machine shares: clients, the model's observer, the budget, the best failure."""

    api: ApiClient
    other: ApiClient | None
    factory: DataFactory
    observer: Observer
    receiver: Receiver | None
    budget: int
    shrink_budget: int
    token: str  # in every name and address the exploration makes: `search=token` finds exactly its records
    spent: int = 0
    failing: bool = False
    best: tuple[list[str], list[Violation]] | None = None
    sick: set[str] = field(default_factory=set)  # the kinds of misbehaving endpoint registered so far
    listening: bool = False  # the registration that hears every event is made
    hooks: dict[str, ApiClient] = field(default_factory=dict)  # registrations made, by the client of their team

    def unsubscribe_all(self) -> None:
        """Deregister what the exploration registered, so that its endpoints (a slow one, a failing one) hear
        nothing of later checks' writes; the run's cleanup would delete them anyway, later."""
        with family(FAMILY):
            for hook, client in list(self.hooks.items()):
                response = client.delete(f"/webhooks/{hook}")
                if response.status_code in (200, 202, 204, 404):
                    self.factory.forget("webhook", hook)
                del self.hooks[hook]
    _count: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def unique(self) -> str:
        return f"{self.token}{next(self._count)}"

    def affordable(self, requests: int = 1) -> bool:
        """Whether a step may send `requests` more; once a failure is being shrunk, its own budget applies."""
        if self.failing:
            if self.spent + requests > self.budget + self.shrink_budget:
                raise ShrinkBudgetSpent()
            return True
        return self.spent + requests <= self.budget

    def report(self) -> str:
        assert self.best is not None
        steps, violations = self.best
        lines = [v.render() for v in violations[:6]]
        lines += [f"shortest failing sequence seen ({len(steps)} requests, keys masked):", *steps]
        return "\n".join(lines)


def machine(explorer: Explorer) -> type[RuleBasedStateMachine]:
    x = explorer

    class Exploration(RuleBasedStateMachine):
        customers = Bundle("customers")
        tickets = Bundle("tickets")
        webhooks = Bundle("webhooks")

        def __init__(self) -> None:
            super().__init__()
            self.log: list[str] = []
            self.known: dict[str, dict[str, Any]] = {}  # id → the customer as last answered
            self.mark = len(x.observer.violations)

        # ------------------------------------------------------------------------------ plumbing

        def send(self, client: ApiClient, method: str, path: str, body: Any = None, **kw: Any) -> Any:
            if not x.affordable():
                return None
            x.spent += 1
            with family(FAMILY):
                response = client.request(method, path, json_body=body, **kw)
            self._log()
            return response

        def _log(self) -> None:
            label = x.observer.last_label
            if label:
                self.log.append(label)

        def track(self, kind: str, response: Any, client: ApiClient) -> str | None:
            if response is None or not 200 <= response.status_code < 300:
                return None
            x.factory.track_response(kind, response, client)
            try:
                data = response.json()["data"]
            except (ValueError, KeyError, TypeError):
                return None
            if kind == "customer" and isinstance(data, dict):
                self.known[str(data.get("id"))] = data
            return str(data.get("id")) if isinstance(data, dict) and data.get("id") else None

        def teams(self) -> st.SearchStrategy[ApiClient]:
            return st.sampled_from([x.api, x.api, x.other] if x.other is not None else [x.api])

        @invariant()
        def the_model_saw_no_violation(self) -> None:
            x.observer.due()
            found = x.observer.violations[self.mark:]
            if found:
                x.failing = True
                if x.best is None or len(self.log) <= len(x.best[0]):
                    x.best = (list(self.log), list(found))
                self.mark = len(x.observer.violations)
                raise ModelViolation("\n".join(v.render() for v in found[:4]))

        # --------------------------------------------------------------------------- customers

        @initialize(target=webhooks)
        def listen(self) -> Any:
            """One registration hears every event of the exploration (made by its first example)."""
            if x.receiver is None or x.listening:
                return multiple()
            x.listening = True
            path = f"/{x.unique()}-hook"
            response = self.send(x.api, "POST", "/webhooks", {"url": x.receiver.url(path), "events": ["*"]})
            hook = self.track("webhook", response, x.api)
            if hook:
                x.hooks[hook] = x.api
            return hook or multiple()

        @rule(target=customers, client=st.data(), body=draws.customer_fields(required=True),
              shape=draws.email_shape())
        def create(self, client: Any, body: dict[str, Any], shape: str) -> Any:
            api = client.draw(self.teams())
            u = x.unique()
            body = {**body, "email": shape.format(u=u, U=u.upper())}
            if isinstance(body.get("name"), str):
                body["name"] = f"{body['name']} {x.token}"
            return self.track("customer", self.send(api, "POST", "/customers", body), api) or multiple()

        @rule(original=customers, case=st.sampled_from(["same", "upper"]))
        def create_again(self, original: str, case: str) -> None:
            known = self.known.get(original)
            if known is None or not isinstance(known.get("email"), str):
                return
            email = known["email"] if case == "same" else known["email"].upper()
            self.track("customer", self.send(x.api, "POST", "/customers", {"name": f"Twin {x.token}",
                                                                          "email": email}), x.api)

        @rule(body=draws.customer_fields(required=True), same=st.booleans())
        def create_twice_with_one_key(self, body: dict[str, Any], same: bool) -> None:
            """A create, then the same Idempotency-Key with the same body (a replay: nothing new) or another body
            (whatever the answer, the second body must not be stored as well as the first)."""
            if not x.affordable(2):
                return
            key = {"Idempotency-Key": f"{x.unique()}-key"}
            first = {**body, "email": f"{x.unique()}@{EMAIL_DOMAIN}", "name": f"Keyed {x.token}"}
            second = first if same else {**first, "email": f"{x.unique()}@{EMAIL_DOMAIN}"}
            for sent in (first, second):
                self.track("customer", self.send(x.api, "POST", "/customers", sent, headers=key), x.api)

        @rule(customer=customers)
        def read(self, customer: str) -> None:
            self.send(x.api, "GET", f"/customers/{customer}")

        @rule(customer=customers, body=draws.customer_fields(required=False), data=st.data())
        def change(self, customer: str, body: dict[str, Any], data: Any) -> None:
            if data.draw(st.integers(0, 5)) == 0 and self.known:
                other = self.known[data.draw(st.sampled_from(sorted(self.known)))]
                body["email"] = data.draw(st.sampled_from([str(other.get("email")), str(other.get("email")).upper()]))
            response = self.send(x.api, "PATCH", f"/customers/{customer}", body)
            if response is not None and response.status_code == 200:
                self.track("customer", response, x.api)

        @rule(customer=customers)
        def remove(self, customer: str) -> None:
            response = self.send(x.api, "DELETE", f"/customers/{customer}")
            if response is not None and (200 <= response.status_code < 300 or response.status_code == 404):
                x.factory.forget("customer", customer)  # gone: the cleanup need not ask again

        def tokens(self, data: Any) -> list[str]:
            """Search terms: the exploration's own token, whole addresses of either team's customers, and pieces
            (one character up) of names and addresses it made."""
            tokens = [x.token]
            for known in list(self.known.values())[-3:]:
                email = known.get("email")
                if isinstance(email, str):
                    tokens.append(email)
                for text in (known.get("name"), email):
                    if isinstance(text, str) and len(text) > 4:
                        start = data.draw(st.integers(0, len(text) - 2))
                        tokens.append(text[start:start + data.draw(st.integers(1, 12))])
            return tokens

        def query(self, data: Any) -> dict[str, str]:
            query = data.draw(draws.list_query(self.tokens(data)))
            tags = [t for c in self.known.values() for t in c.get("tags") or [] if isinstance(t, str)]
            if tags and data.draw(st.integers(0, 5)) == 0:
                query["tag"] = data.draw(st.sampled_from(tags))
            return query

        @rule(data=st.data())
        def browse(self, data: Any) -> None:
            self.send(data.draw(self.teams()), "GET", "/customers", params=self.query(data))

        @rule(data=st.data())
        def browse_at_once(self, data: Any) -> None:
            """Both teams list at one instant: neither may see the other's customers."""
            if x.other is None or not x.affordable(2):
                return
            x.spent += 2
            path = f"/customers?{urlencode(self.query(data))}"
            with family(FAMILY):
                release_together(x.api, [Held("GET", path), Held("GET", path, client=x.other)])
            self.log.append(f"# both teams listed {path} at once")

        @rule(data=st.data(), size=st.sampled_from(["1", "2", "3", "4"]))
        def walk(self, data: Any, size: str) -> None:
            """Every page of a small query, then the page after the last: the walk's completeness, the
            boundary of hasMore and the page past the end."""
            query = data.draw(draws.list_query([x.token]))
            query.update(pageSize=size, page="1")
            client = data.draw(self.teams())
            response = self.send(client, "GET", "/customers", params=query)
            try:
                total = int(response.json()["pagination"]["total"])
            except (AttributeError, ValueError, KeyError, TypeError):
                return
            last = max(1, -(-total // int(size)))
            for number in range(2, min(last + 1, 5) + 1):
                self.send(client, "GET", "/customers", params={**query, "page": str(number)})

        # ----------------------------------------------------------------------------- at once

        @rule(customer=customers, first=draws.customer_fields(required=False),
              second=draws.customer_fields(required=False))
        def change_at_once(self, customer: str, first: dict[str, Any], second: dict[str, Any]) -> None:
            if not x.affordable(2):
                return
            x.spent += 2
            with family(FAMILY):
                release_together(x.api, [Held("PATCH", f"/customers/{customer}", first),
                                         Held("PATCH", f"/customers/{customer}", second)])
            self.log.append(f"# two PATCHes of {customer} released together: {first!r:.200} / {second!r:.200}")

        @rule(copies=st.integers(2, 3))
        def create_at_once(self, copies: int) -> None:
            if not x.affordable(copies):
                return
            x.spent += copies
            u = x.unique()
            body = {"name": f"Race {x.token}", "email": f"{u}@{EMAIL_DOMAIN}"}
            with family(FAMILY):
                answers = release_together(x.api, [Held("POST", "/customers", body) for _ in range(copies)])
            for answer in answers:
                if answer is not None and 200 <= answer.status < 300:
                    data = (answer.json() or {}).get("data") or {}
                    if isinstance(data, dict) and isinstance(data.get("id"), str):
                        x.factory.track("customer", data["id"])
            self.log.append(f"# {copies} creates of {body['email']} released together")

        @rule(customer=customers)
        def tickets_at_once(self, customer: str) -> None:
            if not x.affordable(2):
                return
            x.spent += 2
            body = {"title": f"Race ticket {x.token}", "customerId": customer}
            with family(FAMILY):
                answers = release_together(x.api, [Held("POST", "/tickets", body), Held("POST", "/tickets", body)])
            for answer in answers:
                data = (answer.json() or {}).get("data") if answer is not None and answer.status < 300 else None
                if isinstance(data, dict) and isinstance(data.get("id"), str):
                    x.factory.track("ticket", data["id"], customer=customer)
            self.log.append(f"# two tickets for {customer} released together")

        # ------------------------------------------------------------------ tickets and hooks

        @rule(target=tickets, customer=customers, upper=st.integers(0, 5))
        def open_ticket(self, customer: str, upper: int) -> Any:
            customer_id = customer.upper() if upper == 0 else customer  # the same UUID, spelled in capitals
            response = self.send(x.api, "POST", "/tickets", {"title": f"Ticket {x.token}", "customerId": customer_id})
            return self.track("ticket", response, x.api) or multiple()

        @rule(ticket=tickets, how=st.sampled_from(["GET", "DELETE"]))
        def touch_ticket(self, ticket: str, how: str) -> None:
            self.send(x.api, how, f"/tickets/{ticket}")

        @rule(customer=customers)
        def tickets_of(self, customer: str) -> None:
            self.send(x.api, "GET", "/tickets", params={"customerId": customer})

        @rule(target=webhooks, events=st.lists(st.sampled_from(["customer.created", "customer.updated",
                                                                "customer.deleted", "*"]), min_size=1, max_size=2,
                                                unique=True),
              kind=st.sampled_from(["hook", "hook", "hook", FAILING.strip("-"), SLOW.strip("-")]), data=st.data())
        def subscribe(self, events: list[str], kind: str, data: Any) -> Any:
            """A registration of either team: mostly a healthy endpoint; one that fails or answers slowly now and
            then (the others' delivery bounds must hold whatever it does)."""
            if x.receiver is None:
                return multiple()
            if kind != "hook":
                if kind in x.sick:
                    kind = "hook"  # one misbehaving endpoint of each kind per run: a delay, not an overload
                x.sick.add(kind)
            client = data.draw(self.teams())
            response = self.send(client, "POST", "/webhooks", {"url": x.receiver.url(f"/{x.unique()}-{kind}"),
                                                                "events": events})
            hook = self.track("webhook", response, client)
            if hook:
                x.hooks[hook] = client
            return hook or multiple()

        @rule(hook=webhooks, data=st.data())
        def unsubscribe(self, hook: str, data: Any) -> None:
            """The owner deletes its registration — or, now and then, the other team tries to."""
            owner = x.hooks.get(hook, x.api)
            client = owner
            if x.other is not None and data.draw(st.integers(0, 4)) == 0:
                client = x.other if owner is x.api else x.api
            response = self.send(client, "DELETE", f"/webhooks/{hook}")
            if client is not owner:
                return
            x.hooks.pop(hook, None)
            if response is not None and response.status_code in (200, 204, 404):
                x.factory.forget("webhook", hook)

        # -------------------------------------------------------------------------- hostile

        @rule(customer=customers, data=st.data())
        def trespass(self, customer: str, data: Any) -> None:
            """The other team's key on this team's record, through either team's path."""
            if x.other is None:
                return
            method = data.draw(st.sampled_from(["GET", "PATCH", "DELETE"]))
            body = {"notes": f"trespass {x.token}"} if method == "PATCH" else None
            client = data.draw(st.sampled_from([x.other, x.other.with_key(x.other.api_key, x.api.team_id)]))
            self.send(client, method, f"/customers/{customer}", body)

        @rule(customer=customers, data=st.data())
        def misbehave(self, customer: str, data: Any) -> None:
            """One request from the hostile catalogue: a method, an id, a credential, a query string."""
            kind = data.draw(st.sampled_from(["method", "id", "key", "query"]))
            if kind == "method":
                method = data.draw(st.sampled_from(hostile.METHODS))
                paths = [f"/customers/{customer}"] + ([] if method in hostile.NEVER_ON_COLLECTION else ["/customers"])
                path = data.draw(st.sampled_from(paths))
                body = {"name": f"Hostile {x.token}"} if method in ("PUT", "PATCH") else None
                self.send(x.api, method, path, body)
            elif kind == "id":
                bad = data.draw(st.sampled_from(hostile.BAD_IDS))
                self.send(x.api, data.draw(st.sampled_from(["GET", "PATCH", "DELETE"])), f"/customers/{bad}",
                          {"notes": "x"} if data.draw(st.booleans()) else None)
            elif kind == "key":
                key = str(x.api.api_key)
                header = data.draw(st.sampled_from(hostile.near_misses(key) + hostile.accepted_spellings(key)))
                self.send(x.api, "GET", f"/customers/{customer}", headers={"Authorization": header})
            else:
                trick = data.draw(st.sampled_from(hostile.QUERY_TRICKS))
                self.send(x.api, "GET", f"/customers?{trick}&search={x.token}")

    return Exploration
