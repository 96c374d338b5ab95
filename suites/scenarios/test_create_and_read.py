"""§2 the customer object and §3 Create / Get: defaults, shape, validation, round-trips (create, GET and
list; 255 characters outside ASCII; NUL), odd Unicode that must never give a 5xx, GET equality.

The customers of the round-trips and probes carry the `minimal` customer's email local part in their
addresses, so one search for it (proven by that customer) lists them all, and counts the refused
creates of `invalid_attempts` too."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from functools import partial
from typing import Any

import httpx
import pytest

from cstar_conformance import capabilities, expect
from cstar_conformance.client import ApiClient
from cstar_conformance.factory import EMAIL_DOMAIN, DataFactory
from cstar_conformance.session import Session
from cstar_conformance.waves import together


def _created(response: httpx.Response, rule: str) -> dict[str, Any]:
    """A 2xx success envelope around a customer of the contract's shape."""
    assert 200 <= response.status_code < 300, f"[{rule}] create must answer 2xx: {expect.describe(response)}"
    return capabilities.created(response)


# ------------------------------------------------------------------ create: status, shape, defaults


@pytest.fixture(scope="module")
def minimal(factory: DataFactory) -> tuple[dict[str, Any], httpx.Response]:
    """A create with only name and email: every other field must take its default."""
    body = factory.customer_body("minimal")
    return body, factory.post_customer(body)


@pytest.mark.rule("CREATE-2XX", "CUSTOMER-SHAPE", "ENV-SUCCESS")
def test_create_answers_2xx_with_the_full_customer(minimal: tuple[dict[str, Any], httpx.Response]) -> None:
    body, response = minimal
    customer = expect.customer(_created(response, "CREATE-2XX"))
    assert customer["name"] == body["name"] and customer["email"] == body["email"], (
        f"[CREATE-2XX] the created customer does not carry the name/email sent: {expect.describe(response)}")


@pytest.mark.rule("CREATE-201")
def test_create_answers_201(minimal: tuple[dict[str, Any], httpx.Response]) -> None:
    _, response = minimal
    assert response.status_code == 201, f"[CREATE-201] create should answer 201: {expect.describe(response)}"


@pytest.mark.rule("CREATE-DEFAULTS")
def test_create_applies_the_contract_defaults(minimal: tuple[dict[str, Any], httpx.Response]) -> None:
    _, response = minimal
    data = capabilities.created(response)
    wanted = {"status": "active", "sentiment": "neutral", "tags": [], "customFields": {}, "ticketCount": 0}
    wrong = {k: data.get(k, "<missing>") for k, v in wanted.items() if data.get(k, "<missing>") != v}
    if "notes" not in data or data["notes"] not in (None, ""):
        wrong["notes"] = data.get("notes", "<missing>")
    assert not wrong, (f"[CREATE-DEFAULTS] defaults not applied (want {wanted}, notes null or \"\"); "
                       f"got {wrong}: {expect.describe(response)}")


@pytest.mark.rule("CUSTOMER-SHAPE")
@pytest.mark.thorough("CUSTOMER-SHAPE by test_create_answers_2xx_with_the_full_customer and the model on every answer")
def test_created_and_fetched_customer_have_the_contract_shape(
        api: ApiClient, factory: DataFactory) -> None:
    customer = capabilities.create_customer(factory, "shape", status="inactive", sentiment="angry",
                                            notes="shape check", tags=[factory.tag, "vip"])
    expect.customer(customer)
    expect.customer(capabilities.read_back(api, customer["id"]))


# ------------------------------------------------------------------ get


@pytest.mark.rule("GET-EQUALS", "ENV-SUCCESS")
def test_get_returns_the_customer_as_create_returned_it(
        api: ApiClient, minimal: tuple[dict[str, Any], httpx.Response]) -> None:
    _, created = minimal
    customer = _created(created, "GET-EQUALS")
    response = api.get(f"/customers/{customer['id']}")
    got = expect.success(response)
    diffs = expect.same_customer(got, customer)
    assert not diffs, f"[GET-EQUALS] GET differs from what create returned: {diffs}: {expect.describe(response)}"


@pytest.mark.rule("GET-UNKNOWN-404", "ENV-ERROR")
def test_get_of_an_unknown_uuid_is_404_with_the_error_envelope(api: ApiClient) -> None:
    response = api.get(f"/customers/{uuid.uuid4()}")
    assert response.status_code == 404, f"[GET-UNKNOWN-404] expected 404: {expect.describe(response)}"
    expect.error(response, (404,))


@pytest.mark.rule("GET-MALFORMED-ID", "NO-5XX", "ENV-ERROR")
@pytest.mark.parametrize("raw_id", ["not-a-uuid", *(pytest.param(raw, marks=pytest.mark.thorough(
    "GET-MALFORMED-ID by this id and test_hostile_inputs' four, a real id with junk after it among them"))
    for raw in ("12345", f"{uuid.UUID(int=7)}x"))])
def test_get_of_a_malformed_id_is_404_or_400_never_5xx(api: ApiClient, raw_id: str) -> None:
    response = api.get(f"/customers/{raw_id}")
    expect.no_server_error(response)
    assert response.status_code in (400, 404), (
        f"[GET-MALFORMED-ID] a malformed id must be 404 or 400: {expect.describe(response)}")
    expect.error(response, (400, 404))


# ------------------------------------------------------------------ create validation


_OMIT = object()


def _invalid_bodies(token: str) -> dict[str, Any]:
    def body(kind: str, **fields: Any) -> dict[str, Any]:
        made: dict[str, Any] = {"name": f"Invalid {token} {kind}", "email": f"{token}-{kind}@{EMAIL_DOMAIN}"}
        made.update(fields)
        return {k: v for k, v in made.items() if v is not _OMIT}

    return {
        "missing name": body("noname", name=_OMIT),
        "missing email": body("noemail", email=_OMIT),
        "empty name": body("emptyname", name=""),
        "invalid email": body("bademail", email=f"{token}-bademail.{EMAIL_DOMAIN}"),
        "unknown status": body("status", status="archived"),
        "sentiment in another letter case": body("sentiment", sentiment="Happy"),
        "name is a number": body("name123", name=123),
        "email is a number": body("email123", email=123),
        "tags is a string": body("tagsstr", tags="x"),
        "tags holds a number": body("tagsnum", tags=[1]),
        "customFields is an array": body("cfarray", customFields=[]),
        "notes is a number": body("notes5", notes=5),
        "body is an array": [body("array")],
        "body is a number": 42,
    }


# kinds whose bug class another kind keeps in the gate (a string or a number where another type belongs)
THOROUGH_KINDS = {"email is a number": "name is a number", "notes is a number": "name is a number",
                  "tags is a string": "customFields is an array"}


def _invalid_kinds() -> list[Any]:
    return [pytest.param(kind, marks=pytest.mark.thorough(f"CREATE-VALIDATION's {kind!r} by {THOROUGH_KINDS[kind]!r}"))
            if kind in THOROUGH_KINDS else kind for kind in _invalid_bodies("x")]


@dataclass(frozen=True)
class InvalidAttempts:
    term: str  # in the email of `witness` and in the name and email of every refused body
    token: str  # only in the refused bodies
    witness: dict[str, Any]  # a customer that exists: a search for `term` that misses it is broken
    responses: dict[str, httpx.Response]


@pytest.fixture(scope="module")
def invalid_attempts(cstar: Session, factory: DataFactory, minimal: tuple[dict[str, Any], httpx.Response]
                     ) -> InvalidAttempts:
    """Every invalid create, sent once; the tests below judge the answers. Each refused body carries the
    email local part of the `minimal` customer, which then proves the search that looks for them."""
    body, created = minimal
    term = body["email"].split("@")[0]
    token = term + "x"  # only the refused bodies carry it: "-minimal-7x" is in no other record
    witness = {"id": (created.json().get("data") or {}).get("id") if 200 <= created.status_code < 300 else None,
               "email": body["email"]}
    def attempt(body: Any) -> httpx.Response:
        if isinstance(body, dict):
            return factory.post_customer(body)
        response = factory.api.request("POST", "/customers", content=json.dumps(body),
                                       headers={"Content-Type": "application/json"})
        factory.track_response("customer", response)
        return response

    # independent of one another: sent in waves (waves.py)
    responses = together({kind: partial(attempt, body) for kind, body in _invalid_bodies(token).items()
                          if cstar.profile == "thorough" or kind not in THOROUGH_KINDS})
    return InvalidAttempts(term, token, witness, responses)


@pytest.mark.rule("CREATE-VALIDATION", "ENV-ERROR", "NO-5XX")
@pytest.mark.parametrize("kind", _invalid_kinds())
def test_invalid_create_is_400_or_422_with_the_error_envelope(invalid_attempts: InvalidAttempts, kind: str) -> None:
    response = invalid_attempts.responses[kind]
    expect.no_server_error(response)
    assert response.status_code in expect.VALIDATION, (
        f"[CREATE-VALIDATION] {kind}: expected 400 or 422: {expect.describe(response)}")
    expect.error(response, expect.VALIDATION)


@pytest.mark.rule("CREATE-VALIDATION")
def test_invalid_creates_created_nothing(invalid_attempts: InvalidAttempts, term_listing: capabilities.Found) -> None:
    token = invalid_attempts.token
    made = [(c.get("name"), c.get("email")) for c in term_listing.data
            if token in str(c.get("name")) or token in str(c.get("email"))]
    assert not made, f"[CREATE-VALIDATION] refused creates left customers behind: {made}"


# ------------------------------------------------------------------ round-trips

UNICODE = "Zoë Ñúñez 🚀👩🏽‍💻 e\u0301 שלום עולם مرحبا 李小龍 Ωμέγα ∑ \u200f"
# 255 characters, most of them outside ASCII (2 and 3 bytes in UTF-8), all in the BMP (one UTF-16 unit each)
LONG_255 = ("0123456789abcdéñü中文ß" * 13)[:255]
ROUNDTRIP_FIELDS = ("name", "email", "notes", "tags", "customFields")


def _term(minimal: tuple[dict[str, Any], httpx.Response]) -> str:
    """The `minimal` customer's email local part, which every probe address of this module extends."""
    return str(minimal[0]["email"]).split("@")[0]


def _roundtrip_bodies(factory: DataFactory, term: str) -> dict[str, dict[str, Any]]:
    """Only strings (CREATE-ROUNDTRIP): custom-field numbers and booleans are CUSTOMFIELDS-TYPES' checks,
    nested values a MAY probe of their own, custom-field keys plain ASCII names (the contract says
    nothing of keys)."""
    return {
        "unicode": factory.customer_body(
            "unicode", name=f"{UNICODE} {factory.run_id}", notes=f"notes {UNICODE}\nline two\ttab",
            email=f"{term}-unicode@{EMAIL_DOMAIN}", tags=[factory.tag, UNICODE, "🏷️ emoji tag"],
            customFields={"text": UNICODE, "emoji": "🚀"}),
        "255 characters": factory.customer_body(
            "long255", name=LONG_255, notes=LONG_255, email=f"{term}-long255@{EMAIL_DOMAIN}",
            tags=[factory.tag, LONG_255], customFields={"long": LONG_255}),
    }


@pytest.fixture(scope="module")
def roundtrips(factory: DataFactory, minimal: tuple[dict[str, Any], httpx.Response],
               ) -> dict[str, tuple[dict[str, Any], httpx.Response]]:
    return {kind: (body, factory.post_customer(body))
            for kind, body in _roundtrip_bodies(factory, _term(minimal)).items()}


@pytest.fixture(scope="module")
def nul_probe(factory: DataFactory, minimal: tuple[dict[str, Any], httpx.Response],
              ) -> tuple[dict[str, Any], httpx.Response]:
    """NUL (U+0000) inside every kind of string: round-tripped, or refused with 400/422."""
    body = factory.customer_body("nul", name=f"Nul\x00{factory.run_id}", notes="before\x00after",
                                 email=f"{_term(minimal)}-nul@{EMAIL_DOMAIN}", tags=[factory.tag, "t\x00g"],
                                 customFields={"k": "v\x00w"})
    return body, factory.post_customer(body)


ODD_UNICODE = {  # (raw body; RUN stands for the probe term) — lone surrogates are legal JSON, not Unicode
    "lone surrogate": b'{"name": "Lone \\ud800 surrogate", "email": "RUN-surrogate@conformance.example"}',
    "address outside ASCII": '{"name": "Zo\u00eb", "email": "RUN-zo\u00eb@ex\u00e4mple.conformance.example"}'
                             .encode(),
}


@pytest.fixture(scope="module")
def odd_unicode(factory: DataFactory, minimal: tuple[dict[str, Any], httpx.Response]) -> dict[str, httpx.Response]:
    answers = {}
    for kind, raw in ODD_UNICODE.items():
        answers[kind] = factory.api.request("POST", "/customers", content=raw.replace(b"RUN", _term(minimal).encode()),
                                            headers={"Content-Type": "application/json"})
        factory.track_response("customer", answers[kind])
    return answers


@pytest.fixture(scope="module")
def term_listing(api: ApiClient, minimal: tuple[dict[str, Any], httpx.Response], invalid_attempts: InvalidAttempts,
                 roundtrips: dict[str, tuple[dict[str, Any], httpx.Response]],
                 nul_probe: tuple[dict[str, Any], httpx.Response],
                 odd_unicode: dict[str, httpx.Response]) -> capabilities.Found:
    """One search for the probe term once every create of the module was made; `minimal` proves it."""
    if not isinstance(invalid_attempts.witness["id"], str):
        capabilities.block("CREATE-2XX", f"the valid create of {invalid_attempts.witness['email']} failed, so no "
                                         f"known customer proves the search that lists this module's customers")
    return capabilities.search(api, invalid_attempts.term, [invalid_attempts.witness])


def _listed(found: capabilities.Found, customer_id: str) -> dict[str, Any]:
    for item in found.data:
        if isinstance(item, dict) and item.get("id") == customer_id:
            return item
    capabilities.block("SEARCH-NAME-OR-EMAIL", f"customer {customer_id} carries the searched term in its email but "
                                               f"is not listed: {expect.describe(found.response)}")


@pytest.mark.rule("CREATE-ROUNDTRIP")
@pytest.mark.parametrize("kind", ["unicode", "255 characters"])
def test_ordinary_strings_round_trip_unchanged(
        api: ApiClient, roundtrips: dict[str, tuple[dict[str, Any], httpx.Response]], kind: str,
        request: pytest.FixtureRequest) -> None:
    """From the create answer, GET and the list (one search for the module's probe term)."""
    body, response = roundtrips[kind]
    customer = _created(response, "CREATE-ROUNDTRIP")
    diffs = [f"create {d}" for d in expect.same_customer(customer, body, ROUNDTRIP_FIELDS)]
    fetched = capabilities.read_back(api, customer["id"])
    diffs += [f"GET {d}" for d in expect.same_customer(fetched, body, ROUNDTRIP_FIELDS)]
    assert not diffs, (f"[CREATE-ROUNDTRIP] {kind} values did not round-trip: {diffs}: "
                       f"{expect.describe(response)}")
    listed = _listed(request.getfixturevalue("term_listing"), customer["id"])
    diffs = [f"list {d}" for d in expect.same_customer(listed, body, ROUNDTRIP_FIELDS)]
    assert not diffs, f"[CREATE-ROUNDTRIP] {kind} values did not round-trip through the list: {diffs}"


@pytest.mark.rule("NO-5XX", "CREATE-ROUNDTRIP", "ENV-ERROR")
def test_nul_characters_are_round_tripped_or_refused_never_5xx(
        nul_probe: tuple[dict[str, Any], httpx.Response], request: pytest.FixtureRequest) -> None:
    """A NUL is a Unicode character: kept exactly (create answer and list), or refused with 400/422 — never
    a 5xx, never a string cut at the NUL."""
    body, response = nul_probe
    expect.no_server_error(response)
    if response.status_code in expect.VALIDATION:
        expect.error(response, expect.VALIDATION)
        return
    customer = _created(response, "CREATE-ROUNDTRIP")
    diffs = [f"create {d}" for d in expect.same_customer(customer, body, ROUNDTRIP_FIELDS)]
    listed = _listed(request.getfixturevalue("term_listing"), customer["id"])
    diffs += [f"list {d}" for d in expect.same_customer(listed, body, ROUNDTRIP_FIELDS)]
    assert not diffs, f"[CREATE-ROUNDTRIP] strings with a NUL were accepted but changed: {diffs}"


@pytest.mark.rule("NO-5XX", "ENV-ERROR")
@pytest.mark.parametrize("kind", list(ODD_UNICODE))
def test_lone_surrogates_and_addresses_outside_ascii_are_accepted_or_refused_never_5xx(
        odd_unicode: dict[str, httpx.Response], kind: str) -> None:
    """MAY probes: any 2xx or a 4xx with the error envelope passes."""
    response = odd_unicode[kind]
    expect.no_server_error(response)
    if 400 <= response.status_code < 500:
        expect.error(response, range(400, 500))
    else:
        assert 200 <= response.status_code < 300, f"[NO-5XX] {kind}: expected 2xx or 4xx: {expect.describe(response)}"


# ------------------------------------------------------------------ MAY latitude


UNKNOWN_FIELDS = {"unknown field": {"favouriteColour": "teal"},
                  "read-only ticketCount": {"ticketCount": 7, "favouriteColour": "teal"}}


@pytest.fixture(scope="module")
def unknown_fields(factory: DataFactory) -> dict[str, tuple[dict[str, Any], httpx.Response]]:
    """One create for both cases when it is accepted (grouped.py), each alone when it is not."""
    return factory.probe_creates("unknown", UNKNOWN_FIELDS)


@pytest.fixture(scope="module")
def read_backs() -> dict[str, dict[str, Any]]:
    return {}


@pytest.mark.rule("CREATE-VALIDATION", "CREATE-UNKNOWN-FIELDS", "ENV-ERROR")
@pytest.mark.parametrize("case", list(UNKNOWN_FIELDS))
def test_unknown_body_fields_are_ignored_or_rejected_never_stored(
        api: ApiClient, unknown_fields: dict[str, tuple[dict[str, Any], httpx.Response]], case: str,
        read_backs: dict[str, dict[str, Any]]) -> None:
    _, response = unknown_fields[case]
    expect.no_server_error(response)
    if response.status_code in expect.VALIDATION:
        expect.error(response, expect.VALIDATION)
        return
    customer = _created(response, "CREATE-VALIDATION")
    if customer["id"] not in read_backs:  # the cases of one create share its read-back
        read_backs[customer["id"]] = capabilities.read_back(api, customer["id"])
    fetched = read_backs[customer["id"]]
    for seen, where in ((customer, "create"), (fetched, "GET")):
        assert "favouriteColour" not in seen, (
            f"[CREATE-UNKNOWN-FIELDS] an unknown field was stored and echoed ({where}): {seen!r}")
        assert seen.get("ticketCount") == 0, (
            f"[CREATE-DEFAULTS] ticketCount must be 0 on create, whatever the body says ({where}): {seen!r}")


NULL_EMPTY = {"notes": (None, ""), "tags": ([],), "customFields": ({},)}


@pytest.mark.rule("NO-5XX", "CREATE-NULL-OPTIONAL", "ENV-ERROR")
@pytest.mark.parametrize("field", ["notes", *(pytest.param(field, marks=pytest.mark.thorough(
    "CREATE-NULL-OPTIONAL by null notes, on create here and on PATCH in test_read_your_writes"))
    for field in ("tags", "customFields"))])
def test_null_for_an_optional_field_is_accepted_as_empty_or_rejected(
        factory: DataFactory, field: str) -> None:
    response = factory.post_customer(factory.customer_body("null", **{field: None}))
    expect.no_server_error(response)
    if response.status_code in expect.VALIDATION:
        expect.error(response, expect.VALIDATION)
        return
    customer = _created(response, "NO-5XX")
    assert customer[field] in NULL_EMPTY[field], (
        f"[CREATE-NULL-OPTIONAL] {field}: null accepted but not stored as empty: {expect.describe(response)}")


LONG_CASES: dict[str, dict[str, Any]] = {
    "whitespace-only name": {"name": "   \t "},
    "256-character name": {"name": "n" * 256},
    "10,000-character name": {"name": "n" * 10_000},
    "10,000-character notes": {"notes": "n" * 10_000},
    "10,000-character tag": {"tags": ["t" * 10_000]},
    "10,000-character custom field": {"customFields": {"long": "v" * 10_000}},
}


@pytest.fixture(scope="module")
def long_strings(factory: DataFactory) -> dict[str, tuple[dict[str, Any], httpx.Response]]:
    """Every case's answer: cases in different fields share a create, sent alone if it is not accepted
    (grouped.py) — three creates on a target that accepts them all, not six."""
    return factory.probe_creates("long", LONG_CASES)


@pytest.mark.rule("NO-5XX", "CREATE-LONG-STRINGS", "ENV-ERROR")
@pytest.mark.parametrize("case", list(LONG_CASES))
def test_whitespace_names_and_long_strings_are_accepted_or_rejected_never_5xx(
        long_strings: dict[str, tuple[dict[str, Any], httpx.Response]], case: str) -> None:
    _, response = long_strings[case]
    expect.no_server_error(response)
    if response.status_code in expect.VALIDATION:
        expect.error(response, expect.VALIDATION)
        return
    _created(response, "NO-5XX")
