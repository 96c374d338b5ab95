"""The executable model of the contract, pure: no pytest, no HTTP. The suite's shell (`observer.py`) feeds
it every exchange and webhook delivery; it returns the violations each shows, each naming its rule ids.

    model = Model(Config(teams=[team_a, team_b], marker=run_id))
    violations = model.observe(exchange)          # one request and its answer
    violations = observe_batch(model, exchanges)  # requests that were in flight together
    violations = model.deliver(delivery)          # one webhook delivery
    violations = model.due(time.time())           # events overdue, deliveries nothing explains
"""

from cstar_conformance.model.core import Config, Model
from cstar_conformance.model.exchange import NO_BODY, NOT_JSON, Credential, Delivery, Exchange, Key, Violation
from cstar_conformance.model.linear import observe_batch

__all__ = ["NO_BODY", "NOT_JSON", "Config", "Credential", "Delivery", "Exchange", "Key", "Model", "Violation",
           "observe_batch"]
