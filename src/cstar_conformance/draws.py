"""Hypothesis strategies for the exploration: request bodies and list queries drawn mostly from what the
contract promises to accept, with the hostile catalogue (hostile.py) mixed into every field — odd strings,
wrong types, nulls, numbers past 2^53, nested values, addresses of every shape."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from cstar_conformance import hostile

STATUSES = ("active", "inactive")
SENTIMENTS = ("happy", "neutral", "frustrated", "angry")

plain_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=30)
ordinary_text = st.one_of(st.sampled_from(hostile.ORDINARY_TEXT), plain_text)
odd_text = st.sampled_from(hostile.ODD_TEXT)
wrong_type = st.sampled_from(hostile.WRONG_TYPES)


def mostly(usual: st.SearchStrategy[Any], *rare: st.SearchStrategy[Any], one_in: int = 12) -> st.SearchStrategy[Any]:
    """`usual`, and one time in `one_in` one of `rare` (so that most requests reach the logic behind
    validation, and every odd value still comes up in a run)."""
    if not rare:
        return usual
    return st.integers(0, one_in - 1).flatmap(lambda n: st.one_of(*rare) if n == 0 else usual)


def text_value() -> st.SearchStrategy[Any]:
    """A string field: ordinary mostly; odd strings and wrong types now and then."""
    return mostly(ordinary_text, odd_text, wrong_type)


custom_value = mostly(st.one_of(st.sampled_from(hostile.ORDINARY_VALUES), ordinary_text, st.integers(-10**6, 10**6),
                                st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False).filter(lambda f: f != 0)),
                      st.sampled_from(hostile.ODD_VALUES), st.sampled_from(hostile.NESTED_VALUES), one_in=8)
custom_key = st.one_of(st.sampled_from(hostile.ORDINARY_KEYS), plain_text)
custom_fields = st.dictionaries(custom_key, custom_value, max_size=4)
tags = st.one_of(st.lists(ordinary_text, max_size=4), st.lists(st.sampled_from(["a", "b", "vip"]), max_size=5),
                 st.lists(text_value(), max_size=3))  # repeated values: kept or collapsed (TAGS-DUPLICATES)


def email_shape() -> st.SearchStrategy[str]:
    """A format for an address around the run's unique token `{u}`: ordinary mostly."""
    return mostly(st.sampled_from(hostile.ORDINARY_EMAIL_SHAPES), st.sampled_from(hostile.ODD_EMAIL_SHAPES),
                  st.sampled_from(hostile.INVALID_EMAIL_SHAPES), one_in=6)


@st.composite
def customer_fields(draw: Any, *, required: bool) -> dict[str, Any]:
    """The body of a create (`required`: name and email always there; the email is filled in by the caller)
    or a PATCH (any subset, `{}` included)."""
    body: dict[str, Any] = {}
    if required or draw(st.booleans()):
        body["name"] = draw(mostly(text_value(), st.just("   ")))
    optional = {
        "status": mostly(st.sampled_from(STATUSES), st.sampled_from(["Active", "archived", "", None])),
        "sentiment": mostly(st.sampled_from(SENTIMENTS), st.sampled_from(["HAPPY", "meh", None])),
        "tags": mostly(tags, st.just(None), wrong_type),
        "notes": mostly(text_value(), st.just(None), st.just("")),
        "customFields": mostly(custom_fields, st.just(None), wrong_type),
    }
    for name, strategy in optional.items():
        if draw(st.integers(0, 2)) == 0:
            body[name] = draw(strategy)
    if not required and draw(st.integers(0, 9)) == 0:
        body[draw(st.sampled_from(["id", "ticketCount", "createdAt", "favouriteColour"]))] = draw(
            st.sampled_from([0, 99, "2001-01-01T00:00:00Z", "teal"]))
    return body


@st.composite
def list_query(draw: Any, tokens: list[str]) -> dict[str, str]:
    """A list query narrowed to the exploration's own records (its token, or part of a name or address it
    made), with filters and page parameters — legal mostly, odd now and then."""
    query: dict[str, str] = {"search": draw(st.sampled_from(tokens))}
    if draw(st.integers(0, 2)) == 0:
        query["status"] = draw(mostly(st.sampled_from(STATUSES), st.sampled_from(["archived", ""]), one_in=6))
    if draw(st.integers(0, 2)) == 0:
        query["sentiment"] = draw(mostly(st.sampled_from(SENTIMENTS), st.sampled_from(["Happy", ""]), one_in=6))
    if draw(st.booleans()):
        query["pageSize"] = draw(mostly(st.sampled_from(["1", "2", "3", "5", "100", "101"]),
                                        st.sampled_from(hostile.PAGE_VALUES), one_in=6))
    if draw(st.booleans()):
        query["page"] = draw(mostly(st.sampled_from(["1", "2", "3", "50"]), st.sampled_from(hostile.PAGE_VALUES),
                                    one_in=6))
    return query
