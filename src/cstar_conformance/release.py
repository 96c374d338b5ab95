"""Requests released at one instant: each is written on its own connection but for its last byte, then
every last byte goes out together, so the server starts them all as close to simultaneously as the network
allows (the technique of "single-packet" race testing). The answers are read with h11. Each request is
counted and held to the run's budget like any other, and the contract model judges them as one batch: some
serial order must explain every answer."""

from __future__ import annotations

import json
import socket
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import h11

from cstar_conformance import network
from cstar_conformance.client import ApiClient, Exchange, operation_of
from cstar_conformance.traffic import retry_hint

TIMEOUT = 15.0


@dataclass
class Held:
    """One request to release with the others."""

    method: str
    path: str
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    client: ApiClient | None = None  # whose key and team (default: the one `release_together` is given)


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


def _connect(client: ApiClient, url: str) -> socket.socket:
    """The client's own trust and the environment's proxy, as every other request of the suite has them."""
    return network.connect(url, client.trust, TIMEOUT)


def _wire(client: ApiClient, held: Held) -> tuple[h11.Connection, bytes, dict[str, str], bytes | None]:
    """The whole request on the wire (head, body, end), with the connection that reads its answer."""
    conn, data, headers, body = _head(client, held)
    if body:
        data += conn.send(h11.Data(data=body))
    return conn, data + conn.send(h11.EndOfMessage()), headers, body


def _head(client: ApiClient, held: Held) -> tuple[h11.Connection, bytes, dict[str, str], bytes | None]:
    """The request's head alone, its headers and its body (not sent yet)."""
    url = urlsplit(client.url(held.path))
    body = json.dumps(held.body).encode() if held.body is not None else None
    headers = {"Host": url.netloc, "Accept": "application/json", "Accept-Encoding": "identity",
               "Connection": "close", **held.headers}
    if client.api_key is not None and "Authorization" not in headers:
        headers["Authorization"] = f"Bearer {client.api_key}"
    if body is not None:
        headers.setdefault("Content-Type", "application/json")
        headers["Content-Length"] = str(len(body))
    conn = h11.Connection(h11.CLIENT)
    target = url.path + (f"?{url.query}" if url.query else "")
    return conn, conn.send(h11.Request(method=held.method, target=target, headers=list(headers.items()))), headers, body


def _header_map(raw: Any) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in raw}


def _operation(client: ApiClient, held: Held) -> str:
    return operation_of(client._http.build_request(held.method, client.url(held.path)))


def _read(sock: socket.socket, conn: h11.Connection, status: int = 0, headers: dict[str, str] | None = None) -> Answer:
    """The answer; `status` and `headers` when its head was read already (`_early_answer`)."""
    headers, body = headers or {}, b""
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA:
            network.quick_ack(sock)
            conn.receive_data(sock.recv(65536))
            continue
        if isinstance(event, h11.Response):
            status, headers = event.status_code, _header_map(event.headers)
        elif isinstance(event, h11.Data):
            body += bytes(event.data)
        elif isinstance(event, h11.EndOfMessage | h11.ConnectionClosed):
            return Answer(status, headers, body)


def release_together(client: ApiClient, requests: list[Held], family: str = "exploration",
                     stagger: float = 0.0) -> list[Answer | None]:
    """Send `requests` at one instant — or each `stagger` seconds after the one before, to land a request while
    the one before is being served; their answers in the same order (None where none came). A 429 answer
    is waited out and that request sent again on its own."""
    traffic, observer = client.traffic, client.observer
    clients = [held.client or client for held in requests]
    wires = [_wire(who, held) for who, held in zip(clients, requests, strict=True)]
    operations = [_operation(who, h) for who, h in zip(clients, requests, strict=True)]
    for operation in operations:
        traffic.checkpoint()
        traffic.budget.admit(traffic.stats, family, operation)
        traffic.throttle.wait()
    answers: list[Answer | None] = []
    with ExitStack() as stack:
        clocks = [stack.enter_context(observer.request()) if observer is not None else {} for _ in requests]
        sockets = [stack.enter_context(_connect(who, who.url(h.path)))
                   for who, h in zip(clients, requests, strict=True)]
        for sock, (_, data, _, _) in zip(sockets, wires, strict=True):
            sock.sendall(data[:-1])
        time.sleep(0.02)  # every request but its last byte is in the server's hands
        started = time.monotonic()
        for n, (sock, (_, data, _, _)) in enumerate(zip(sockets, wires, strict=True)):
            if n and stagger:
                time.sleep(stagger)
            sock.sendall(data[-1:])
        for sock, (conn, _, _, _) in zip(sockets, wires, strict=True):
            try:
                answers.append(_read(sock, conn))
            except (OSError, h11.RemoteProtocolError):
                answers.append(None)
        seconds = time.monotonic() - started
        for who, held, (_, _, headers, body), answer, operation, clock in zip(
                clients, requests, wires, answers, operations, clocks, strict=True):
            traffic.stats.count(family, answer.status if answer else None, operation,
                                answer.headers if answer else None)
            _report(who, held, headers, body, answer, clock, seconds)
    return [_retried(who, held, answer) for who, held, answer in zip(clients, requests, answers, strict=True)]


CONTINUE_WAIT = 1.0  # seconds to wait for "100 Continue" before sending the body anyway (RFC 9110 §10.1.1)


def send_expecting_continue(client: ApiClient, held: Held, family: str) -> Answer | None:
    """One request with a large body, sent as RFC 9110 lets a client: `Expect: 100-continue`, the body only
    once the server says 100 (or after CONTINUE_WAIT of silence). A server that refuses the body by its
    headers (413 on Content-Length) answers before any of it is sent — so its answer is read, never lost
    to a connection closed under a body still on its way (over a slow link, a certain false alarm).
    Counted, throttled, judged by the model and attached as evidence like every other request."""
    traffic, observer = client.traffic, client.observer
    held = Held(held.method, held.path, held.body, {**held.headers, "Expect": "100-continue"}, held.client)
    conn, head, headers, body = _head(client, held)
    operation = _operation(client, held)
    traffic.checkpoint()
    traffic.budget.admit(traffic.stats, family, operation)
    traffic.throttle.wait()
    answer: Answer | None = None
    with ExitStack() as stack:
        clock = stack.enter_context(observer.request()) if observer is not None else {}
        started = time.monotonic()
        try:
            sock = stack.enter_context(_connect(client, client.url(held.path)))
            sock.sendall(head)
            answer = _early_answer(sock, conn)
            if answer is None:  # 100 Continue, or silence: the body goes
                sock.settimeout(TIMEOUT)
                sock.sendall(conn.send(h11.Data(data=body or b"")) + conn.send(h11.EndOfMessage()))
                answer = _read(sock, conn)
        except (OSError, h11.RemoteProtocolError, h11.LocalProtocolError):
            answer = None
        seconds = time.monotonic() - started
        traffic.stats.count(family, answer.status if answer else None, operation, answer.headers if answer else None)
        _report(client, held, headers, body, answer, clock, seconds)
    return _retried(client, held, answer)


def _early_answer(sock: socket.socket, conn: h11.Connection) -> Answer | None:
    """The final answer when it comes before the body is asked for; None on 100 Continue or CONTINUE_WAIT."""
    sock.settimeout(CONTINUE_WAIT)
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA:
            try:
                data = sock.recv(65536)
            except TimeoutError:
                return None
            conn.receive_data(data)
            continue
        if isinstance(event, h11.InformationalResponse):
            if event.status_code == 100:
                return None
            continue
        if isinstance(event, h11.Response):  # refused before the body: the rest of the answer as usual
            return _read(sock, conn, event.status_code, _header_map(event.headers))
        if isinstance(event, h11.ConnectionClosed):
            raise OSError("the server closed the connection before answering")


def _report(client: ApiClient, held: Held, headers: dict[str, str], body: bytes | None, answer: Answer | None,
            clock: dict[str, float], seconds: float) -> None:
    url = client.url(held.path)
    masker = client.masker
    exchange = Exchange(held.method, masker(url), masker.headers(headers), masker(body.decode()) if body else None,
                        answer.status if answer else None, masker.headers(answer.headers) if answer else {},
                        masker(answer.body.decode("utf-8", "replace")) if answer and answer.body else None, seconds)
    if client.on_exchange is not None:
        client.on_exchange(exchange)
    if client.observer is not None:
        client.observer.record(method=held.method, url=url, request_headers=headers, request_body=body,
                               status=answer.status if answer else None,
                               response_headers=answer.headers if answer else {},
                               response_body=answer.body if answer else b"", clock=clock,
                               label=f"{exchange.curl()}  # released together")


def _retried(client: ApiClient, held: Held, answer: Answer | None) -> Answer | None:
    if answer is None or answer.status != 429:
        return answer
    client.traffic.stats.note_429(retry_hint(answer.headers, answer.json))
    wait = retry_hint(answer.headers, answer.json) or 1.0
    client.traffic.budget.allow_wait(wait, held.method, 1, "exploration")
    time.sleep(wait)
    response = client.request(held.method, held.path, json_body=held.body, headers=held.headers or None)
    return Answer(response.status_code, dict(response.headers), response.content)
