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
- ``customer_update``, ``routing`` (the dependencies and router every router starts from); then the routers ``customers``, ``tickets``, ``webhooks``
- ``app`` (the app factory and middleware); ``process`` (start it as a subprocess and wait for its READY
  line); ``__main__`` (the command line, which prints that line)

The package imports the application eagerly, also in a gate run that only starts it as a subprocess:
measured, leaving the import out changes what Schemathesis generates from the same seed (141 → 157
fuzzing requests of a gate run), so a lazy import would change the gate's traffic, not just its start-up.
"""

from .app import build_app
from .faults import FAULTS, Fault, FaultSet
from .modes import CHOICES, MODES, Mode, resolve
from .settings import Settings, TeamSeed, make_teams

__all__ = ["CHOICES", "FAULTS", "MODES", "Fault", "FaultSet", "Mode", "Settings", "TeamSeed", "build_app",
           "make_teams", "resolve"]
