"""The suite's exit statuses (documented in the README) and the error that ends a run with one of them.

pytest's own statuses are 0-5 (0 passed, 1 failures, 2 interrupted, 3 internal error, 4 usage error,
5 nothing collected); the suite adds its own from 10 on, one per reason a run cannot give a verdict.
"""

from __future__ import annotations

EXIT_PASSED = 0
EXIT_FAILED = 1  # a MUST failure (or a SHOULD finding with --strict)
EXIT_INTERRUPTED = 2  # Ctrl-C, SIGTERM
EXIT_USAGE = 4  # a missing, malformed or contradictory option (flag or environment)
EXIT_NO_TESTS = 5
EXIT_UNREACHABLE = 10  # the target does not answer, or does not answer as a JSON API
EXIT_CREDENTIALS = 11  # a key is refused, cannot do what its option is for, or the team is not accessible
EXIT_SPEC = 12  # the contract file is missing, unreadable or not an OpenAPI 3.1 document of this API
EXIT_PRODUCTION = 13  # a production host or live key without --allow-production
EXIT_BUDGET = 14  # the request budget, or the target's rate limit, would be exceeded
EXIT_BUSY = 15  # another run is writing the same reports folder

MEANING: dict[int, str] = {
    EXIT_PASSED: "no MUST failure",
    EXIT_FAILED: "MUST failure",
    EXIT_INTERRUPTED: "interrupted",
    3: "internal error",
    EXIT_USAGE: "usage error",
    EXIT_NO_TESTS: "no tests collected",
    EXIT_UNREACHABLE: "target unreachable or not a JSON API",
    EXIT_CREDENTIALS: "credentials refused or not fit for their option",
    EXIT_SPEC: "unusable spec",
    EXIT_PRODUCTION: "production refused",
    EXIT_BUDGET: "budget exhausted",
    EXIT_BUSY: "reports folder in use",
}


class StopRun(Exception):
    """A reason the run cannot start or go on, with the exit status that names it."""

    def __init__(self, message: str, exit_status: int) -> None:
        super().__init__(message)
        self.exit_status = exit_status
