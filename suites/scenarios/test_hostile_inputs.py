"""The catalogue of hostile inputs (hostile.py), each class sent once, packed where the contract lets one request
carry many: strings of every ordinary kind in every string field, custom-field keys and values of every kind,
odd strings one per request (a target may refuse each), a 1 MB body, addresses that differ beyond letter case,
almost-right keys and every legal spelling of Bearer, HEAD and OPTIONS with and without keys, JSON content
types with parameters and a chunked body, query-string tricks, malformed ids, and every write with a
publishable key. Each check asserts what its rule says outright; the contract model judges every answer
besides (never a 5xx, never accepted when invalid, exactly as sent wherever the record appears)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from functools import partial
from itertools import cycle
from typing import Any

import httpx
import pytest

from cstar_conformance import capabilities, expect, hostile, release
from cstar_conformance.client import ApiClient
from cstar_conformance.factory import EMAIL_DOMAIN, DataFactory
from cstar_conformance.session import Session
from cstar_conformance.waves import together

OK = range(200, 300)


def _keys_and_values() -> dict[str, Any]:
    values = cycle(hostile.ORDINARY_VALUES + hostile.ORDINARY_TEXT[:4])
    return {key: next(values) for key in hostile.ORDINARY_KEYS}


@pytest.mark.rule("CREATE-ROUNDTRIP", "CUSTOMFIELDS-KEYS", "CUSTOMFIELDS-TYPES", "PATCH-TAGS-REPLACE")
def test_every_ordinary_string_key_and_value_of_the_catalogue_round_trips(api: ApiClient, factory: DataFactory) -> None:
    """One customer carries every ordinary string (name, notes, each as a tag) and every custom-field key and
    value kind; read back, its tags reversed and its notes rewritten: each answer must show exactly what was
    sent (the model compares every place it appears)."""
    texts = list(hostile.ORDINARY_TEXT)
    body = factory.customer_body("hostile", notes=texts[1], tags=texts, customFields=_keys_and_values())
    body["name"] = f"{texts[0]}{factory.run_id}"
    made = capabilities.create_customer(factory, "hostile", **{k: v for k, v in body.items() if k != "email"})
    got = capabilities.read_back(api, made["id"])
    assert got.get("tags") == made.get("tags") and got.get("customFields") == made.get("customFields"), (
        f"[CREATE-ROUNDTRIP] read back unlike the create answer: {got}")
    patched = expect.success(api.patch(f"/customers/{made['id']}", {
        "tags": texts[::-1], "notes": "", "customFields": {"account.id": "changed", "new.dotted.key": 1}}))
    assert patched.get("tags") in (texts[::-1], list(dict.fromkeys(texts[::-1]))), (
        f"[PATCH-TAGS-REPLACE] tags after a PATCH of the reversed list: {patched.get('tags')}")
    emptied = expect.success(api.patch(f"/customers/{made['id']}", {
        "customFields": {key: None for key in patched.get("customFields") or {}}}))
    assert emptied.get("customFields") == {}, (
        f"[CUSTOMFIELDS-KEYS] every key set to null must leave an empty object: {emptied.get('customFields')!r}")


@pytest.mark.rule("CREATE-ROUNDTRIP", "WEBHOOK-EVENTS")
@pytest.mark.thorough("CREATE-ROUNDTRIP by the catalogue's customer here and test_webhooks' large customer")
def test_a_large_ordinary_customer_is_accepted_whole(api: ApiClient, factory: DataFactory) -> None:
    """20 tags and 20 custom fields of 255 characters each, notes of 255: all ordinary (about 11 KB)."""
    long = "é" * 200 + "x" * 55
    fields = {f"field{n}": long for n in range(20)}
    made = capabilities.create_customer(factory, "large", tags=[f"{n}{long[:253]}" for n in range(20)],
                                        notes=long, customFields=fields)
    assert len(made.get("tags", [])) == 20 and made.get("customFields") == fields, (
        f"[CREATE-ROUNDTRIP] a large ordinary customer came back cut: {len(made.get('tags', []))} tags")


ODD_FIELDS = ("name", "notes", "tags", "customFields")
ODD_IN_GATE = (0, 3)  # NUL and lone surrogates (1, 2): create_and_read's checks of them keep them in the gate


@pytest.fixture(scope="module")
def odd_strings(cstar: Session, factory: DataFactory) -> dict[str, tuple[dict[str, Any], httpx.Response]]:
    """Each odd string in its own field; the fields share a create, each sent alone if it is not accepted
    (grouped.py)."""
    cases = {}
    for index in range(len(hostile.ODD_TEXT)) if cstar.profile == "thorough" else ODD_IN_GATE:
        odd, where = hostile.ODD_TEXT[index], ODD_FIELDS[index % len(ODD_FIELDS)]
        cases[str(index)] = {where: {"name": f"{odd} {factory.run_id}", "notes": odd, "tags": [odd],
                                     "customFields": {"odd": odd}}[where]}
    return factory.probe_creates("odd", cases)


@pytest.mark.rule("NO-5XX", "CREATE-ROUNDTRIP", "CREATE-VALIDATION")
@pytest.mark.parametrize("index", [n if n in ODD_IN_GATE else pytest.param(n, marks=pytest.mark.thorough(
    "NUL and lone surrogates by create_and_read's checks of them")) for n in range(len(hostile.ODD_TEXT))])
def test_an_odd_string_is_kept_exactly_or_refused_never_5xx(
        odd_strings: dict[str, tuple[dict[str, Any], httpx.Response]], index: int) -> None:
    _, response = odd_strings[str(index)]
    expect.no_server_error(response)
    if response.status_code not in OK:
        expect.error(response, (400, 413, 422))


@pytest.mark.rule("NO-5XX", "ENV-ERROR")
def test_a_1_mb_body_is_refused_with_the_error_envelope(factory: DataFactory) -> None:
    """1 MB of notes and an unknown status: refused for its size (413) or its status (400/422), with the error
    envelope, whichever the target — or a proxy in front of it — looks at first."""
    body = factory.customer_body("huge", notes=hostile.HUGE_TEXT, status="archived")
    # `Expect: 100-continue`: a target that refuses by the size alone answers before the body is sent, and
    # its answer is read — never lost to a connection it closes under a body still on its way
    answer = release.send_expecting_continue(factory.api, release.Held("POST", "/customers", body), "hostile_inputs")
    assert answer is not None, "[NO-5XX] a 1 MB create got no answer: the target closed the connection"
    request = httpx.Request("POST", factory.api.url("/customers"))
    response = httpx.Response(answer.status, headers=answer.headers, content=answer.body, request=request)
    factory.track_response("customer", response)
    expect.no_server_error(response)
    expect.error(response, (400, 413, 422))


@dataclass(frozen=True)
class Distinct:
    words: str  # the run-unique word of the two names with "Alpha" and "Beta" in either order
    answers: dict[str, httpx.Response]  # address → the answer to its create

    def customer(self) -> dict[str, Any]:
        """The first customer these creates made (blocked by EMAIL-DISTINCT-ADDRESSES when none was made)."""
        made = next((r for r in self.answers.values() if r.status_code in OK), None)
        if made is None:
            capabilities.block("EMAIL-DISTINCT-ADDRESSES", "none of the distinct addresses was accepted")
        return capabilities.created(made)


@pytest.fixture(scope="module")
def distinct(factory: DataFactory, target_customer: dict[str, Any]) -> Distinct:
    """Addresses beside the module's customer's that differ from it, or from each other, beyond letter case: a
    sub-address, a dotted one, two of 64-character local parts that differ only in their domain. Two of them
    carry the search check's names: "Alpha Beta <word>" and "Beta Alpha <word>"."""
    base = str(target_customer["email"]).split("@")[0]
    long = (base + "-" + "x" * 64)[:64]
    words = factory.unique("words")
    dotted, long_a = f"{base[:4]}.{base[4:]}@{EMAIL_DOMAIN}", f"{long}@a.{EMAIL_DOMAIN}"
    names = {dotted: f"Alpha Beta {words}", long_a: f"Beta Alpha {words}"}
    answers = {}
    for email in (f"{base}+news@{EMAIL_DOMAIN}", dotted, long_a, f"{long}@b.{EMAIL_DOMAIN}"):
        fields = {"name": names[email]} if email in names else {}
        answers[email] = factory.post_customer(factory.customer_body("distinct", email=email, **fields))
    return Distinct(words, answers)


@pytest.mark.rule("EMAIL-DISTINCT-ADDRESSES", "EMAIL-ORDINARY")
def test_addresses_that_differ_beyond_letter_case_are_all_accepted(distinct: Distinct) -> None:
    """A sub-address and a dotted one of the module's customer's address, and two of 64-character local parts that
    differ only in their domain."""
    for email, response in distinct.answers.items():
        assert response.status_code in OK, (f"[EMAIL-DISTINCT-ADDRESSES] {email} differs from the others beyond "
                                            f"letter case: {expect.describe(response)}")


@pytest.mark.rule("AUTH-EXACT-KEY", "AUTH-401")
def test_almost_right_keys_are_401_and_every_spelling_of_bearer_works(api: ApiClient) -> None:
    key = str(api.api_key)
    misses = hostile.near_misses(key)[:5]  # the non-ASCII one goes as UTF-8 bytes; independent reads: one wave
    answers = together({n: partial(api.get, "/customers", params={"pageSize": 1},
                                   headers={"Authorization": header if header.isascii() else header.encode()})
                        for n, header in enumerate(misses)})
    for response in answers.values():
        assert response.status_code == 401, f"[AUTH-EXACT-KEY] an almost-right key was not refused: " \
                                            f"{expect.describe(response)}"
    for header in hostile.accepted_spellings(key)[:1]:
        response = api.get("/customers", params={"pageSize": 1}, headers={"Authorization": header})
        assert response.status_code == 200, f"[AUTH-401] {header.split()[0]!r} then the key is a valid credential: " \
                                            f"{expect.describe(response)}"


WRITTEN_AT: dict[str, float] = {}  # customer id → time.monotonic() of its last write by this module


@pytest.fixture(scope="module")
def target_customer(factory: DataFactory) -> dict[str, Any]:
    made = capabilities.create_customer(factory, "methods")
    WRITTEN_AT[made["id"]] = time.monotonic()
    return made


@pytest.mark.rule("HEAD-AS-GET", "OPTIONS-SAFE", "AUTH-401")
def test_head_answers_as_get_and_options_changes_nothing(api: ApiClient, factory: DataFactory,
                                                         target_customer: dict[str, Any]) -> None:
    path = f"/customers/{target_customer['id']}"
    head = api.request("HEAD", path)
    assert head.status_code == 200, f"[HEAD-AS-GET] HEAD of an existing customer: {expect.describe(head)}"
    anonymous = api.request("HEAD", path, auth=False)
    assert anonymous.status_code == 401, f"[AUTH-401] HEAD without a key: {expect.describe(anonymous)}"
    preflight = api.request("OPTIONS", "/customers", auth=False, headers={"Origin": "https://app.example"})
    expect.no_server_error(preflight)  # a preflight's Origin without its Access-Control-Request-Method
    body = factory.customer_body("options")  # OPTIONS carrying a create body, and a change: nothing may happen
    api.request("OPTIONS", "/customers", content=json.dumps(body), headers={"Content-Type": "application/json"})
    api.request("OPTIONS", path, content=json.dumps({"name": "Changed by OPTIONS"}),
                headers={"Content-Type": "application/json"})
    got = capabilities.read_back(api, target_customer["id"])
    assert got.get("name") == target_customer["name"], f"[OPTIONS-SAFE] OPTIONS changed the customer: {got}"


@pytest.mark.rule("HTTP-FRAMING", "NO-5XX", "CREATE-2XX")
@pytest.mark.parametrize("how", [*hostile.JSON_CONTENT_TYPES, "chunked"])
def test_a_json_body_with_content_type_parameters_or_chunked_is_read(api: ApiClient, factory: DataFactory,
                                                                     how: str) -> None:
    body = json.dumps(factory.customer_body("framing"))
    if how == "chunked":
        response = api.request("POST", "/customers", content=body, headers={"Content-Type": "application/json"},
                               chunked=True)
        factory.track_response("customer", response)
        assert response.status_code in OK, f"[HTTP-FRAMING] a chunked create was not read: {expect.describe(response)}"
        return
    response = api.request("POST", "/customers", content=body, headers={"Content-Type": how})
    factory.track_response("customer", response)
    expect.no_server_error(response)
    if response.status_code not in OK:
        expect.error(response, range(400, 500))


@pytest.mark.rule("NO-5XX", "LIST-PAGINATION-HONEST", "FILTER-INVALID-NOT-UNFILTERED")
@pytest.mark.parametrize("trick", hostile.QUERY_PACKS)
def test_query_string_tricks_never_give_a_5xx(api: ApiClient, trick: str) -> None:
    expect.no_server_error(api.get(f"/customers?{trick}&pageSize=5"))


@pytest.mark.rule("NO-5XX", "GET-MALFORMED-ID", "PATCH-UNKNOWN-404")
def test_a_malformed_id_is_a_4xx_for_every_operation(api: ApiClient, target_customer: dict[str, Any]) -> None:
    """Ids with spaces, of 300 characters, a real id with junk after it (GET); a NUL (PATCH)."""
    tries = [("GET", bad, None) for bad in ("not a uuid", "x" * 300, f"{target_customer['id']}x")]
    tries += [("PATCH", "%00", {"notes": "x"})]
    answers = together({n: partial(api.request, method, f"/customers/{bad}", json_body=body)
                        for n, (method, bad, body) in enumerate(tries)})  # independent, refused: one wave
    for response in answers.values():
        expect.no_server_error(response)
        assert 400 <= response.status_code < 500, f"[GET-MALFORMED-ID] {expect.describe(response)}"


@pytest.mark.rule("TICKET-COUNT")
def test_a_ticket_for_the_customer_id_in_capitals_is_refused_or_counted_once(api: ApiClient, factory: DataFactory,
                                                                             distinct: Distinct) -> None:
    """A ticket for a customer's id spelled in capitals (one of the distinct addresses' customers: nothing else
    writes to them), sent twice with one Idempotency-Key: ticketCount counts every distinct ticket the answers
    name — a replay or a refusal opens none."""
    made = distinct.customer()
    key = {"Idempotency-Key": f"{made['id']}-ticket"}
    answers = [factory.create_ticket(made["id"].upper(), headers=key) for _ in range(2)]
    opened = {r.json()["data"]["id"] for r in answers if r.status_code in OK}
    got = capabilities.read_back(api, made["id"])
    assert got.get("ticketCount") == made["ticketCount"] + len(opened), (
        f"[TICKET-COUNT] {len(opened)} distinct ticket(s) for the customer's id in capitals, ticketCount "
        f"{made['ticketCount']} → {got.get('ticketCount')}")


@pytest.mark.rule("PK-READ-ONLY")
def test_every_write_with_a_publishable_key_is_403(publishable_api: ApiClient, factory: DataFactory,
                                                   target_customer: dict[str, Any]) -> None:
    path = f"/customers/{target_customer['id']}"
    writes = (("PATCH", path, {"notes": "by a publishable key"}), ("PATCH", path, {}), ("DELETE", path, None),
              ("POST", "/tickets", {"title": "by a publishable key", "customerId": target_customer["id"]}),
              ("POST", "/webhooks", {"url": f"https://{factory.run_id}.invalid/pk", "events": ["*"]}))
    for method, where, body in writes:
        response = publishable_api.request(method, where, json_body=body)
        for kind in ("ticket", "webhook"):
            if where == f"/{kind}s":
                factory.track_response(kind, response)
        assert response.status_code == 403, f"[PK-READ-ONLY] {method} {where} with a publishable key: " \
                                            f"{expect.describe(response)}"


NUMBERS = {"2^53+1": {"n": 2**53 + 1}, "past 2^63, -0, 1e308": {"a": 2**63, "b": -(2**63) - 1, "c": 2**64, "d": -0.0,
                                                                 "e": 1e308}}


@pytest.fixture(scope="module")
def numbers(factory: DataFactory) -> dict[str, tuple[dict[str, Any], httpx.Response]]:
    """Both sets of custom fields in one create, each alone if it is not accepted (grouped.py)."""
    return factory.probe_creates("number", {case: {"customFields": values} for case, values in NUMBERS.items()})


@pytest.mark.rule("CUSTOMFIELDS-TYPES", "NO-5XX")
@pytest.mark.parametrize("case", list(NUMBERS))
def test_numbers_past_ordinary_are_kept_exactly_or_refused(
        numbers: dict[str, tuple[dict[str, Any], httpx.Response]], case: str) -> None:
    _, response = numbers[case]
    values = NUMBERS[case]
    expect.no_server_error(response)
    if response.status_code in OK:
        kept = expect.success(response, OK).get("customFields", {})
        assert all(kept.get(k) == v and type(kept.get(k)) is type(v) for k, v in values.items()), (
            f"[CUSTOMFIELDS-TYPES] customFields {values!r} were accepted as {kept!r}")


@pytest.mark.rule("SEARCH-NAME-OR-EMAIL")
def test_short_and_two_word_search_terms_match_substrings_only(api: ApiClient, distinct: Distinct) -> None:
    """A two-character term, and two words in one order — a customer with the words in the other order (one of
    the distinct addresses' customers) does not match."""
    for term in ("Zq", f"Alpha Beta {distinct.words}"):
        data, _ = expect.listing(api.get("/customers", params={"search": term, "pageSize": 100}),
                                 "SEARCH-NAME-OR-EMAIL")
        wrong = [c.get("name") for c in data if term.lower() not in f"{c.get('name')} {c.get('email')}".lower()]
        assert not wrong, f"[SEARCH-NAME-OR-EMAIL] search={term!r} returned customers without it: {wrong[:3]}"


@pytest.mark.rule("EMAIL-UNIQUE-CASE", "NO-5XX")
def test_an_address_outside_ascii_in_another_letter_case_is_the_same_address(factory: DataFactory) -> None:
    local = f"åsa-{factory.unique('case')}"
    first = factory.post_customer(factory.customer_body("case-a", email=f"{local}@{EMAIL_DOMAIN}"))
    expect.no_server_error(first)
    if first.status_code not in OK:
        pytest.skip(f"the target refuses addresses outside ASCII ({first.status_code}): its choice")
    second = factory.post_customer(factory.customer_body("case-b", email=f"{local.upper()}@{EMAIL_DOMAIN}"))
    assert 400 <= second.status_code < 500, (
        f"[EMAIL-UNIQUE-CASE] {local.upper()} was accepted beside {local}: {expect.describe(second)}")


@pytest.mark.rule("PATCH-UPDATEDAT-MOVES")
def test_a_patch_of_tags_or_custom_fields_alone_moves_updated_at(api: ApiClient, target_customer: dict[str, Any]
                                                                 ) -> None:
    """The module's customer was written more than a second ago (waited for, if need be): a PATCH of its tags
    alone, then of its custom fields alone, each moves updatedAt (the model checks both)."""
    before = capabilities.instant(capabilities.read_back(api, target_customer["id"]).get("updatedAt"), "updatedAt")
    wait = 1.1 - (time.monotonic() - WRITTEN_AT[target_customer["id"]])  # by the suite's clock: no skew
    if wait > 0:
        time.sleep(wait)
    tags = expect.success(api.patch(f"/customers/{target_customer['id']}", {"tags": ["tags-alone"]}))
    assert capabilities.instant(tags.get("updatedAt"), "updatedAt") > before, (
        f"[PATCH-UPDATEDAT-MOVES] a PATCH of tags alone left updatedAt at {tags.get('updatedAt')}")


@pytest.mark.rule("AUTH-CROSS-TEAM")
def test_a_path_with_dot_segments_never_reaches_another_team(api: ApiClient, other_api: ApiClient) -> None:
    response = api.get(f"/teams/{api.team_id}/%2e%2e/{other_api.team_id}/customers", params={"pageSize": 1})
    assert not 200 <= response.status_code < 300, (
        f"[AUTH-CROSS-TEAM] this team's key reached the other team's list through dot segments: "
        f"{expect.describe(response)}")


@pytest.mark.rule("REJECTED-CHANGES-NOTHING")
def test_a_refused_webhook_registration_leaves_none_behind(api: ApiClient, factory: DataFactory) -> None:
    url = f"ftp://{factory.run_id}.invalid/refused"
    response = factory.create_webhook(url, ["*"])
    if response.status_code in (404, 405):
        pytest.skip("the target has no webhook registration")
    expect.no_server_error(response)  # refused or not, the run's audit lists the registrations: the model
    # finds there any that a refused request left behind
