"""The embedded reference implementation of the cStar Customers API, with its legal-variation modes
and fault switches.

Modules, by layer (a module imports only from layers above it; tests/reference/test_reference_layout.py
checks it):

- ``faults``, ``modes`` — the registries of known bugs and of legal choices (import only ``rules``)
- ``settings`` (teams, keys, mode, limits), ``storage`` (SQLAlchemy ORM models, engine, sessions)
- ``render`` — what goes on the wire: envelopes, timestamps, objects, event payloads
- ``errors`` (ApiError, the error envelope, the exception handlers), ``models`` (Pydantic request
  models), ``delivery`` (the webhook dispatcher)
- ``auth`` — keys, teams, the rate limiter, the `Caller` dependencies
- ``context`` — one server's parts wired together; read session and write unit of work dependencies
- ``writes``, ``paging``, ``idempotency`` — helpers the routers share
- ``customer_update``; then the routers ``customers``, ``tickets``, ``webhooks``
- ``app`` (the app factory and middleware); ``process`` (start it as a subprocess and wait for its READY
  line; imports no application code, so a gate run does not load the server into its own process);
  ``__main__`` (the command line, which prints that line)
"""

from importlib import import_module
from typing import Any

# Imported on first use: a gate run that only starts the reference as a subprocess (process.py) must not
# pay for importing the application (FastAPI, SQLAlchemy, Pydantic) in its own process.
_EXPORTS = {"build_app": "app", "FAULTS": "faults", "Fault": "faults", "FaultSet": "faults", "CHOICES": "modes",
            "MODES": "modes", "Mode": "modes", "resolve": "modes", "Settings": "settings", "TeamSeed": "settings",
            "make_teams": "settings"}


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{_EXPORTS[name]}"), name)


__all__ = ["CHOICES", "FAULTS", "MODES", "Fault", "FaultSet", "Mode", "Settings", "TeamSeed", "build_app",
           "make_teams", "resolve"]
