"""What the model is fed: one HTTP exchange as the suite saw it (who it meant to be, what it sent, what came
back, when), one webhook delivery as the receiver got it, and a violation it finds. Plain values: the shell
builds them from whatever transport made the request."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import Enum
from typing import Any
from urllib.parse import parse_qsl, urlsplit

NO_BODY: Any = type("NoBody", (), {"__repr__": lambda self: "NO_BODY"})()
NOT_JSON: Any = type("NotJson", (), {"__repr__": lambda self: "NOT_JSON"})()


class Key(Enum):
    """What the credential of a request is, as the suite meant it."""

    SECRET = "secret"  # a team's secret key, exactly
    PUBLISHABLE = "publishable"  # a team's publishable key, exactly
    NONE = "none"  # no Authorization header
    MALFORMED = "malformed"  # a header that is not `Bearer <key>`
    NEAR_MISS = "near-miss"  # Bearer and a string that extends, shortens or re-cases a valid key
    UNKNOWN = "unknown"  # Bearer and a key nobody issued


@dataclass(frozen=True)
class Credential:
    key: Key
    team: str | None = None  # the team the key belongs to (SECRET, PUBLISHABLE)

    @property
    def valid(self) -> bool:
        return self.key in (Key.SECRET, Key.PUBLISHABLE)


def parse_json(raw: bytes | None) -> Any:
    if raw is None or raw == b"":
        return NO_BODY
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return NOT_JSON


@dataclass(frozen=True, eq=False)
class Exchange:
    """One request and its answer. `path` is relative to the API root (`/teams/T/customers/ID`); times are
    the client's wall clock (`sent`, `answered`: Unix seconds) and a monotonic clock for intervals."""

    method: str
    path: str
    query: tuple[tuple[str, str], ...]
    credential: Credential
    request_headers: dict[str, str]  # lower-case names
    request_body: bytes | None
    status: int | None  # None: no answer came (timeout, connection error)
    response_headers: dict[str, str]  # lower-case names
    response_body: bytes
    sent: float
    answered: float
    sent_mono: float = 0.0
    answered_mono: float = 0.0
    label: str = ""  # how the shell names it in evidence (a curl line, secrets masked)
    seq: int = 0
    _cache: dict[str, Any] = field(default_factory=dict, compare=False, repr=False, hash=False)

    @property
    def request_json(self) -> Any:
        if "request" not in self._cache:
            self._cache["request"] = parse_json(self.request_body)
        return self._cache["request"]

    @property
    def json_typed(self) -> bool:
        """The request said its body is JSON (`application/json`, or a `+json` type)."""
        media = self.request_headers.get("content-type", "").split(";")[0].strip().lower()
        return media == "application/json" or media.endswith("+json")

    @property
    def json(self) -> Any:
        if "response" not in self._cache:
            self._cache["response"] = parse_json(self.response_body)
        return self._cache["response"]

    @property
    def segments(self) -> list[str]:
        return [s for s in self.path.split("/") if s != ""]

    def param(self, name: str) -> str | None:
        """The first value of a query parameter, or None."""
        for key, value in self.query:
            if key == name:
                return value
        return None

    def params(self, name: str) -> list[str]:
        return [value for key, value in self.query if key == name]

    def describe(self) -> str:
        query = "&".join(f"{k}={v}" for k, v in self.query)
        body = self.response_body[:300].decode("utf-8", "replace")
        return (f"{self.method} {self.path}{'?' + query if query else ''} → "
                f"{self.status if self.status is not None else 'no answer'} {body}").strip()


def split_url(url: str, root_path: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    """(path relative to the API root, query pairs) of a URL under a base whose path is `root_path`."""
    parts = urlsplit(url)
    path = parts.path
    root = root_path.rstrip("/")
    if root and path.startswith(root):
        path = path[len(root):] or "/"
    return path, tuple(parse_qsl(parts.query, keep_blank_values=True))


@dataclass(frozen=True, eq=False)
class Delivery:
    """One webhook delivery: the receiver's path (any prefix a forwarder adds already removed), headers
    (lower-case names), the raw body and the client's wall-clock time of arrival."""

    path: str
    headers: dict[str, str]
    body: bytes
    received: float
    method: str = "POST"

    @property
    def json_typed(self) -> bool:
        """The request said its body is JSON (`application/json`, or a `+json` type)."""
        media = self.request_headers.get("content-type", "").split(";")[0].strip().lower()
        return media == "application/json" or media.endswith("+json")

    @property
    def json(self) -> Any:
        return parse_json(self.body)

    def describe(self) -> str:
        return f"delivery {self.method} {self.path}: {self.body[:300].decode('utf-8', 'replace')}"


@dataclass(frozen=True)
class Violation:
    """A breach of the contract the model saw: the rules it breaks (the first is the one it states), what
    happened, and the exchanges and deliveries that show it."""

    rules: tuple[str, ...]
    message: str
    evidence: tuple[Exchange | Delivery, ...] = ()

    def render(self) -> str:
        lines = [f"[{', '.join(self.rules)}] {self.message}"]
        for item in self.evidence[:4]:
            lines.append(f"    {item.label if isinstance(item, Exchange) and item.label else item.describe()}")
        return "\n".join(lines)
