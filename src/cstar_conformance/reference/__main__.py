"""``python -m cstar_conformance.reference``: run the reference Customers API.

Prints one ``CSTAR_REFERENCE_READY {json}`` line on stdout once the server is listening.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from types import FrameType

import uvicorn

from .app import build_app
from .faults import BY_NAME, FAULTS
from .modes import CHOICES, MODES, UnknownChoiceError, resolve
from .process import READY_PREFIX
from .settings import Settings, make_teams


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m cstar_conformance.reference",
                                     description="Run the reference cStar Customers API.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000, help="0 picks a free port")
    parser.add_argument("--db", metavar="PATH", help="SQLite file (recreated); default: a temp file")
    parser.add_argument("--fault", action="append", default=[], metavar="NAME",
                        help="enable a fault switch; repeat or comma-separate (see --list-faults)")
    parser.add_argument("--variant", choices=tuple(MODES), default="clean",
                        help="the legal-variation mode: clean, alt or edge (see --list-choices)")
    parser.add_argument("--may", action="append", default=[], metavar="CHOICE=ALTERNATIVE",
                        help="override one legal choice of the mode; repeatable (see --list-choices)")
    parser.add_argument("--rate-limit", type=int, metavar="N", help="requests per key per window")
    parser.add_argument("--rate-window", type=float, default=3600.0, metavar="SECONDS")
    parser.add_argument("--rate-headers", action="store_true",
                        help="X-RateLimit-Limit/-Remaining/-Reset/-Window on every answer (with --rate-limit)")
    parser.add_argument("--tls-cert", metavar="PEM", help="serve HTTPS with this certificate (chain) …")
    parser.add_argument("--tls-key", metavar="PEM", help="… and this private key")
    parser.add_argument("--without", action="append", default=[], choices=("tickets", "webhooks"),
                        help="serve no Tickets (or webhook registration) API, like a target that lacks it")
    parser.add_argument("--key-a", metavar="KEY", help="secret key of team A")
    parser.add_argument("--key-b", metavar="KEY", help="secret key of team B")
    parser.add_argument("--list-faults", action="store_true", help="print NAME<TAB>RULE-IDS<TAB>description")
    parser.add_argument("--list-choices", action="store_true",
                        help="print CHOICE<TAB>RULE-IDS<TAB>alternative:modes|…<TAB>description")
    return parser


def _fault_names(values: Sequence[str]) -> list[str]:
    return [name.strip() for value in values for name in value.split(",") if name.strip()]


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, ready_line: dict[str, object]) -> None:
        super().__init__(config)
        self._ready = ready_line

    async def startup(self, sockets: list | None = None) -> None:  # type: ignore[type-arg]
        await super().startup(sockets=sockets)
        if not self.started:
            return
        port = self.servers[0].sockets[0].getsockname()[1]
        host = self.config.host
        shown = f"[{host}]" if ":" in host else host
        scheme = "https" if self.config.ssl_certfile else "http"
        ready = {"base_url": f"{scheme}://{shown}:{port}/api/v1", **self._ready}
        faults = ", ".join(ready["faults"]) or "none"  # type: ignore[arg-type]
        lines = [f"{READY_PREFIX} {json.dumps(ready)}",
                 f"cStar reference API at {ready['base_url']} — mode {ready['mode']}, faults: {faults}"]
        for team in ready["teams"]:  # type: ignore[attr-defined]
            lines.append(f"  {team['name']}: id {team['id']}  secret {team['secret_key']}  "
                         f"publishable {team['publishable_key']}")
        print("\n".join(lines), flush=True)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        self._captured_signals.clear()  # exit cleanly instead of re-raising the signal afterwards


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.list_faults:
        for fault in FAULTS:
            print(f"{fault.name}\t{','.join(fault.rules)}\t{fault.description}")
        return 0
    if args.list_choices:
        for choice in CHOICES:
            taken = "|".join(f"{a.id}:{','.join(m for m in MODES if MODES[m][choice.id] == a.id) or '-'}"
                             for a in choice.alternatives)
            print(f"{choice.id}\t{','.join(choice.rules)}\t{taken}\t{choice.description}")
        return 0
    try:
        mode = resolve(args.variant, args.may)
    except UnknownChoiceError as exc:
        print(f"{exc}; see --list-choices", file=sys.stderr)
        return 2
    faults = _fault_names(args.fault)
    unknown = sorted(set(faults) - BY_NAME.keys())
    if unknown:
        print(f"unknown fault(s): {', '.join(unknown)}; valid faults: {', '.join(sorted(BY_NAME))}",
              file=sys.stderr)
        return 2
    if args.rate_limit is not None and args.rate_limit < 1:
        print("--rate-limit must be at least 1", file=sys.stderr)
        return 2
    settings = Settings(db_path=args.db, faults=frozenset(faults), mode=mode,
                        rate_limit=args.rate_limit, rate_window=args.rate_window, rate_headers=args.rate_headers,
                        teams=make_teams(args.key_a, args.key_b), without=frozenset(args.without))
    app = build_app(settings)
    ready = {"teams": [team.as_json() for team in settings.teams], "faults": sorted(settings.faults),
             "variant": mode.name, "may": dict(mode.overrides), "mode": mode.describe(),
             "choices": mode.choices()}
    if bool(args.tls_cert) != bool(args.tls_key):
        print("--tls-cert and --tls-key go together", file=sys.stderr)
        return 2
    config = uvicorn.Config(app, host=args.host, port=args.port, log_level="warning", access_log=False,
                            lifespan="on", ssl_certfile=args.tls_cert, ssl_keyfile=args.tls_key)
    try:
        _Server(config, ready).run()
    finally:
        app.state.reference.close()  # idempotent; also covers a failed startup that skipped the lifespan
    return 0


if __name__ == "__main__":
    code = main()
    # Everything is closed by now (database, its temporary file, the webhook workers told to stop): skip
    # the interpreter's teardown of FastAPI, Pydantic and SQLAlchemy, ~0.4 s on every stop of the server.
    # Not under coverage.py (`make mutmut` measures each mode's lines in here): it saves at exit.
    if "coverage" in sys.modules:
        sys.exit(code)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
