"""The contract model, fed plain exchanges: what each answer must be, what every MAY alternative is allowed
to be, and which rule a violation names. No HTTP, no pytest fixtures of the suite."""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path
from typing import Any

from cstar_conformance.model import JUDGED_RULES, Config, Credential, Delivery, Exchange, Key, Model, observe_batch
from cstar_conformance.model.events import verify_signature
from cstar_conformance.rules import BY_ID

A, B = "aaaaaaaa-0000-4000-8000-000000000001", "bbbbbbbb-0000-4000-8000-000000000002"
KEY_A, KEY_B = Credential(Key.SECRET, A), Credential(Key.SECRET, B)
MARKER = "cstconfmodel"
_seq = itertools.count(1)
_clock = itertools.count(1)
NOW = 1_800_000_000.0


def stamp(offset: float = 0.0) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(NOW + offset, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def ex(method: str, path: str, body: Any = None, status: int | None = 200, answer: Any = None, *,
       cred: Credential = KEY_A, query: tuple[tuple[str, str], ...] = (), team: str = A,
       headers: dict[str, str] | None = None, content_type: str = "application/json",
       sent: float | None = None, answered: float | None = None) -> Exchange:
    tick = next(_clock)
    raw = answer if isinstance(answer, bytes) else json.dumps(answer).encode() if answer is not None else b""
    request_headers = {"content-type": "application/json"} if body is not None else {}
    return Exchange(method, f"/teams/{team}{path}", query, cred, {**request_headers, **(headers or {})},
                    json.dumps(body).encode() if body is not None else None, status,
                    {"content-type": content_type} if raw else {}, raw,
                    sent if sent is not None else NOW, answered if answered is not None else NOW + 0.01,
                    tick * 10.0, tick * 10.0 + 0.5, seq=next(_seq))


def ok(data: Any, **extra: Any) -> dict[str, Any]:
    return {"success": True, "data": data, **extra}


def err(code: str = "invalid") -> dict[str, Any]:
    return {"success": False, "error": {"code": code, "message": "no"}}


def customer(n: int, **fields: Any) -> dict[str, Any]:
    base = {"id": f"00000000-0000-4000-8000-{n:012d}", "name": f"Name {n}", "email": f"{MARKER}-{n}@x.example",
            "status": "active", "sentiment": "neutral", "tags": [], "notes": None, "customFields": {},
            "ticketCount": 0, "createdAt": stamp(), "updatedAt": stamp()}
    return base | fields


def sent_of(c: dict[str, Any]) -> dict[str, Any]:
    return {k: c[k] for k in ("name", "email", "status", "sentiment", "tags", "notes", "customFields")
            if k not in ("status", "sentiment") or c[k] not in ("active", "neutral")}


def rules(violations: list[Any]) -> set[str]:
    return {rule for v in violations for rule in v.rules}


def model() -> Model:
    return Model(Config([A, B], MARKER, receivers=["http://127.0.0.1:9"]))


def created(m: Model, n: int, **fields: Any) -> dict[str, Any]:
    c = customer(n, **fields)
    assert m.observe(ex("POST", "/customers", sent_of(c), 201, ok(c))) == []
    return c


def page(items: list[dict[str, Any]], total: int | None = None, page_no: int = 1, size: int = 20) -> dict[str, Any]:
    total = len(items) if total is None else total
    return ok(items, pagination={"total": total, "page": page_no, "pageSize": size, "hasMore": page_no * size < total})


# ------------------------------------------------------------------------------------- every answer


def test_a_5xx_anywhere_is_no_5xx() -> None:
    assert rules(model().observe(ex("GET", "/customers", status=503, answer=err()))) == {"NO-5XX"}


def test_success_and_error_envelopes_and_content_type_are_checked_on_every_answer() -> None:
    m = model()
    assert "ENV-SUCCESS" in rules(m.observe(ex("GET", "/customers", status=200, answer={"data": []})))
    assert "ENV-ERROR" in rules(m.observe(ex("GET", "/customers/x", status=404, answer={"detail": "no"})))
    assert "CONTENT-TYPE-JSON" in rules(m.observe(ex("GET", "/customers", answer=page([]), content_type="text/plain")))
    assert m.observe(ex("GET", "/customers", answer=page([]), content_type="application/json; charset=utf-8")) == []


def test_every_rule_the_model_names_is_in_the_catalogue_not_a_may_and_in_judged_rules() -> None:
    source = "".join(p.read_text() for p in Path(__file__).resolve().parents[2].joinpath(
        "src", "cstar_conformance", "model").glob("*.py") if p.name not in ("__init__.py", "invariants.py"))
    named = set(re.findall(r'"([A-Z][A-Z0-9]+(?:-[A-Z0-9]+)+)"', source))
    assert named and named <= set(BY_ID), sorted(named - set(BY_ID))
    assert not [r for r in named if BY_ID[r].level.value == "MAY"]
    assert named == set(JUDGED_RULES), sorted(named ^ set(JUDGED_RULES))


def test_every_rule_the_model_judges_has_its_invariant_written_down() -> None:
    from cstar_conformance.model.invariants import INVARIANTS

    assert {i.rule for i in INVARIANTS} == set(JUDGED_RULES)
    modules = {p.stem for p in Path(__file__).resolve().parents[2].joinpath("src", "cstar_conformance", "model").glob(
        "*.py")}
    assert {w.strip() for i in INVARIANTS for w in i.where.split(",")} <= modules


# ------------------------------------------------------------------------------------------ create


def test_a_valid_create_is_judged_against_what_was_sent() -> None:
    m = model()
    c = customer(1, name="  Zoë 🎉  ", tags=["b", "a"], customFields={"n": 12, "b": True, "s": "12"})
    assert m.observe(ex("POST", "/customers", sent_of(c), 201, ok(c))) == []
    mangled = customer(2, name="Zoe")
    found = m.observe(ex("POST", "/customers", sent_of(customer(2, name="Zoë")), 201, ok(mangled)))
    assert rules(found) == {"CREATE-ROUNDTRIP"}
    typed = customer(3, customFields={"n": "12"})
    found = m.observe(ex("POST", "/customers", sent_of(customer(3, customFields={"n": 12})), 201, ok(typed)))
    assert rules(found) == {"CUSTOMFIELDS-TYPES"}


def test_create_alternatives_are_legal_200_is_only_a_should_and_defaults_are_checked() -> None:
    m = model()
    c = customer(1, notes="", tags=["a", "b"])
    assert m.observe(ex("POST", "/customers", {"name": c["name"], "email": c["email"], "tags": ["a", "b", "a"]},
                        201, ok(c))) == []  # duplicate tags collapsed, notes "" (both MAY)
    assert rules(m.observe(ex("POST", "/customers", sent_of(customer(2)), 200, ok(customer(2))))) == {"CREATE-201"}
    wrong = customer(3, sentiment="happy")
    assert rules(m.observe(ex("POST", "/customers", {"name": wrong["name"], "email": wrong["email"]}, 201,
                              ok(wrong)))) == {"CREATE-DEFAULTS"}


def test_invalid_creates_must_be_refused_and_odd_ones_may_be() -> None:
    m = model()
    bad = {"name": 123, "email": f"{MARKER}-9@x.example"}
    assert rules(m.observe(ex("POST", "/customers", bad, 201, ok(customer(9, name="123"))))) == {"CREATE-VALIDATION"}
    assert m.observe(ex("POST", "/customers", bad, 422, err())) == []
    assert rules(m.observe(ex("POST", "/customers", bad, 409, err()))) == {"CREATE-VALIDATION"}
    long = {"name": "x" * 300, "email": f"{MARKER}-8@x.example"}
    assert m.observe(ex("POST", "/customers", long, 400, err())) == []
    assert m.observe(ex("POST", "/customers", long, 201, ok(customer(8, name="x" * 300)))) == []


def test_a_valid_create_refused_names_the_rules_its_content_makes_likely() -> None:
    found = model().observe(ex("POST", "/customers", {"name": "n", "email": f"{MARKER}+tag@x.example"}, 400, err()))
    assert {"CREATE-2XX", "EMAIL-ORDINARY"} <= rules(found)


def test_duplicates_must_be_refused_409_should_and_other_teams_and_other_addresses_are_free() -> None:
    m = model()
    c = created(m, 1)
    twin = customer(2, email=c["email"], name=c["name"])
    assert rules(m.observe(ex("POST", "/customers", sent_of(c), 201, ok(twin)))) == {"EMAIL-UNIQUE"}
    assert rules(m.observe(ex("POST", "/customers", sent_of(c), 400, err()))) == {"EMAIL-UNIQUE-409"}
    assert m.observe(ex("POST", "/customers", sent_of(c), 409, err())) == []
    other = customer(3, email=c["email"])
    assert m.observe(ex("POST", "/customers", sent_of(other), 201, ok(other), cred=KEY_B, team=B)) == []
    upper = customer(4, email=c["email"].upper())
    assert rules(m.observe(ex("POST", "/customers", sent_of(upper), 201, ok(upper)))) == {"EMAIL-UNIQUE-CASE"}


def test_a_new_record_carries_the_true_utc_time() -> None:
    off = customer(1, createdAt=stamp(3600), updatedAt=stamp(3600))
    assert rules(model().observe(ex("POST", "/customers", sent_of(off), 201, ok(off)))) == {"TIMESTAMP-TRUE-UTC"}


# ---------------------------------------------------------------------------------------- get/patch


def test_get_must_show_the_last_answer_and_names_the_field_rule() -> None:
    m = model()
    c = created(m, 1, customFields={"vip": True})
    assert m.observe(ex("GET", f"/customers/{c['id']}", answer=ok(c))) == []
    found = m.observe(ex("GET", f"/customers/{c['id']}", answer=ok(c | {"customFields": {"vip": 1}})))
    assert rules(found) == {"GET-EQUALS", "CUSTOMFIELDS-TYPES"}


def test_patch_keeps_omitted_fields_merges_custom_fields_and_moves_updated_at() -> None:
    m = model()
    c = created(m, 1, customFields={"a": 1, "b": 2}, notes="keep")
    later = c | {"name": "New", "customFields": {"a": 1, "c": 3}, "updatedAt": stamp(5)}
    ok_patch = ex("PATCH", f"/customers/{c['id']}", {"name": "New", "customFields": {"b": None, "c": 3}}, 200,
                  ok(later), sent=NOW + 5, answered=NOW + 5)
    assert m.observe(ok_patch) == []
    dropped = later | {"notes": None, "name": "Newer", "updatedAt": stamp(9)}
    found = m.observe(ex("PATCH", f"/customers/{c['id']}", {"name": "Newer"}, 200, ok(dropped), sent=NOW + 9))
    assert rules(found) == {"PATCH-KEEPS-OMITTED"}


def test_replacing_custom_fields_is_only_a_should_finding() -> None:
    m = model()
    c = created(m, 1, customFields={"a": 1})
    replaced = c | {"customFields": {"c": 3}, "updatedAt": stamp(5)}
    found = m.observe(ex("PATCH", f"/customers/{c['id']}", {"customFields": {"c": 3}}, 200, ok(replaced)))
    assert rules(found) == {"PATCH-CUSTOMFIELDS-MERGE"} and BY_ID["PATCH-CUSTOMFIELDS-MERGE"].level.value == "SHOULD"


def test_updated_at_must_move_after_a_second_and_never_back() -> None:
    m = model()
    c = created(m, 1)
    frozen = c | {"name": "Changed"}
    found = m.observe(ex("PATCH", f"/customers/{c['id']}", {"name": "Changed"}, 200, ok(frozen)))
    assert rules(found) == {"PATCH-UPDATEDAT-MOVES"}  # the exchange was sent well over a second later
    back = frozen | {"name": "Again", "updatedAt": stamp(-10), "createdAt": stamp(-20)}
    assert "PATCH-IMMUTABLE-FIELDS" in rules(m.observe(ex("PATCH", f"/customers/{c['id']}", {"name": "Again"}, 200,
                                                          ok(back))))


def test_a_rejected_patch_that_changed_the_record_anyway_is_blamed_on_the_rejection() -> None:
    m = model()
    c = created(m, 1)
    assert m.observe(ex("PATCH", f"/customers/{c['id']}", {"name": "Half", "status": "archived"}, 400, err())) == []
    found = m.observe(ex("GET", f"/customers/{c['id']}", answer=ok(c | {"name": "Half"})))
    assert {"REJECTED-CHANGES-NOTHING", "PATCH-INVALID-NOCHANGE"} <= rules(found)


def test_cross_team_reads_and_writes_are_refused_and_change_nothing() -> None:
    m = model()
    c = created(m, 1)
    assert m.observe(ex("GET", f"/customers/{c['id']}", status=404, answer=err(), cred=KEY_B)) == []
    assert rules(m.observe(ex("GET", f"/customers/{c['id']}", answer=ok(c), cred=KEY_B))) == {"AUTH-CROSS-TEAM"}
    b_path = ex("GET", f"/customers/{c['id']}", status=200, answer=ok(c), cred=KEY_B, team=B)
    assert rules(m.observe(b_path)) == {"AUTH-CROSS-TEAM"}


def test_keys_must_be_exact_and_401_otherwise() -> None:
    m = model()
    near = Credential(Key.NEAR_MISS)
    assert rules(m.observe(ex("GET", "/customers", answer=page([]), cred=near))) == {"AUTH-EXACT-KEY", "AUTH-401"}
    assert m.observe(ex("GET", "/customers", status=401, answer=err(), cred=Credential(Key.NONE))) == []
    assert rules(m.observe(ex("GET", "/customers", status=403, answer=err(), cred=Credential(Key.NONE)))) == {
        "AUTH-401"}


def test_undefined_methods_head_and_options() -> None:
    m = model()
    c = created(m, 1)
    assert rules(m.observe(ex("PUT", f"/customers/{c['id']}", {"name": "x"}, 200, ok(c)))) == {"UNKNOWN-METHOD"}
    assert m.observe(ex("PUT", f"/customers/{c['id']}", {"name": "x"}, 404, err())) == []
    assert rules(m.observe(ex("PUT", f"/customers/{c['id']}", None, 405, err()))) == {"UNKNOWN-METHOD"}  # no Allow
    assert rules(m.observe(ex("HEAD", f"/customers/{c['id']}", status=405))) == {"HEAD-AS-GET"}
    for status in (204, 404, 405, 401):
        assert m.observe(ex("OPTIONS", "/customers", status=status, cred=Credential(Key.NONE))) == []
    assert rules(m.observe(ex("OPTIONS", "/customers", status=400))) == {"OPTIONS-SAFE"}


def test_delete_then_gone_everywhere_and_cascade() -> None:
    m = model()
    c = created(m, 1)
    ticket = {"id": "11111111-0000-4000-8000-000000000001", "customerId": c["id"], "title": "t"}
    assert m.observe(ex("POST", "/tickets", {"title": "t", "customerId": c["id"]}, 201, ok(ticket))) == []
    assert m.observe(ex("DELETE", f"/customers/{c['id']}", status=204)) == []
    assert rules(m.observe(ex("GET", f"/customers/{c['id']}", answer=ok(c)))) == {"DELETE-GONE"}
    assert rules(m.observe(ex("GET", f"/tickets/{ticket['id']}", answer=ok(ticket)))) == {"DELETE-CASCADE"}
    assert rules(m.observe(ex("GET", "/customers", answer=page([c])))) == {"DELETE-GONE"}


def test_ticket_count_must_rise_with_each_ticket_and_may_stay_after_a_ticket_delete() -> None:
    m = model()
    c = created(m, 1)
    ticket = {"id": "11111111-0000-4000-8000-000000000001", "customerId": c["id"], "title": "t"}
    m.observe(ex("POST", "/tickets", {"title": "t", "customerId": c["id"]}, 201, ok(ticket)))
    assert rules(m.observe(ex("GET", f"/customers/{c['id']}", answer=ok(c)))) == {"GET-EQUALS", "TICKET-COUNT"}
    assert m.observe(ex("GET", f"/customers/{c['id']}", answer=ok(c | {"ticketCount": 1}))) == []
    m.observe(ex("DELETE", f"/tickets/{ticket['id']}", status=204))
    for count in (0, 1):
        assert m.observe(ex("GET", f"/customers/{c['id']}", answer=ok(c | {"ticketCount": count}))) == []


# --------------------------------------------------------------------------------------------- lists


def test_a_list_page_must_hold_exactly_the_runs_matching_records_and_be_honest() -> None:
    m = model()
    one, two = created(m, 1, status="inactive"), created(m, 2)
    search = (("search", MARKER),)
    assert m.observe(ex("GET", "/customers", query=search, answer=page([one, two]))) == []
    assert "SEARCH-NAME-OR-EMAIL" in rules(m.observe(ex("GET", "/customers", query=search, answer=page([one]))))
    assert rules(m.observe(ex("GET", "/customers", query=(("status", "active"),), answer=page([one])))) == {
        "FILTER-EXACT"}
    lying = ok([one], pagination={"total": 1, "page": 1, "pageSize": 20, "hasMore": True})
    assert "LIST-TOTAL-HASMORE" in rules(m.observe(ex("GET", "/customers", query=search, answer=lying)))


def test_list_alternatives_clamping_order_and_empty_invalid_filters_are_legal() -> None:
    m = model()
    one, two = created(m, 1), created(m, 2)
    clamped = ok([two, one], pagination={"total": 2, "page": 1, "pageSize": 100, "hasMore": False})
    assert m.observe(ex("GET", "/customers", query=(("search", MARKER), ("pageSize", "500")), answer=clamped)) == []
    assert m.observe(ex("GET", "/customers", query=(("pageSize", "500"),), status=422, answer=err())) == []
    assert m.observe(ex("GET", "/customers", query=(("status", "archived"),), answer=page([]))) == []
    assert rules(m.observe(ex("GET", "/customers", query=(("status", "archived"),), answer=page([one])))) == {
        "FILTER-INVALID-NOT-UNFILTERED"}
    assert m.observe(ex("GET", "/customers", query=(("status", ""),), answer=page([one, two]))) == []


def test_an_absurd_page_number_may_be_refused_an_ordinary_one_past_the_end_may_not() -> None:
    m = model()
    search = (("search", MARKER),)
    assert m.observe(ex("GET", "/customers", query=(*search, ("page", str(10**20))), status=400, answer=err())) == []
    assert rules(m.observe(ex("GET", "/customers", query=(*search, ("page", "5")), status=400, answer=err()))) == {
        "LIST-PAST-END"}


def test_the_webhook_list_needs_no_pagination_the_ticket_list_does() -> None:
    m = model()
    assert m.observe(ex("GET", "/webhooks", answer=ok([], object="list"))) == []
    assert rules(m.observe(ex("GET", "/tickets", answer=ok([])))) == {"ENV-LIST"}
    lying = ok([], pagination={"total": 3, "page": 1, "pageSize": 20, "hasMore": False})
    assert rules(m.observe(ex("GET", "/webhooks", answer=lying))) == {"LIST-TOTAL-HASMORE"}


def test_case_insensitive_and_accent_folded_search_hits_are_legal_others_are_not() -> None:
    m = model()
    c = created(m, 1, name="Zoë Ørsted")
    assert m.observe(ex("GET", "/customers", query=(("search", "zoe"),), answer=page([c]))) == []
    assert rules(m.observe(ex("GET", "/customers", query=(("search", "qq"),), answer=page([c])))) == {
        "SEARCH-NAME-OR-EMAIL"}


def test_a_walk_with_no_write_between_must_not_overlap() -> None:
    m = model()
    records = [created(m, n) for n in range(1, 4)]
    query = (("search", MARKER), ("pageSize", "2"))
    first = ok(records[:2], pagination={"total": 3, "page": 1, "pageSize": 2, "hasMore": True})
    again = ok(records[1:2], pagination={"total": 3, "page": 2, "pageSize": 2, "hasMore": False})
    assert m.observe(ex("GET", "/customers", query=(*query, ("page", "1")), answer=first)) == []
    assert "LIST-WALK-COMPLETE" in rules(m.observe(ex("GET", "/customers", query=(*query, ("page", "2")),
                                                     answer=again)))


# ------------------------------------------------------------------------------------- concurrency


def test_concurrent_patches_are_legal_in_some_order_and_a_lost_update_is_not() -> None:
    m = model()
    c = created(m, 1)
    a = ex("PATCH", f"/customers/{c['id']}", {"name": "A"}, 200, ok(c | {"name": "A", "updatedAt": stamp(1)}),
           sent=NOW + 1)
    b = ex("PATCH", f"/customers/{c['id']}", {"notes": "B"}, 200,
           ok(c | {"name": "A", "notes": "B", "updatedAt": stamp(1)}), sent=NOW + 1)  # applied after A
    a, b = _overlap(a, b)
    assert observe_batch(m, [b, a]) == []
    assert m.observe(ex("GET", f"/customers/{c['id']}", answer=ok(c | {"name": "A", "notes": "B",
                                                                       "updatedAt": stamp(1)}))) == []
    lost = ex("GET", f"/customers/{c['id']}", answer=ok(c | {"name": "A", "updatedAt": stamp(1)}))
    assert "GET-EQUALS" in rules(m.observe(lost))
    d = created(m, 2)
    each_alone = [ex("PATCH", f"/customers/{d['id']}", body, 200, ok(d | body | {"updatedAt": stamp(1)}))
                  for body in ({"name": "A"}, {"notes": "B"})]  # neither answer shows the other: one was lost
    assert "PATCH-NO-LOST-UPDATE" in rules(observe_batch(m, list(_overlap(*each_alone))))


def test_concurrent_creates_of_one_address_exactly_one_may_win() -> None:
    m = model()
    c = customer(1)
    one = ex("POST", "/customers", sent_of(c), 201, ok(c))
    two = ex("POST", "/customers", sent_of(c), 201, ok(customer(2, email=c["email"], name=c["name"])))
    found = observe_batch(m, list(_overlap(one, two)))
    assert "EMAIL-UNIQUE-CONCURRENT" in rules(found)
    fresh = model()
    loser = ex("POST", "/customers", sent_of(c), 409, err())
    assert observe_batch(fresh, list(_overlap(loser, one))) == []


def _overlap(*exchanges: Exchange) -> tuple[Exchange, ...]:
    from dataclasses import replace

    start = min(e.sent_mono for e in exchanges)
    return tuple(replace(e, sent_mono=start, answered_mono=start + 1.0) for e in exchanges)


# ----------------------------------------------------------------------------------------- webhooks


def _hook(m: Model, events: list[str], path: str = "/hook", team: str = A, hook_id: str = "wh_1") -> None:
    body = {"url": f"http://127.0.0.1:9{path}", "events": events}
    m.observe(ex("POST", "/webhooks", body, 201, ok({"id": hook_id, "secret": "whsec_x", **body}),
                 cred=Credential(Key.SECRET, team), team=team, sent=NOW - 5, answered=NOW - 5))


def _delivery(c: dict[str, Any], event_type: str, event_id: str = "evt_1", path: str = "/hook", at: float = 0.5,
              team: str = A) -> Delivery:
    import hashlib
    import hmac

    wire = {"id": c["id"], "name": c["name"], "email": c["email"], "status": c["status"],
            "sentiment": c["sentiment"], "tags": c["tags"], "notes": c["notes"], "custom_fields": c["customFields"],
            "ticket_count": c["ticketCount"], "created_at": c["createdAt"], "updated_at": c["updatedAt"]}
    body = json.dumps({"id": event_id, "type": event_type, "created_at": stamp(), "team_id": team,
                       "data": {"customer": wire}}).encode()
    t = str(int(NOW))
    signature = hmac.new(b"whsec_x", t.encode() + b"." + body, hashlib.sha256).hexdigest()
    return Delivery(path, {"x-signature": f"t={t},v1={signature}"}, body, NOW + at)


def test_a_delivery_must_be_signed_and_match_the_customer() -> None:
    m = model()
    _hook(m, ["*"])
    c = created(m, 1)
    assert m.deliver(_delivery(c, "customer.created")) == []
    assert verify_signature("whsec_x", "t=1,v1=00", b"{}", NOW) is not None
    stale = _delivery(c | {"name": "Old"}, "customer.created", "evt_1")
    assert m.deliver(stale) == []  # held: the write it belongs to may not have been judged yet
    assert rules(m.due(NOW + 5)) == {"WEBHOOK-PAYLOAD"}  # a further copy must show the customer too


def test_missing_events_are_due_after_10_seconds_and_unsubscribed_ones_are_flagged() -> None:
    m = model()
    _hook(m, ["customer.updated"])
    c = created(m, 1)
    assert m.due(NOW + 30) == []  # nothing was required: the hook wants only updates
    m.deliver(_delivery(c, "customer.created"))
    assert rules(m.due(NOW + 30)) == {"WEBHOOK-SUBSCRIBED-ONLY"}
    _hook(m, ["*"], "/all", hook_id="wh_2")
    d = created(m, 2)
    assert rules(m.due(NOW + 60)) == {"WEBHOOK-EVENTS", "WEBHOOK-WITHIN-10S"}
    assert d["id"]


def test_one_id_for_two_events_breaks_event_ids() -> None:
    m = model()
    _hook(m, ["*"])
    c = created(m, 1)
    m.deliver(_delivery(c, "customer.created", "evt_same"))
    later = c | {"name": "Renamed", "updatedAt": stamp(5)}
    m.observe(ex("PATCH", f"/customers/{c['id']}", {"name": "Renamed"}, 200, ok(later), sent=NOW + 5))
    assert "WEBHOOK-EVENT-IDS" in rules(m.deliver(_delivery(later, "customer.updated", "evt_same")))
