"""The contract a clone can read (docs/contract.md) is generated from the rules catalogue and current."""

from __future__ import annotations

from cstar_conformance.rules import RULES
from cstar_conformance.selfcheck import contract_doc


def test_docs_contract_md_is_generated_from_the_catalogue_and_current() -> None:
    text = contract_doc.render()
    assert all(f"`{rule.id}`" in text for rule in RULES)
    current = contract_doc.OUTPUT.read_text(encoding="utf-8") if contract_doc.OUTPUT.exists() else ""
    assert current == text, "docs/contract.md is not current: run `make contract-doc` and commit it"


def test_every_rule_has_a_full_statement() -> None:
    short = [rule.id for rule in RULES if len(rule.statement) < 40 or not rule.statement.endswith((".", ")"))]
    assert not short, short
