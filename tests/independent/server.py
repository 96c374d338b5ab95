#!/usr/bin/env python3
"""Independent implementation of the cStar Customers API (stdlib only).

Run:  python server.py --port PORT [--db PATH]

Prints one JSON line with the base URL and two teams (fixed, deterministic ids and keys),
then serves on 127.0.0.1 until SIGTERM / SIGINT.
"""
from __future__ import annotations

import argparse
import hashlib
import hmac
import http.client
import json
import math
import os
import queue
import re
import secrets
import signal
import socket
import sqlite3
import sys
import threading
import time
import urllib.parse
import uuid
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# --------------------------------------------------------------------------------------------
# Fixed tenants (deterministic so the keys can be reused across runs)
# --------------------------------------------------------------------------------------------
TEAMS = [
    {
        "teamId": "5f0c2e8a-3d4b-4c6e-9a1f-7b2d8e4c6a10",
        "name": "Indep Team One",
        "secretKey": "sk_test_IndepOneSecretKeyAbCdEfGhIjKlMn01",
        "publishableKey": "pk_test_IndepOnePublishKeyAbCdEfGhIjKlM01",
    },
    {
        "teamId": "9b7e4d21-6a5c-4f3e-8d2b-1c0a9e8f7d20",
        "name": "Indep Team Two",
        "secretKey": "sk_test_IndepTwoSecretKeyAbCdEfGhIjKlMn02",
        "publishableKey": "pk_test_IndepTwoPublishKeyAbCdEfGhIjKlM02",
    },
]
KEYS: dict[str, tuple[str, str]] = {}  # key -> (teamId, "secret"|"publishable")
for _t in TEAMS:
    KEYS[_t["secretKey"]] = (_t["teamId"], "secret")
    KEYS[_t["publishableKey"]] = (_t["teamId"], "publishable")
TEAM_IDS = {t["teamId"] for t in TEAMS}

API_PREFIX = "/api/v1"
MAX_BODY = 1024 * 1024  # bytes; larger bodies -> 413
MAX_STR = 255  # longer strings are rejected (contract: MAY)
MAX_EMAIL = 254
STATUSES = ("active", "inactive")
SENTIMENTS = ("happy", "neutral", "frustrated", "angry")
PRIORITIES = ("low", "normal", "high", "urgent")
EVENT_TYPES = ("customer.created", "customer.updated", "customer.deleted")
CUSTOMER_FIELDS = ("name", "email", "status", "sentiment", "tags", "notes", "customFields")

UUID_RE = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
HEX32_RE = re.compile(r"[0-9a-fA-F]{32}")
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
EMAIL_RE = re.compile(rf"({_ATEXT}(?:\.{_ATEXT})*)@({_LABEL}(?:\.{_LABEL})+)", re.ASCII)
AUTH_RE = re.compile(r"([A-Za-z]+)[ \t]+(.*)", re.S)

# experiment switch (not a contract choice): CSTAR_INDEP_WEBHOOK_LIST = plain (default) | paginated | 405
WEBHOOK_LIST_MODE = os.environ.get("CSTAR_INDEP_WEBHOOK_LIST", "plain")
# more experiment switches (defaults = the server's real behaviour):
EXP_DUP = os.environ.get("CSTAR_INDEP_DUP") == "1"            # deliver every event twice (at-least-once, MAY)
EXP_DELAY = float(os.environ.get("CSTAR_INDEP_DELAY", "0"))    # hold each first delivery this many seconds
EXP_NO_DELETED = os.environ.get("CSTAR_INDEP_NO_DELETED") == "1"  # do not send customer.deleted (MAY)
EXP_429_EVERY = int(os.environ.get("CSTAR_INDEP_429_EVERY", "0"))  # answer every Nth API request 429
ALT = os.environ.get("CSTAR_INDEP_ALT") == "1"  # flip the MAY choices (experiment only)
VALIDATION_STATUS = 422 if ALT else 400
WEBHOOK_TIMEOUT = 5.0  # seconds per delivery attempt
RETRY_DELAYS = (3, 20, 120)  # seconds before attempts 2, 3, 4


def now_seconds() -> int:
    return int(time.time())


def iso(ts: int) -> str:
    # one-second resolution with a "+00:00" offset (both MAY)
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def parse_iso(s: str) -> int:
    return int(datetime.strptime(s, "%Y-%m-%dT%H:%M:%S+00:00").replace(tzinfo=timezone.utc).timestamp())


def req_id() -> str:
    return "req_" + secrets.token_hex(10)


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, param: str | None = None,
                 headers: dict | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.param = param
        self.headers = headers or {}


def bad(message: str, param: str | None = None, code: str = "validation_error") -> ApiError:
    return ApiError(VALIDATION_STATUS, code, message, param)


def not_found(what: str = "resource") -> ApiError:
    return ApiError(404, "resource_missing", f"No such {what}")


# --------------------------------------------------------------------------------------------
# JSON parsing of request bodies
# --------------------------------------------------------------------------------------------
def _parse_float(s: str):
    f = float(s)
    if not math.isfinite(f):
        raise ValueError("number out of range")
    return f


def _parse_constant(s: str):
    raise ValueError(f"{s} is not valid JSON")


def parse_json_body(raw: bytes):
    if not raw or not raw.strip():
        raise bad("Request body must be a JSON object", code="invalid_json")
    try:
        obj = json.loads(raw, parse_float=_parse_float, parse_constant=_parse_constant)
        # reject lone surrogates and the like: everything we store must re-encode as UTF-8
        json.dumps(obj, ensure_ascii=False).encode("utf-8")
    except ApiError:
        raise
    except Exception:  # ValueError, UnicodeError, RecursionError, ...
        raise bad("Request body is not valid JSON", code="invalid_json")
    return obj


def require_object(obj) -> dict:
    if not isinstance(obj, dict):
        raise bad("Request body must be a JSON object", code="invalid_body")
    return obj


# --------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------
def check_str(value, param: str, allow_empty: bool = True, max_len: int = MAX_STR) -> str:
    if type(value) is not str:
        raise bad(f"'{param}' must be a string", param)
    if not allow_empty and value == "":
        raise bad(f"'{param}' must not be empty", param)
    if len(value) > max_len and not (ALT and max_len == MAX_STR):
        raise bad(f"'{param}' must be at most {max_len} characters", param)
    return value


def check_name(value) -> str:
    check_str(value, "name", allow_empty=False)
    if not value.strip() and not ALT:
        raise bad("'name' must not be blank", "name")
    return value


def check_email(value) -> str:
    if type(value) is not str:
        raise bad("'email' must be a string", "email")
    if len(value) > MAX_EMAIL:
        raise bad("'email' is too long", "email")
    m = EMAIL_RE.fullmatch(value)
    if not m or len(m.group(1)) > 64:
        raise bad("'email' must be a valid email address", "email")
    return value


def email_key(email: str) -> str:
    return email.lower()


def check_enum(value, param: str, allowed: tuple, default: str) -> str:
    if value is None:
        return default
    if type(value) is not str or value not in allowed:
        raise bad(f"'{param}' must be one of: {', '.join(allowed)}", param)
    return value


def check_tags(value) -> list:
    if value is None:
        return []
    if type(value) is not list:
        raise bad("'tags' must be an array of strings", "tags")
    out: list[str] = []
    seen: set[str] = set()
    for t in value:
        check_str(t, "tags")
        if t not in seen:  # duplicates collapsed, first occurrence kept (MAY)
            seen.add(t)
            out.append(t)
    return out


def check_notes(value) -> str:
    if value is None:
        return None if ALT else ""  # default "" (MAY)
    return check_str(value, "notes")


def check_cf_patch(value) -> dict | None:
    """Validates a customFields object; returns it (None values mean 'remove')."""
    if type(value) is not dict:
        raise bad("'customFields' must be an object", "customFields")
    for k, v in value.items():
        if len(k) > MAX_STR:
            raise bad("customFields keys must be at most 255 characters", "customFields")
        if v is None:
            continue
        if type(v) is str:
            if len(v) > MAX_STR:
                raise bad("customFields values must be at most 255 characters", "customFields")
        elif type(v) in (int, float, bool):
            pass
        elif ALT:
            pass
        else:
            # arrays / nested objects are rejected (MAY)
            raise bad("customFields values must be strings, numbers or booleans", "customFields")
    return value


def check_unknown(body: dict):
    if ALT:
        for k in ("status", "sentiment", "tags", "notes", "customFields"):
            if k in body and body[k] is None:
                raise bad(f"'{k}' must not be null", k)
    unknown = [k for k in body if k not in CUSTOMER_FIELDS]
    if unknown and not ALT:
        # unknown fields are rejected (MAY)
        raise bad(f"Unknown field '{unknown[0]}'", unknown[0], code="unknown_field")


def _malformed(what: str) -> ApiError:
    if ALT:
        return not_found(what)
    return ApiError(400, "invalid_id", f"Malformed {what} id", f"{what}Id")  # malformed id: 400 (MAY)


def parse_customer_id(raw: str) -> str:
    if UUID_RE.fullmatch(raw):
        return raw.lower()
    if raw.startswith("cus_") and HEX32_RE.fullmatch(raw[4:]):
        return str(uuid.UUID(raw[4:]))
    raise _malformed("customer")


def parse_ticket_id(raw: str) -> str:
    if UUID_RE.fullmatch(raw):
        return raw.lower()
    if raw.startswith("tkt_") and HEX32_RE.fullmatch(raw[4:]):
        return str(uuid.UUID(raw[4:]))
    raise _malformed("ticket")


def parse_webhook_id(raw: str) -> str:
    if raw.startswith("whk_") and HEX32_RE.fullmatch(raw[4:]):
        return raw.lower()
    raise _malformed("webhook")


def parse_page_params(q: dict) -> tuple[int, int]:
    def one(name: str, default: int) -> int:
        if name not in q:
            return default
        v = q[name]
        if not re.fullmatch(r"[0-9]+", v) or len(v) > 4000:
            raise bad(f"'{name}' must be a positive integer", name, code="invalid_parameter")
        n = int(v)
        if n < 1:
            raise bad(f"'{name}' must be at least 1", name, code="invalid_parameter")
        return n

    page = one("page", 1)
    size = one("pageSize", 20)
    if size > 100 and ALT:
        raise bad("'pageSize' must be at most 100", "pageSize", code="invalid_parameter")
    size = min(size, 100)  # clamp (MAY)
    return page, size


# --------------------------------------------------------------------------------------------
# Store
# --------------------------------------------------------------------------------------------
class Store:
    def __init__(self, path: str):
        self.lock = threading.RLock()
        self.db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL" if path != ":memory:" else "PRAGMA journal_mode=MEMORY")
        self.db.executescript(
            """
            CREATE TABLE IF NOT EXISTS customers (
                id TEXT PRIMARY KEY, team_id TEXT NOT NULL, email_key TEXT NOT NULL,
                doc TEXT NOT NULL, UNIQUE(team_id, email_key));
            CREATE TABLE IF NOT EXISTS tickets (
                id TEXT PRIMARY KEY, team_id TEXT NOT NULL, customer_id TEXT NOT NULL,
                doc TEXT NOT NULL);
            CREATE INDEX IF NOT EXISTS tickets_customer ON tickets(customer_id);
            CREATE TABLE IF NOT EXISTS webhooks (
                id TEXT PRIMARY KEY, team_id TEXT NOT NULL, doc TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS idempotency (
                scope TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, status INTEGER NOT NULL,
                body BLOB, created INTEGER NOT NULL);
            """
        )

    def tx(self):
        return _Tx(self.db)

    # customers
    def get_customer(self, team: str, cid: str) -> dict | None:
        row = self.db.execute("SELECT doc FROM customers WHERE id=? AND team_id=?", (cid, team)).fetchone()
        return json.loads(row[0]) if row else None

    def customer_by_email(self, team: str, email: str) -> dict | None:
        row = self.db.execute("SELECT doc FROM customers WHERE team_id=? AND email_key=?",
                              (team, email_key(email))).fetchone()
        return json.loads(row[0]) if row else None

    def team_customers(self, team: str) -> list[dict]:
        order = "rowid DESC" if ALT else "id"
        rows = self.db.execute(f"SELECT doc FROM customers WHERE team_id=? ORDER BY {order}", (team,)).fetchall()
        return [json.loads(r[0]) for r in rows]

    def put_customer(self, team: str, c: dict, insert: bool):
        doc = json.dumps(c, ensure_ascii=False)
        if insert:
            self.db.execute("INSERT INTO customers(id, team_id, email_key, doc) VALUES(?,?,?,?)",
                            (c["id"], team, email_key(c["email"]), doc))
        else:
            self.db.execute("UPDATE customers SET email_key=?, doc=? WHERE id=? AND team_id=?",
                            (email_key(c["email"]), doc, c["id"], team))

    # webhooks
    def team_webhooks(self, team: str) -> list[dict]:
        rows = self.db.execute("SELECT doc FROM webhooks WHERE team_id=? ORDER BY rowid", (team,)).fetchall()
        return [json.loads(r[0]) for r in rows]


class _Tx:
    def __init__(self, db):
        self.db = db

    def __enter__(self):
        self.db.execute("BEGIN IMMEDIATE")
        return self.db

    def __exit__(self, et, ev, tb):
        if et is None:
            self.db.execute("COMMIT")
        else:
            self.db.execute("ROLLBACK")
        return False


# --------------------------------------------------------------------------------------------
# Webhook delivery
# --------------------------------------------------------------------------------------------
class Dispatcher:
    """One worker thread (and queue) per registered webhook: a slow or failing endpoint only
    delays itself. Events are enqueued under the store lock, at write time."""

    def __init__(self):
        self.lock = threading.Lock()
        self.queues: dict[str, queue.Queue] = {}
        self.active: set[str] = set()

    def start(self, hook: dict):
        with self.lock:
            if hook["id"] in self.queues:
                return
            q: queue.Queue = queue.Queue()
            self.queues[hook["id"]] = q
            self.active.add(hook["id"])
        threading.Thread(target=self._worker, args=(dict(hook), q), daemon=True,
                         name=f"webhook-{hook['id']}").start()

    def stop(self, hook_id: str):
        with self.lock:
            self.active.discard(hook_id)
            q = self.queues.pop(hook_id, None)
        if q is not None:
            q.put(None)  # events enqueued before the deletion are still delivered once

    def enqueue(self, hook_id: str, item: dict):
        if EXP_DELAY and item["attempt"] == 1 and not item.get("delayed"):
            t = threading.Timer(EXP_DELAY, self.enqueue, (hook_id, dict(item, delayed=True)))
            t.daemon = True
            t.start()
            return
        with self.lock:
            q = self.queues.get(hook_id)
        if q is not None:
            q.put(item)

    def _retry_later(self, hook_id: str, item: dict, delay: float):
        def fire():
            with self.lock:
                alive = hook_id in self.active
                q = self.queues.get(hook_id)
            if alive and q is not None:
                q.put(item)
        t = threading.Timer(delay, fire)
        t.daemon = True
        t.start()

    def _worker(self, hook: dict, q: queue.Queue):
        while True:
            item = q.get()
            if item is None:
                return
            ok = self._send(hook, item)
            if ok and EXP_DUP and item["attempt"] == 1:
                self._send(hook, dict(item, attempt=2))
            if not ok and item["attempt"] <= len(RETRY_DELAYS):
                delay = RETRY_DELAYS[item["attempt"] - 1]
                nxt = dict(item, attempt=item["attempt"] + 1)
                self._retry_later(hook["id"], nxt, delay)

    @staticmethod
    def _send(hook: dict, item: dict) -> bool:
        body: bytes = item["body"]
        t = str(int(time.time()))
        mac = hmac.new(hook["secret"].encode("utf-8"), t.encode() + b"." + body, hashlib.sha256).hexdigest()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "cStar-Webhooks/1.0 (indep)",
            "X-Signature": f"t={t},v1={mac}",
            "X-Event-Type": item["type"],
            "X-Delivery-Attempt": str(item["attempt"]),
            "X-Webhook-ID": hook["id"],
            "X-Timestamp": iso(int(t)),
            "Content-Length": str(len(body)),
            "Connection": "close",
        }
        try:
            u = urllib.parse.urlsplit(hook["url"])
            path = u.path or "/"
            if u.query:
                path += "?" + u.query
            cls = http.client.HTTPSConnection if u.scheme == "https" else http.client.HTTPConnection
            conn = cls(u.hostname, u.port, timeout=WEBHOOK_TIMEOUT)
            try:
                conn.request("POST", path, body=body, headers=headers)
                resp = conn.getresponse()
                resp.read(65536)
                return 200 <= resp.status < 300
            finally:
                conn.close()
        except Exception:
            return False


# --------------------------------------------------------------------------------------------
# Application logic
# --------------------------------------------------------------------------------------------
def customer_out(c: dict) -> dict:
    return {"object": "customer", **c}


def customer_snake(c: dict) -> dict:
    return {
        "object": "customer",
        "id": c["id"],
        "name": c["name"],
        "email": c["email"],
        "status": c["status"],
        "sentiment": c["sentiment"],
        "tags": c["tags"],
        "notes": c["notes"],
        "custom_fields": c["customFields"],
        "ticket_count": c["ticketCount"],
        "created_at": c["createdAt"],
        "updated_at": c["updatedAt"],
    }


class App:
    def __init__(self, store: Store, dispatcher: Dispatcher):
        self.store = store
        self.dispatcher = dispatcher
        with store.lock:
            for team in TEAM_IDS:
                for hook in store.team_webhooks(team):
                    dispatcher.start(hook)

    # ---- events -------------------------------------------------------------------------
    def emit(self, team: str, etype: str, customer: dict):
        """Called with the store lock held: the subscription set is the one at write time."""
        event_id = "evt_" + uuid.uuid4().hex
        payload = {
            "id": event_id,
            "object": "event",
            "type": etype,
            "created_at": iso(now_seconds()),
            "team_id": team,
            "data": {"customer": customer_snake(customer)},
        }
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        for hook in self.store.team_webhooks(team):
            if "*" in hook["events"] or etype in hook["events"]:
                self.dispatcher.enqueue(hook["id"], {"id": event_id, "type": etype, "body": body, "attempt": 1})

    # ---- customers ------------------------------------------------------------------------
    def list_customers(self, team: str, q: dict):
        page, size = parse_page_params(q)
        status = q.get("status", "")
        sentiment = q.get("sentiment", "")
        search = q.get("search", "")
        if ALT and status and status not in STATUSES:
            raise bad("invalid status filter", "status")
        if ALT and sentiment and sentiment not in SENTIMENTS:
            raise bad("invalid sentiment filter", "sentiment")
        with self.store.lock:
            rows = self.store.team_customers(team)
        matches = []
        needle = search.casefold()
        for c in rows:
            if status and c["status"] != status:  # invalid value -> no match -> empty list (MAY)
                continue
            if sentiment and c["sentiment"] != sentiment:
                continue
            if needle and needle not in c["name"].casefold() and needle not in c["email"].casefold():
                continue
            matches.append(c)
        return self._page(matches, page, size, customer_out)

    @staticmethod
    def _page(items: list, page: int, size: int, fmt):
        total = len(items)
        start = (page - 1) * size
        chunk = items[start:start + size] if start < total else []
        return 200, {
            "success": True,
            "object": "list",
            "data": [fmt(x) for x in chunk],
            "pagination": {"total": total, "page": page, "pageSize": size, "hasMore": page * size < total},
        }

    def create_customer(self, team: str, body) -> tuple[int, dict]:
        body = require_object(body)
        check_unknown(body)
        if "name" not in body or body["name"] is None:
            raise bad("'name' is required", "name", code="parameter_missing")
        if "email" not in body or body["email"] is None:
            raise bad("'email' is required", "email", code="parameter_missing")
        name = check_name(body["name"])
        email = check_email(body["email"])
        status = check_enum(body.get("status"), "status", STATUSES, "active")
        sentiment = check_enum(body.get("sentiment"), "sentiment", SENTIMENTS, "neutral")
        tags = check_tags(body.get("tags"))
        notes = check_notes(body.get("notes"))
        cf_in = body.get("customFields")
        cf = {}
        if cf_in is not None:
            cf = {k: v for k, v in check_cf_patch(cf_in).items() if v is not None}
        with self.store.lock:
            if self.store.customer_by_email(team, email):
                raise ApiError(409, "email_conflict", "A customer with this email already exists in the team",
                               "email")
            ts = iso(now_seconds())
            c = {
                "id": str(uuid.uuid4()),
                "name": name,
                "email": email,
                "status": status,
                "sentiment": sentiment,
                "tags": tags,
                "notes": notes,
                "customFields": cf,
                "ticketCount": 0,
                "createdAt": ts,
                "updatedAt": ts,
            }
            with self.store.tx():
                self.store.put_customer(team, c, insert=True)
            self.emit(team, "customer.created", c)
        return 201, {"success": True, "data": customer_out(c)}

    def get_customer(self, team: str, raw_id: str):
        cid = parse_customer_id(raw_id)
        with self.store.lock:
            c = self.store.get_customer(team, cid)
        if not c:
            raise not_found("customer")
        return 200, {"success": True, "data": customer_out(c)}

    def update_customer(self, team: str, raw_id: str, body):
        cid = parse_customer_id(raw_id)
        with self.store.lock:
            if not self.store.get_customer(team, cid):
                raise not_found("customer")
        body = require_object(body)
        check_unknown(body)
        changes: dict = {}
        cf_patch = None
        if "name" in body:
            if body["name"] is None:
                raise bad("'name' cannot be null", "name")
            changes["name"] = check_name(body["name"])
        if "email" in body:
            if body["email"] is None:
                raise bad("'email' cannot be null", "email")
            changes["email"] = check_email(body["email"])
        if "status" in body:
            changes["status"] = check_enum(body["status"], "status", STATUSES, "active")
        if "sentiment" in body:
            changes["sentiment"] = check_enum(body["sentiment"], "sentiment", SENTIMENTS, "neutral")
        if "tags" in body:
            changes["tags"] = check_tags(body["tags"])
        if "notes" in body:
            changes["notes"] = check_notes(body["notes"])
        if "customFields" in body:
            cf_patch = {} if body["customFields"] is None else check_cf_patch(body["customFields"])
            reset_cf = body["customFields"] is None
        with self.store.lock:
            c = self.store.get_customer(team, cid)
            if not c:
                raise not_found("customer")
            new = dict(c)
            new.update(changes)
            if cf_patch is not None:
                if reset_cf:
                    new["customFields"] = {}
                else:
                    merged = dict(c["customFields"])
                    for k, v in cf_patch.items():
                        if v is None:
                            merged.pop(k, None)
                        else:
                            merged[k] = v
                    new["customFields"] = merged
            if "email" in changes and email_key(changes["email"]) != email_key(c["email"]):
                other = self.store.customer_by_email(team, changes["email"])
                if other and other["id"] != cid:
                    raise ApiError(409, "email_conflict",
                                   "Another customer of the team already uses this email", "email")
            if _same(new, c):
                return 200, {"success": True, "data": customer_out(c)}  # no change: no event (MAY)
            ts = max(now_seconds(), parse_iso(c["updatedAt"]))
            new["updatedAt"] = iso(ts)
            with self.store.tx():
                self.store.put_customer(team, new, insert=False)
            self.emit(team, "customer.updated", new)
        return 200, {"success": True, "data": customer_out(new)}

    def delete_customer(self, team: str, raw_id: str):
        cid = parse_customer_id(raw_id)
        with self.store.lock:
            c = self.store.get_customer(team, cid)
            if not c:
                raise not_found("customer")
            with self.store.tx() as db:
                db.execute("DELETE FROM tickets WHERE customer_id=? AND team_id=?", (cid, team))
                db.execute("DELETE FROM customers WHERE id=? AND team_id=?", (cid, team))
            if not EXP_NO_DELETED:
                self.emit(team, "customer.deleted", c)
        if ALT:
            return 200, {"success": True, "data": None}
        return 204, None

    # ---- tickets -------------------------------------------------------------------------
    def create_ticket(self, team: str, body):
        body = require_object(body)
        title = body.get("title")
        if title is None:
            raise bad("'title' is required", "title", code="parameter_missing")
        check_str(title, "title", allow_empty=False, max_len=1000)
        if not title.strip():
            raise bad("'title' must not be blank", "title")
        priority = check_enum(body.get("priority"), "priority", PRIORITIES, "normal")
        raw_cid = body.get("customerId")
        if raw_cid is None:
            raise bad("'customerId' is required", "customerId", code="parameter_missing")
        if type(raw_cid) is not str:
            raise bad("'customerId' must be a string", "customerId")
        try:
            cid = parse_customer_id(raw_cid)
        except ApiError:
            raise bad("'customerId' is not a customer of this team", "customerId", code="invalid_customer")
        with self.store.lock:
            c = self.store.get_customer(team, cid)
            if not c:
                raise bad("'customerId' is not a customer of this team", "customerId",
                          code="invalid_customer")
            ts = iso(now_seconds())
            t = {
                "object": "ticket",
                "id": str(uuid.uuid4()),
                "title": title,
                "customerId": cid,
                "customerName": c["name"],
                "priority": priority,
                "status": "open",
                "createdAt": ts,
                "updatedAt": ts,
            }
            c = dict(c, ticketCount=c["ticketCount"] + 1)
            with self.store.tx() as db:
                db.execute("INSERT INTO tickets(id, team_id, customer_id, doc) VALUES(?,?,?,?)",
                           (t["id"], team, cid, json.dumps(t, ensure_ascii=False)))
                self.store.put_customer(team, c, insert=False)
        return 201, {"success": True, "data": t}

    def list_tickets(self, team: str, q: dict):
        page, size = parse_page_params(q)
        raw = q.get("customerId", "")
        with self.store.lock:
            if raw:
                try:
                    cid = parse_customer_id(raw)
                except ApiError:
                    cid = None
                rows = [] if cid is None else self.store.db.execute(
                    "SELECT doc FROM tickets WHERE team_id=? AND customer_id=? ORDER BY id", (team, cid)).fetchall()
            else:
                rows = self.store.db.execute("SELECT doc FROM tickets WHERE team_id=? ORDER BY id",
                                             (team,)).fetchall()
        return self._page([json.loads(r[0]) for r in rows], page, size, lambda x: x)

    def get_ticket(self, team: str, raw_id: str):
        tid = parse_ticket_id(raw_id)
        with self.store.lock:
            row = self.store.db.execute("SELECT doc FROM tickets WHERE id=? AND team_id=?", (tid, team)).fetchone()
        if not row:
            raise not_found("ticket")
        return 200, {"success": True, "data": json.loads(row[0])}

    def delete_ticket(self, team: str, raw_id: str):
        tid = parse_ticket_id(raw_id)
        with self.store.lock:
            with self.store.tx() as db:
                cur = db.execute("DELETE FROM tickets WHERE id=? AND team_id=?", (tid, team))
                if cur.rowcount == 0:
                    raise not_found("ticket")
        # ticketCount counts tickets ever opened: not lowered (MAY)
        return 204, None

    # ---- webhooks ------------------------------------------------------------------------
    def create_webhook(self, team: str, body):
        body = require_object(body)
        url = body.get("url")
        if url is None:
            raise bad("'url' is required", "url", code="parameter_missing")
        check_str(url, "url", allow_empty=False, max_len=2048)
        try:
            u = urllib.parse.urlsplit(url)
            ok = u.scheme in ("http", "https") and bool(u.hostname)
            _ = u.port  # raises on a bad port
        except ValueError:
            ok = False
        if not ok or any(ch.isspace() for ch in url):
            raise bad("'url' must be an absolute http(s) URL", "url")
        events = body.get("events")
        if events is None:
            raise bad("'events' is required", "events", code="parameter_missing")
        if type(events) is not list or not events:
            raise bad("'events' must be a non-empty array", "events")
        clean: list[str] = []
        for e in events:
            if type(e) is not str or (e != "*" and e not in EVENT_TYPES):
                raise bad(f"Unknown event type {e!r}", "events")
            if e not in clean:
                clean.append(e)
        name = body.get("name")
        if name is not None:
            check_str(name, "name")
        ts = iso(now_seconds())
        hook = {
            "object": "webhook",
            "id": "whk_" + uuid.uuid4().hex,
            "name": name,
            "url": url,
            "events": clean,
            "isActive": True,
            "secret": "whsec_" + secrets.token_urlsafe(32),
            "createdAt": ts,
            "updatedAt": ts,
        }
        with self.store.lock:
            with self.store.tx() as db:
                db.execute("INSERT INTO webhooks(id, team_id, doc) VALUES(?,?,?)",
                           (hook["id"], team, json.dumps(hook, ensure_ascii=False)))
            self.dispatcher.start(hook)
        return 201, {"success": True, "data": hook}

    def list_webhooks(self, team: str, q: dict):
        # The contract (§5) defines only registration and removal; like cStar's own webhook list,
        # this answer carries no pagination block (openapi: "pagination is documented but not required").
        with self.store.lock:
            hooks = self.store.team_webhooks(team)
        data = [{k: v for k, v in h.items() if k != "secret"} for h in hooks]
        if WEBHOOK_LIST_MODE == "paginated":  # experiment switch only
            page, size = parse_page_params(q)
            return self._page(data, page, size, lambda x: x)
        return 200, {"success": True, "object": "list", "data": data}

    def delete_webhook(self, team: str, raw_id: str):
        wid = parse_webhook_id(raw_id)
        with self.store.lock:
            with self.store.tx() as db:
                cur = db.execute("DELETE FROM webhooks WHERE id=? AND team_id=?", (wid, team))
                if cur.rowcount == 0:
                    raise not_found("webhook")
            self.dispatcher.stop(wid)
        return 204, None


def _same(a: dict, b: dict) -> bool:
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


# --------------------------------------------------------------------------------------------
# HTTP layer
# --------------------------------------------------------------------------------------------
SEG = r"([^/]+)"
ROUTES = [
    (re.compile(rf"/teams/{SEG}/customers"), "customers", ("GET", "HEAD", "POST")),
    (re.compile(rf"/teams/{SEG}/customers/{SEG}"), "customer", ("GET", "HEAD", "PATCH", "DELETE")),
    (re.compile(rf"/teams/{SEG}/tickets"), "tickets", ("GET", "HEAD", "POST")),
    (re.compile(rf"/teams/{SEG}/tickets/{SEG}"), "ticket", ("GET", "HEAD", "DELETE")),
    (re.compile(rf"/teams/{SEG}/webhooks"), "webhooks",
     ("POST",) if WEBHOOK_LIST_MODE == "405" else ("GET", "HEAD", "POST")),
    (re.compile(rf"/teams/{SEG}/webhooks/{SEG}"), "webhook", ("DELETE",)),
    (re.compile(r"/auth/whoami"), "whoami", ("GET", "HEAD")),
]
WRITE_METHODS = ("POST", "PATCH", "DELETE")


_rl_lock = threading.Lock()
_rl_count = [0]


class BodyError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "cstar-indep/1.0"
    sys_version = ""

    def version_string(self):
        return self.server_version
    timeout = 120
    app: App = None  # set in main

    def log_message(self, fmt, *args):  # quiet
        pass

    # any method name reaches dispatch (unknown ones get 405/404, never 501)
    def __getattr__(self, name: str):
        if name.startswith("do_"):
            return self.dispatch
        raise AttributeError(name)

    # JSON instead of the default HTML error page (malformed request line, huge headers, ...)
    def send_error(self, code, message=None, explain=None):
        if code >= 500:
            code = 400
        self.close_connection = True
        self._linger = True
        body = json.dumps({"success": False, "error": {"code": "bad_request",
                                                       "message": message or "Bad request"}}).encode()
        try:
            self.send_response(code, None)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD" and code >= 200 and code not in (204, 304):
                self.wfile.write(body)
        except OSError:
            pass

    def handle_expect_100(self):
        """Refuse an oversized body before the client sends it (no 100 Continue then)."""
        cl = (self.headers.get("Content-Length") or "").strip()
        if re.fullmatch(r"[0-9]+", cl) and (len(cl) > 15 or int(cl) > MAX_BODY):
            self.command = self.command or "POST"
            self.close_connection = True
            self._linger = True
            self._send_error(ApiError(413, "payload_too_large", "Request body too large"))
            return False
        return super().handle_expect_100()

    def finish(self):
        try:
            super().finish()
        finally:
            if getattr(self, "_linger", False):
                self._lingering_close()

    def _lingering_close(self):
        """After an early answer, stop sending and drain what the client still sends, so that
        closing the socket does not reset the connection under the unread answer."""
        try:
            self.connection.shutdown(socket.SHUT_WR)
            self.connection.settimeout(0.5)
            deadline = time.monotonic() + 3
            drained = 0
            while time.monotonic() < deadline and drained < 64 * MAX_BODY:
                chunk = self.connection.recv(65536)
                if not chunk:
                    break
                drained += len(chunk)
        except OSError:
            pass

    # ---- body framing ---------------------------------------------------------------------
    def _read_body(self) -> bytes:
        te = self.headers.get_all("Transfer-Encoding") or []
        if te:
            codings = [c.strip().lower() for v in te for c in v.split(",") if c.strip()]
            if not codings or codings[-1] != "chunked" or any(c != "chunked" for c in codings):
                raise BodyError(400, "Unsupported Transfer-Encoding")
            return self._read_chunked()
        cls = self.headers.get_all("Content-Length") or []
        if not cls:
            return b""
        vals = {v.strip() for v in ",".join(cls).split(",")}
        if len(vals) != 1:
            raise BodyError(400, "Conflicting Content-Length")
        v = vals.pop()
        if not re.fullmatch(r"[0-9]{1,15}", v):
            raise BodyError(400, "Invalid Content-Length")
        n = int(v)
        if n > MAX_BODY:
            raise BodyError(413, "Request body too large")
        data = self.rfile.read(n) if n else b""
        if len(data) < n:
            raise BodyError(400, "Incomplete body")
        return data

    def _read_chunked(self) -> bytes:
        body = bytearray()
        while True:
            line = self.rfile.readline(4097)
            if not line.endswith(b"\n"):
                raise BodyError(400, "Malformed chunked body")
            size_s = line.split(b";", 1)[0].strip()
            if not re.fullmatch(rb"[0-9a-fA-F]{1,8}", size_s):
                raise BodyError(400, "Malformed chunk size")
            size = int(size_s, 16)
            if size == 0:
                break
            if len(body) + size > MAX_BODY:
                raise BodyError(413, "Request body too large")
            data = self.rfile.read(size)
            if len(data) < size:
                raise BodyError(400, "Incomplete chunk")
            body += data
            crlf = self.rfile.readline(3)
            if crlf not in (b"\r\n", b"\n"):
                raise BodyError(400, "Malformed chunk terminator")
        for _ in range(100):  # trailers
            line = self.rfile.readline(4097)
            if line in (b"\r\n", b"\n", b""):
                break
        return bytes(body)

    # ---- responses ------------------------------------------------------------------------
    def _send(self, status: int, obj, headers: dict | None = None, raw: bytes | None = None):
        head_only = self.command == "HEAD"
        if status == 204:
            body = b""
        elif raw is not None:
            body = raw
        else:
            if isinstance(obj, dict):
                rid = req_id()
                obj.setdefault("requestId", rid)
                obj.setdefault("meta", {"requestId": rid, "timestamp": iso(now_seconds())})
            body = json.dumps(obj, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        if status != 204:
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if not head_only and body:
            self.wfile.write(body)
        self.wfile.flush()

    def _send_error(self, e: ApiError):
        err = {"code": e.code, "message": e.message, "type": _err_type(e.status)}
        if e.param:
            err["param"] = e.param
        self._send(e.status, {"success": False, "error": err}, e.headers)

    # ---- dispatch -------------------------------------------------------------------------
    def dispatch(self):
        try:
            self._dispatch()
        except (BrokenPipeError, ConnectionResetError, socket.timeout):
            self.close_connection = True
        except Exception as exc:  # a bug of ours; still JSON
            self.close_connection = True
            try:
                self._send(500, {"success": False, "error": {"code": "internal_error",
                                                             "message": f"{type(exc).__name__}"}})
            except Exception:
                pass

    def _dispatch(self):
        method = self.command.upper() if self.command else ""
        try:
            raw_body = self._read_body()
        except BodyError as be:
            self.close_connection = True
            self._linger = True
            code = "payload_too_large" if be.status == 413 else "bad_request"
            self._send_error(ApiError(be.status, code, be.message))
            return
        try:
            self._route(method, raw_body)
        except ApiError as e:
            self._send_error(e)

    def _route(self, method: str, raw_body: bytes):
        target = self.path
        if target.startswith("http://") or target.startswith("https://"):
            sp = urllib.parse.urlsplit(target)
            target = sp.path + ("?" + sp.query if sp.query else "")
        path, _, query = target.partition("?")
        path = path.partition("#")[0]
        if not path.startswith(API_PREFIX + "/"):
            raise ApiError(404, "not_found", "Unknown path")
        rel = path[len(API_PREFIX):]
        route = None
        for rx, name, methods in ROUTES:
            m = rx.fullmatch(rel)
            if m:
                route = (name, methods, [urllib.parse.unquote(g, errors="replace") for g in m.groups()])
                break
        if route is None:
            raise ApiError(404, "not_found", "Unknown path")
        name, methods, params = route
        allow = ", ".join(list(methods) + ["OPTIONS"])
        if method == "OPTIONS":
            self._send(204, None, {
                "Allow": allow,
                "Access-Control-Allow-Origin": "*",
                "Access-Control-Allow-Methods": allow,
                "Access-Control-Allow-Headers": "Authorization, Content-Type, Idempotency-Key",
                "Access-Control-Max-Age": "600",
            })
            return
        if ALT and method not in methods:
            self._auth()
        if method not in methods:
            raise ApiError(405, "method_not_allowed", f"Method {method} is not allowed on this path",
                           headers={"Allow": allow})

        team_id, kind = self._auth()
        if EXP_429_EVERY:
            with _rl_lock:
                _rl_count[0] += 1
                hit = _rl_count[0] % EXP_429_EVERY == 0
            if hit:
                raise ApiError(429, "rate_limit_exceeded", "Too many requests", headers={"Retry-After": "1"})
        if name != "whoami":
            path_team = params[0]
            if path_team != team_id:
                if ALT:
                    raise ApiError(403, "team_access_denied", "This key does not belong to this team")
                raise ApiError(404, "team_not_found", "No such team")  # cross-team: 404 (MAY)
            params = params[1:]
        if method in WRITE_METHODS and kind != "secret":
            raise ApiError(403, "publishable_key_write", "Publishable keys are read-only")

        q = _parse_query(query)
        app = self.app
        idem = self.headers.get("Idempotency-Key")
        if method in ("POST", "PATCH") and idem:
            self._idempotent(team_id, method, path, idem, raw_body,
                             lambda: self._invoke(app, name, method, team_id, params, q, raw_body))
            return
        status, obj = self._invoke(app, name, method, team_id, params, q, raw_body)
        self._send(status, obj)

    def _invoke(self, app: App, name, method, team, params, q, raw_body):
        if name == "whoami":
            return 200, {"success": True, "data": {"teamId": team, "keyType": "secret", "environment": "test"}}
        if name == "customers":
            if method == "POST":
                return app.create_customer(team, parse_json_body(raw_body))
            return app.list_customers(team, q)
        if name == "customer":
            if method == "PATCH":
                return app.update_customer(team, params[0], parse_json_body(raw_body))
            if method == "DELETE":
                return app.delete_customer(team, params[0])
            return app.get_customer(team, params[0])
        if name == "tickets":
            if method == "POST":
                return app.create_ticket(team, parse_json_body(raw_body))
            return app.list_tickets(team, q)
        if name == "ticket":
            if method == "DELETE":
                return app.delete_ticket(team, params[0])
            return app.get_ticket(team, params[0])
        if name == "webhooks":
            if method == "POST":
                return app.create_webhook(team, parse_json_body(raw_body))
            return app.list_webhooks(team, q)
        if name == "webhook":
            return app.delete_webhook(team, params[0])
        raise ApiError(404, "not_found", "Unknown path")

    def _idempotent(self, team, method, path, key, raw_body, run):
        try:
            canon = json.dumps(json.loads(raw_body), sort_keys=True)
        except Exception:
            canon = raw_body.decode("utf-8", "replace")
        scope = hashlib.sha256(f"{team}\0{method}\0{path}\0{key}".encode("utf-8", "replace")).hexdigest()
        fp = hashlib.sha256(canon.encode("utf-8", "replace")).hexdigest()
        store = self.app.store
        with store.lock:  # serialises replays of one key with the first request
            row = store.db.execute("SELECT fingerprint, status, body FROM idempotency WHERE scope=?",
                                   (scope,)).fetchone()
            if row:
                if row[0] != fp:
                    raise ApiError(409, "idempotency_key_reused",
                                   "This Idempotency-Key was used with a different request body")
                self._send(row[1], None, {"Idempotent-Replayed": "true"}, raw=row[2])
                return
            status, obj = run()
            rid = req_id()
            obj.setdefault("requestId", rid)
            obj.setdefault("meta", {"requestId": rid, "timestamp": iso(now_seconds())})
            body = json.dumps(obj, ensure_ascii=False).encode("utf-8")
            store.db.execute("INSERT INTO idempotency(scope, fingerprint, status, body, created) VALUES(?,?,?,?,?)",
                             (scope, fp, status, body, now_seconds()))
        self._send(status, None, raw=body)

    def _auth(self) -> tuple[str, str]:
        hdr = self.headers.get_all("Authorization") or []
        if len(hdr) != 1:
            raise ApiError(401, "authentication_required", "Missing or ambiguous Authorization header",
                           headers={"WWW-Authenticate": 'Bearer realm="cstar"'})
        v = hdr[0].strip(" \t")
        m = AUTH_RE.fullmatch(v)
        if not m or m.group(1).lower() != "bearer":
            raise ApiError(401, "authentication_required", "Authorization must be 'Bearer <key>'",
                           headers={"WWW-Authenticate": 'Bearer realm="cstar"'})
        key = m.group(2)
        found = KEYS.get(key)
        if not found:
            raise ApiError(401, "invalid_api_key", "Unknown API key",
                           headers={"WWW-Authenticate": 'Bearer realm="cstar", error="invalid_token"'})
        return found


def _err_type(status: int) -> str:
    return {401: "authentication_error", 403: "authorization_error", 404: "not_found_error",
            429: "rate_limit_error"}.get(status, "invalid_request_error")


def _parse_query(query: str) -> dict:
    out: dict[str, str] = {}
    try:
        pairs = urllib.parse.parse_qsl(query, keep_blank_values=True, errors="replace")
    except Exception:
        pairs = []
    for k, v in pairs:
        out.setdefault(k, v)  # the first occurrence wins
    return out


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def handle_error(self, request, client_address):  # no tracebacks on stderr for resets
        pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=8080)
    ap.add_argument("--db", default=":memory:")
    args = ap.parse_args()

    store = Store(args.db)
    app = App(store, Dispatcher())
    Handler.app = app
    httpd = Server(("127.0.0.1", args.port), Handler)
    port = httpd.server_address[1]
    print(json.dumps({
        "baseUrl": f"http://127.0.0.1:{port}{API_PREFIX}",
        "teams": [{"teamId": t["teamId"], "name": t["name"], "secretKey": t["secretKey"],
                   "publishableKey": t["publishableKey"]} for t in TEAMS],
    }), flush=True)

    def stop(signum, frame):
        threading.Thread(target=httpd.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        httpd.serve_forever(poll_interval=0.2)
    finally:
        httpd.server_close()
        try:
            store.db.close()
        except Exception:
            pass
    sys.exit(0)


if __name__ == "__main__":
    main()
