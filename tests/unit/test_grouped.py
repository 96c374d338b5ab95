"""Group testing of create probes (grouped.py): merged while their fields differ, split when not accepted."""

from __future__ import annotations

from typing import Any

from cstar_conformance import grouped

LONG = {"blank name": {"name": " "}, "long name": {"name": "n" * 300}, "long notes": {"notes": "n" * 300},
        "long key": {"customFields": {"a": "v" * 300}}, "other key": {"customFields": {"b": 1}}}


def test_probes_of_different_fields_and_custom_field_keys_share_a_body_first_fit() -> None:
    assert grouped.plan(LONG) == [["blank name", "long notes", "long key", "other key"], ["long name"]]
    assert grouped.plan({"x": {"customFields": {"a": 1}}, "y": {"customFields": {"a": 2}}}) == [["x"], ["y"]]
    assert grouped.plan({"x": {"k": 1, "c": 2}, "y": {"c": 2}}) == [["x", "y"]]  # the same value is no conflict


def test_an_accepted_body_judges_each_of_its_probes_and_a_refused_one_is_split() -> None:
    sent: list[dict[str, Any]] = []

    def send(body: dict[str, Any]) -> int:
        sent.append(body)
        return 422 if "n" * 300 == body.get("notes") and len(body) > 1 else 201  # refuses the merged body only

    answers = grouped.probe(LONG, send, lambda status: status == 201)
    assert sent[0] == {"name": " ", "notes": "n" * 300, "customFields": {"a": "v" * 300, "b": 1}}
    assert len(sent) == 1 + 4 + 1  # the merged body, its four probes alone, the long name
    assert {case: status for case, (_, status) in answers.items()} == dict.fromkeys(LONG, 201)
    assert answers["other key"][0] == {"customFields": {"b": 1}}  # judged by what was sent alone


def test_a_target_that_accepts_everything_gets_one_create_per_group() -> None:
    sent: list[dict[str, Any]] = []
    answers = grouped.probe(LONG, lambda body: sent.append(body) or 201, lambda status: status == 201)
    assert len(sent) == 2 and all(status == 201 for _, status in answers.values())
    assert answers["long key"][0] is answers["blank name"][0]
