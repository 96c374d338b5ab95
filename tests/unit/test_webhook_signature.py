"""Fast checks of the suite's X-Signature verifier (CONTRACT §5): it accepts exactly the contract's
`t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>` and says why anything else is refused."""

from __future__ import annotations

import hashlib
import hmac

from cstar_conformance.webhooks import Delivery, verify_signature

SECRET = "whsec_0123456789abcdef0123456789abcdef"
BODY = b'{"id":"evt_1","type":"customer.created","data":{"customer":{"id":"c1","name":"Z\xc3\xbcrich"}}}'
NOW = 1_800_000_000


def sign(secret: str, stamp: int | str, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()


def header(stamp: int = NOW, body: bytes = BODY, secret: str = SECRET) -> str:
    return f"t={stamp},v1={sign(secret, stamp, body)}"


def test_valid_signature_is_accepted() -> None:
    assert verify_signature(SECRET, header(), BODY, now=NOW) is None


def test_valid_signature_with_spaces_and_uppercase_hex_is_accepted() -> None:
    assert verify_signature(SECRET, f"t={NOW}, v1={sign(SECRET, NOW, BODY).upper()}", BODY, now=NOW) is None


def test_signature_within_tolerance_on_either_side_is_accepted() -> None:
    assert verify_signature(SECRET, header(NOW - 299), BODY, now=NOW) is None
    assert verify_signature(SECRET, header(NOW + 299), BODY, now=NOW) is None


def test_wrong_secret_is_refused() -> None:
    reason = verify_signature("whsec_other", header(), BODY, now=NOW)
    assert reason and "does not match" in reason


def test_secret_without_prefix_is_refused() -> None:
    """The whole whsec_… string is the key; signing with the part after the prefix is wrong."""
    wrong = header(secret=SECRET.removeprefix("whsec_"))
    assert verify_signature(SECRET, wrong, BODY, now=NOW) is not None


def test_changed_body_is_refused() -> None:
    assert verify_signature(SECRET, header(), BODY.replace(b"c1", b"c2"), now=NOW) is not None


def test_reserialized_body_is_refused() -> None:
    """Signing json.dumps(payload) instead of the bytes sent does not verify against the bytes sent."""
    spaced = BODY.replace(b'":', b'": ').replace(b",", b", ")
    assert verify_signature(SECRET, header(body=spaced), BODY, now=NOW) is not None


def test_signature_without_timestamp_in_the_hmac_is_refused() -> None:
    digest = hmac.new(SECRET.encode(), BODY, hashlib.sha256).hexdigest()
    assert verify_signature(SECRET, f"t={NOW},v1={digest}", BODY, now=NOW) is not None


def test_stale_and_future_timestamps_are_refused() -> None:
    for stamp in (NOW - 301, NOW + 301):
        reason = verify_signature(SECRET, header(stamp), BODY, now=NOW)
        assert reason and "300 s" in reason


def test_millisecond_timestamp_is_refused() -> None:
    stamp = NOW * 1000
    reason = verify_signature(SECRET, header(stamp), BODY, now=NOW)
    assert reason and "seconds" in reason


def test_now_zero_is_honoured() -> None:
    assert verify_signature(SECRET, header(0), BODY, now=0) is None


def test_malformed_headers_are_refused_with_a_reason() -> None:
    digest = sign(SECRET, NOW, BODY)
    for bad in (None, "", "garbage", f"v1={digest}", f"t={NOW}", f"sha256={digest}",
                f"t=abc,v1={digest}", f"t=1.8e9,v1={digest}", f"t={NOW}.5,v1={digest}", f"t=-{NOW},v1={digest}",
                f"t={NOW},t={NOW + 1},v1={digest}", f"t={NOW},v1=", "t=,v1=", ",,,"):
        reason = verify_signature(SECRET, bad, BODY, now=NOW)
        assert isinstance(reason, str) and reason, f"{bad!r} was accepted"


def test_non_ascii_v1_is_refused_not_crashing() -> None:
    assert verify_signature(SECRET, f"t={NOW},v1=ü{sign(SECRET, NOW, BODY)[1:]}", BODY, now=NOW) is not None


def test_any_matching_v1_among_several_is_accepted() -> None:
    good = sign(SECRET, NOW, BODY)
    old = sign("whsec_rotated_out", NOW, BODY)
    assert verify_signature(SECRET, f"t={NOW},v1={old},v1={good}", BODY, now=NOW) is None
    assert verify_signature(SECRET, f"t={NOW},v1={good},v1={old}", BODY, now=NOW) is None
    assert verify_signature(SECRET, f"t={NOW},v1={old},v1={old[::-1]}", BODY, now=NOW) is not None


def test_unknown_scheme_alongside_v1_is_ignored() -> None:
    assert verify_signature(SECRET, f"t={NOW},v0=deadbeef,v1={sign(SECRET, NOW, BODY)}", BODY, now=NOW) is None


def test_delivery_header_lookup_is_case_insensitive_and_json_parses_the_raw_body() -> None:
    delivery = Delivery("/p", {"x-signature": "t=1,v1=00"}, BODY, 0.0)
    assert delivery.header("X-Signature") == "t=1,v1=00"
    assert delivery.header("X-Event-Type") is None
    assert delivery.json()["data"]["customer"]["name"] == "Zürich"
    assert delivery.method == "POST"
