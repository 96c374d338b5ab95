"""The embedded reference implementation of the cStar Customers API, with its legal-variation modes
and fault switches."""

from .app import build_app
from .faults import FAULTS, Fault, FaultSet
from .modes import CHOICES, MODES, Mode, resolve
from .settings import Settings, TeamSeed, make_teams

__all__ = ["CHOICES", "FAULTS", "MODES", "Fault", "FaultSet", "Mode", "Settings", "TeamSeed", "build_app",
           "make_teams", "resolve"]
