"""The embedded reference implementation of the cStar Customers API, with fault switches."""

from .app import Settings, TeamSeed, build_app, make_teams
from .faults import FAULTS, Fault, FaultSet

__all__ = ["FAULTS", "Fault", "FaultSet", "Settings", "TeamSeed", "build_app", "make_teams"]
