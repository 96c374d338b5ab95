"""Red team, round 2: faults of §3 list: pagination, filters, search, tenant isolation of lists.

Written blind — from docs/contract.md and the reference's code only — by helpers other than round 1's, after
the suite was changed to close round 1's misses. Rows of (name, "RULE-ID,RULE-ID", description).
"""

ROWS: tuple[tuple[str, str, str], ...] = (
)
