"""Red team, round 1: faults of §3 delete and cascade, §4 tickets and ticketCount, §5 webhooks.

Written blind — from docs/contract.md and the reference's code only — each naming the rules it breaks and
the real-stack cause it plays. Rows of (name, "RULE-ID,RULE-ID", description); `faults.py` registers them.
"""

ROWS: tuple[tuple[str, str, str], ...] = (
)
