"""The legal-variation registry: every alternative is played by some mode, the matrix covers every choice."""

from __future__ import annotations

import pytest

from cstar_conformance.reference.modes import (
    BY_CHOICE,
    CHOICES,
    MODES,
    Mode,
    UnknownChoiceError,
    matrix_lines,
    resolve,
)
from cstar_conformance.rules import BY_ID, Level


def test_every_alternative_of_every_choice_is_taken_by_some_mode() -> None:
    untaken = [f"{choice.id}={alternative.id}" for choice in CHOICES for alternative in choice.alternatives
               if not alternative.below_should and not any(MODES[m][choice.id] == alternative.id for m in MODES)]
    assert not untaken, f"alternatives no mode takes: {untaken}"


def test_an_alternative_below_a_should_is_taken_by_no_mode_but_stays_playable() -> None:
    below = [(c.id, a.id) for c in CHOICES for a in c.alternatives if a.below_should]
    assert below == [("customfields-patch", "replace")]
    for choice_id, alternative_id in below:
        assert all(MODES[m][choice_id] != alternative_id for m in MODES)
        assert resolve("clean", [f"{choice_id}={alternative_id}"]).takes(choice_id, alternative_id)


def test_every_mode_maps_every_choice_and_choices_name_known_rules() -> None:
    for mapping in MODES.values():
        assert set(mapping) == set(BY_CHOICE)
    assert all(set(choice.rules) <= BY_ID.keys() for choice in CHOICES)


def test_every_may_rule_of_the_catalogue_has_a_choice() -> None:
    covered = {rule_id for choice in CHOICES for rule_id in choice.rules}
    missing = [rule.id for rule in BY_ID.values() if rule.level is Level.MAY and rule.id not in covered]
    assert not missing, f"MAY rules no choice plays: {missing}"


def test_matrix_lines_name_each_alternative_and_the_modes_that_take_it() -> None:
    lines = {line.text.split("`")[1]: line for line in matrix_lines()}
    assert set(lines) == set(BY_CHOICE)
    delete = lines["delete-answer"]
    assert delete.rules == ("DELETE-STATUS",)
    assert delete.text == ("`delete-answer`: 200 + `{id, deleted}` → clean; 204 → alt; "
                           "200 + the deleted customer → edge")
    assert "`--may customfields-patch=replace` only (legal, below the SHOULD)" in lines["customfields-patch"].text


def test_overrides_change_single_choices_and_unknown_names_are_refused() -> None:
    mode = resolve("edge", ["delete-answer=204"])
    assert mode.get("delete-answer") == "204" and mode.get("timestamps") == "seconds-z"
    assert mode.describe() == "edge (delete-answer=204)"
    for bad in (["no-such-choice=x"], ["delete-answer=205"], ["delete-answer"]):
        with pytest.raises(UnknownChoiceError):
            resolve("clean", bad)
    with pytest.raises(UnknownChoiceError):
        Mode("clean").takes("delete-answer", "205")  # a typo in the server code must not pass silently
    with pytest.raises(UnknownChoiceError):
        Mode("clean").get("delete-answers")
