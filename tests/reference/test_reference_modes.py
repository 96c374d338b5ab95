"""Every legal choice, observed over real HTTP: for each mode (and for servers that get a mode only through
`--may` overrides) a probe per choice tells which alternative the server actually plays, and it must be the
one the registry says. Together the modes take every alternative, so every alternative is proven played."""

from __future__ import annotations

import gzip
import re
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from pytest_httpserver import HTTPServer

from cstar_conformance.reference.modes import CHOICES, MODES
from cstar_conformance.reference.process import RunningReference, start_reference

QUIET = 2.0  # no delivery for this long: no retry is coming (retries come 0.5 s and 1 s after a failure)
MAX_WAIT = 10.0


@dataclass
class Probe:
    """One server and what the probes learned from it."""

    server: RunningReference
    receiver: HTTPServer
    token: str = field(default_factory=lambda: uuid.uuid4().hex[:10])
    seen: dict[str, str] = field(default_factory=dict)

    def client(self, **kwargs: Any) -> httpx.Client:
        return self.server.client(**kwargs)

    def create(self, c: httpx.Client, **fields: Any) -> httpx.Response:
        body = {"name": f"Probe {self.token}", "email": f"p-{uuid.uuid4().hex[:12]}-{self.token}@probe.example"}
        return c.post("/customers", json=body | fields)


def _status_of(response: httpx.Response, *statuses: int) -> str:
    assert response.status_code in statuses, f"{response.request.method} {response.request.url} → " \
                                              f"{response.status_code} {response.text[:300]}"
    return str(response.status_code)


def probe_http(p: Probe) -> None:
    with p.client() as c:
        customer = p.create(c).json()["data"]
        other = p.server.team_b["id"]
        p.seen["cross-team-status"] = _status_of(c.get(f"{p.server.base_url}/teams/{other}/customers"), 403, 404)
        put = c.put(f"/customers/{customer['id']}", json={"name": "x"})
        if put.status_code == 405:
            assert {"GET", "PATCH", "DELETE"} <= set(put.headers["allow"].split(", "))
        p.seen["unknown-method"] = _status_of(put, 404, 405)
        bad_json = c.post("/customers", content=b'{"name": ', headers={"Content-Type": "application/json"})
        bad_type = c.post("/customers", json={"name": 12, "email": "x@probe.example"})
        statuses = (_status_of(bad_json, 400, 422), _status_of(bad_type, 400, 422))
        p.seen["validation-status"] = {("400", "400"): "400", ("422", "422"): "422",
                                       ("400", "422"): "mixed"}[statuses]
        listed = c.get("/customers", params={"pageSize": 1})
        body, error = c.get(f"/customers/{customer['id']}").json(), bad_type.json()["error"]
        if "meta" not in body and "object" not in body["data"] and set(error) == {"code", "message"}:
            p.seen["extra-fields"] = "none"
        elif "timestamp" in body["meta"] and "doc_url" in error and "totalPages" in listed.json()["pagination"]:
            p.seen["extra-fields"] = "everywhere"
        else:
            assert body["data"]["object"] == "customer" and "requestId" in body["meta"] and "type" in error
            p.seen["extra-fields"] = "some"
        p.seen["malformed-id"] = _status_of(c.get("/customers/not-a-uuid"), 400, 404)
        over = c.get("/customers", params={"pageSize": 101})
        p.seen["pagesize-over-100"] = "reject" if over.status_code in (400, 422) else "clamp"
        if over.status_code == 200:
            assert over.json()["pagination"]["pageSize"] == 100
        invalid = c.get("/customers", params={"status": "archived"})
        p.seen["invalid-filter"] = "reject" if invalid.status_code in (400, 422) else "empty"
        if invalid.status_code == 200:
            assert invalid.json()["data"] == [] and invalid.json()["pagination"]["total"] == 0
        empty = c.get("/customers", params={"status": "", "pageSize": 1})
        unfiltered = empty.status_code == 200 and empty.json()["pagination"]["total"] > 0
        p.seen["empty-filter"] = "no-filter" if unfiltered else "invalid"
        preflight = c.request("OPTIONS", "/customers", headers={"Authorization": ""})
        p.seen["options-answer"] = {204: "cors", 404: "404", 405: "405"}[preflight.status_code]
        head, get = c.head(f"/customers/{customer['id']}"), c.get(f"/customers/{customer['id']}")
        assert head.status_code == 200 and head.content == b"", "HEAD answers as GET, without a body"
        assert head.headers.get("content-length", "").isdigit() and get.status_code == 200


def probe_transport(p: Probe) -> None:
    with httpx.Client(timeout=10) as c:  # raw bytes as they came over the wire
        url = f"{p.server.base_url}/teams/{p.server.team_a['id']}/customers?pageSize=1"
        headers = {"Authorization": f"Bearer {p.server.team_a['secret_key']}", "Accept-Encoding": "gzip"}
        with c.stream("GET", url, headers=headers) as response:
            raw = b"".join(response.iter_raw())
        if response.headers.get("content-encoding") == "gzip":
            assert raw[:2] == b"\x1f\x8b" and gzip.decompress(raw).startswith(b'{"success":true')
            p.seen["compression"] = "gzip"
        else:
            assert raw.startswith(b'{"success":true')
            p.seen["compression"] = "none"
    host, port = re.match(r"http://([^:/]+):(\d+)", p.server.base_url).groups()  # type: ignore[union-attr]
    request = (f"GET /api/v1/teams/{p.server.team_a['id']}/customers?pageSize=1 HTTP/1.1\r\nHost: {host}\r\n"
               f"Authorization: Bearer {p.server.team_a['secret_key']}\r\nConnection: keep-alive\r\n\r\n").encode()
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(request)
        received = b""
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            chunk = sock.recv(65536)
            if not chunk:  # the server closed the connection
                break
            received += chunk
            head, _, rest = received.partition(b"\r\n\r\n")
            length = re.search(rb"(?i)content-length: (\d+)", head)
            if length and len(rest) >= int(length.group(1)):
                sock.settimeout(0.5)
                try:
                    closed = sock.recv(1) == b""
                except TimeoutError:
                    closed = False
                break
        else:
            closed = True
    says_close = re.search(rb"(?im)^connection:\s*close\s*$", received.partition(b"\r\n\r\n")[0]) is not None
    assert says_close == closed, f"Connection header and socket disagree: says close {says_close}, closed {closed}"
    p.seen["connection"] = "close" if closed else "keep-alive"


def probe_customers(p: Probe) -> None:
    with p.client() as c:
        minimal = p.create(c).json()["data"]
        p.seen["notes-default"] = "null" if minimal["notes"] is None else "empty"
        assert minimal["notes"] in (None, "")
        stamp = minimal["createdAt"]
        p.seen["timestamps"] = ("millis-z" if re.fullmatch(r".*T\d\d:\d\d:\d\d\.\d{3}Z", stamp) else
                                "micros-offset" if re.fullmatch(r".*T\d\d:\d\d:\d\d\.\d{6}\+00:00", stamp) else
                                "seconds-z" if re.fullmatch(r".*T\d\d:\d\d:\d\dZ", stamp) else stamp)
        nested = p.create(c, customFields={"list": [1, "a"], "nested": {"k": True}})
        p.seen["customfields-nested"] = "accepted" if nested.status_code == 201 else "rejected"
        if nested.status_code == 201:
            assert nested.json()["data"]["customFields"] == {"list": [1, "a"], "nested": {"k": True}}
        unknown = p.create(c, favouriteColour="teal")
        p.seen["unknown-body-fields"] = "ignored" if unknown.status_code == 201 else "rejected"
        if unknown.status_code == 201:
            assert "favouriteColour" not in unknown.json()["data"]
        notes_null, tags_null = p.create(c, notes=None).status_code, p.create(c, tags=None).status_code
        p.seen["null-optional"] = {(201, 201): "accepted", (201, 422): "notes-only", (201, 400): "notes-only",
                                   (400, 400): "rejected", (422, 422): "rejected"}[(notes_null, tags_null)]
        p.seen["whitespace-name"] = "accepted" if p.create(c, name="   ").status_code == 201 else "rejected"
        p.seen["long-strings"] = "accepted" if p.create(c, name="n" * 256).status_code == 201 else "rejected"
        merged = p.create(c, customFields={"a": 1, "b": 2}).json()["data"]
        patched = c.patch(f"/customers/{merged['id']}", json={"customFields": {"b": None, "c": 3}}).json()["data"]
        p.seen["customfields-patch"] = ("merge" if patched["customFields"] == {"a": 1, "c": 3} else
                                        "replace" if patched["customFields"] == {"c": 3} else str(patched))
        repeated = p.create(c, tags=["b", "a", "b", "c", "a"]).json()["data"]["tags"]
        p.seen["tag-duplicates"] = {("b", "a", "b", "c", "a"): "kept", ("b", "a", "c"): "collapsed"}[tuple(repeated)]
        tagged, untagged = (p.create(c, tags=[f"t-{p.token}"], name=f"Tagged {p.token}").json()["data"],
                            p.create(c, name=f"Untagged {p.token}").json()["data"])
        found = {x["id"] for x in c.get("/customers", params={"tag": f"t-{p.token}", "search": p.token,
                                                              "pageSize": 100}).json()["data"]}
        p.seen["tag-filter"] = "supported" if untagged["id"] not in found else "ignored"
        assert tagged["id"] in found
        order_token = uuid.uuid4().hex[:10]
        for name in ("Charlie", "Alice", "Bob"):
            p.create(c, name=f"{name} {order_token}")
        names = [x["name"].split()[0] for x in c.get("/customers", params={"search": order_token}).json()["data"]]
        p.seen["list-order"] = {("Charlie", "Alice", "Bob"): "oldest-first", ("Bob", "Alice", "Charlie"):
                                "newest-first", ("Alice", "Bob", "Charlie"): "by-name"}[tuple(names)]
        doomed = p.create(c).json()["data"]
        deleted = c.delete(f"/customers/{doomed['id']}")
        if deleted.status_code == 204:
            assert deleted.content == b""
            p.seen["delete-answer"] = "204"
        else:
            data = deleted.json()["data"]
            p.seen["delete-answer"] = "id-deleted" if data == {"id": doomed["id"], "deleted": True} else "object"
            if p.seen["delete-answer"] == "object":
                assert data["id"] == doomed["id"] and data["email"] == doomed["email"]


def probe_tickets(p: Probe) -> None:
    with p.client() as c:
        customer = p.create(c).json()["data"]
        p.seen["ticket-bad-customer"] = _status_of(
            c.post("/tickets", json={"title": "t", "customerId": str(uuid.uuid4())}), 400, 404, 422)
        ticket = c.post("/tickets", json={"title": "t", "customerId": customer["id"]}).json()["data"]
        p.seen["ticket-delete-answer"] = _status_of(c.delete(f"/tickets/{ticket['id']}"), 200, 204)
        count = c.get(f"/customers/{customer['id']}").json()["data"]["ticketCount"]
        p.seen["ticketcount-on-delete"] = {1: "kept", 0: "lowered"}[count]


def probe_webhooks(p: Probe) -> None:
    hook_path, failing_path = f"/hook-{p.token}", f"/fail-{p.token}"
    p.receiver.expect_request(hook_path).respond_with_data("ok")
    p.receiver.expect_request(failing_path).respond_with_data("down", status=500)
    with p.client() as c:
        hooks = [c.post("/webhooks", json={"url": p.receiver.url_for(path), "events": events}).json()["data"]["id"]
                 for path, events in ((hook_path, ["*"]), (failing_path, ["customer.created"]))]
        customer = p.create(c).json()["data"]
        assert c.patch(f"/customers/{customer['id']}", json={}).status_code == 200
        c.delete(f"/customers/{customer['id']}")
        _wait_until_quiet(p.receiver)
        for hook in hooks:
            c.delete(f"/webhooks/{hook}")
    deliveries = [(request.path, request.headers, request.get_json()) for request, _ in p.receiver.log
                  if request.path in (hook_path, failing_path)]
    ours = [(path, headers, body) for path, headers, body in deliveries
            if body["data"]["customer"]["id"] == customer["id"]]
    created = [(headers, body) for path, headers, body in ours if path == hook_path and body["type"] ==
               "customer.created"]
    assert created and len({body["id"] for _, body in created}) == 1
    p.seen["webhook-duplicates"] = {1: "once", 2: "twice"}[len(created)]
    p.seen["webhook-headers"] = "sent" if created[0][0].get("X-Event-ID") == created[0][1]["id"] else "none"
    if p.seen["webhook-headers"] == "none":
        assert all(created[0][0].get(h) is None for h in ("X-Event-ID", "X-Event-Type", "X-Delivery-Attempt"))
    types = {body["type"] for path, _, body in ours if path == hook_path}
    p.seen["patch-noop"] = "touch" if "customer.updated" in types else "quiet"
    p.seen["customer-deleted-event"] = "sent" if "customer.deleted" in types else "not-sent"
    attempts = len([body for path, _, body in ours if path == failing_path]) // len(created)  # per copy
    p.seen["webhook-retries"] = {3: "retried", 1: "not-retried"}[attempts]


def _wait_until_quiet(receiver: HTTPServer) -> None:
    started = last_change = time.monotonic()
    count = len(receiver.log)
    while time.monotonic() - last_change < QUIET and time.monotonic() - started < MAX_WAIT:
        time.sleep(0.05)
        if len(receiver.log) != count:
            count, last_change = len(receiver.log), time.monotonic()


PROBES: list[Callable[[Probe], None]] = [probe_http, probe_transport, probe_customers, probe_tickets, probe_webhooks]
PROBED = sorted(c.id for c in CHOICES if c.id != "retry-after")  # retry-after: see the test below
SERVERS = {
    # a mode by name
    **{mode: [] for mode in MODES},
    # the same mode reached only through --may overrides of another one
    **{f"{mode} by --may": ["--variant", "edge" if mode == "clean" else "clean",
                            *(a for c, alt in MODES[mode].items() for a in ("--may", f"{c}={alt}"))]
       for mode in MODES},
}


@pytest.fixture(scope="module")
def receiver() -> Iterator[HTTPServer]:
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module", params=list(SERVERS))
def observed(request: pytest.FixtureRequest, receiver: HTTPServer) -> Iterator[tuple[str, dict[str, str]]]:
    name = request.param
    args = SERVERS[name] or ["--variant", name]
    with start_reference(args) as server:
        probe = Probe(server, receiver)
        for run in PROBES:
            run(probe)
        yield name.split()[0], probe.seen


@pytest.mark.parametrize("choice", PROBED)
def test_the_server_plays_the_alternative_its_mode_names(observed: tuple[str, dict[str, str]], choice: str) -> None:
    mode, seen = observed
    assert seen.get(choice) == MODES[mode][choice], f"{choice}: {mode} should play {MODES[mode][choice]}"


@pytest.mark.parametrize("alternative", ["both", "header", "body"])
def test_a_429_says_when_to_retry_as_the_retry_after_choice_says(alternative: str) -> None:
    args = ["--rate-limit", "1", "--rate-window", "60", "--may", f"retry-after={alternative}"]
    with start_reference(args) as server, server.client() as c:
        assert c.get("/customers").status_code == 200
        limited = c.get("/customers")
    assert limited.status_code == 429 and limited.json()["error"]["code"] == "rate_limit_exceeded"
    header, body = limited.headers.get("retry-after"), limited.json()["error"].get("retryAfter")
    assert (header is not None, body is not None) == {"both": (True, True), "header": (True, False),
                                                      "body": (False, True)}[alternative]
    assert 1 <= int(header or body) <= 60


def test_replace_below_the_should_is_playable_with_may() -> None:
    with start_reference(["--may", "customfields-patch=replace"]) as server, server.client() as c:
        assert server.choices["customfields-patch"] == "replace"
        created = c.post("/customers", json={"name": "R", "email": f"r-{uuid.uuid4().hex[:8]}@probe.example",
                                             "customFields": {"a": 1, "b": 2}}).json()["data"]
        patched = c.patch(f"/customers/{created['id']}", json={"customFields": {"c": 3}})
    assert patched.json()["data"]["customFields"] == {"c": 3}
