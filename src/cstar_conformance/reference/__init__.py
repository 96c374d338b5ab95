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
- ``customer_update``, ``routing`` (the dependencies every router starts from); then the routers
  ``customers``, ``tickets``, ``webhooks``
- ``app`` (the app factory and middleware); ``process`` (start it as a subprocess and wait for its READY
  line); ``__main__`` (the command line, which prints that line)

The package imports its modules on first use (PEP 562), so a run that only starts the server as a
subprocess (``process``) does not load FastAPI and SQLAlchemy for nothing (~1 s per run).
"""

from typing import Any

_EXPORTS = {"build_app": "app", "FAULTS": "faults", "Fault": "faults", "FaultSet": "faults", "CHOICES": "modes",
            "MODES": "modes", "Mode": "modes", "resolve": "modes", "Settings": "settings", "TeamSeed": "settings",
            "make_teams": "settings"}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
