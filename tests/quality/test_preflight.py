"""The preflight: a target that is not there, not a JSON API, or a key that is refused or unfit for its
option ends the run in seconds with one line and its own exit status — never a hundred red checks."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from suite_runs import explicit, one_line_error, received, run

from cstar_conformance.exits import EXIT_CREDENTIALS, EXIT_UNREACHABLE
from cstar_conformance.target import EmbeddedReference, free_port

TEAM = "3f1c2a5e-0000-4000-8000-000000000001"
KEY = "custom" + "k" * 20  # no sk_/pk_ prefix: only the target's answers tell what it may do
LISTING = {"success": True, "data": [], "pagination": {"total": 0, "page": 1, "pageSize": 1, "hasMore": False}}
REFUSED = {"success": False, "error": {"code": "forbidden", "message": "read-only key"}}
INVALID = {"success": False, "error": {"code": "validation_error", "message": "name is required"}}


def fake_run(httpserver: HTTPServer, tmp_path: Path, case: str, *extra: str):
    return run("suites", "--base-url", httpserver.url_for("/api/v1"), "--api-key", KEY, "--team-id", TEAM, *extra,
               reports=tmp_path, timeout=60, case=case)


def test_dead_base_url_ends_the_run_fast_with_one_line(tmp_path: Path) -> None:
    started = time.monotonic()
    result = run("suites", "--base-url", f"http://127.0.0.1:{free_port()}/api/v1", "--api-key", "sk_test_x1234567890",
                 "--team-id", "t", reports=tmp_path, case="preflight: dead URL")
    one_line_error(result, EXIT_UNREACHABLE, tmp_path, "unreachable")
    assert time.monotonic() - started < 15


def test_refused_key_ends_the_run_with_its_own_status(reference: EmbeddedReference, tmp_path: Path) -> None:
    result = run("suites", *explicit(reference, key="sk_test_wrongwrongwrong"), reports=tmp_path,
                 case="preflight: refused key")
    one_line_error(result, EXIT_CREDENTIALS, tmp_path, "refused the key")
    assert "wrongwrong" not in result.output


def test_wrong_team_ends_the_run_with_the_credentials_status(reference: EmbeddedReference, tmp_path: Path) -> None:
    args = explicit(reference)
    args[-1] = reference.target().other_team.id  # a real team, but not this key's
    result = run("suites", *args, reports=tmp_path, case="preflight: team of another key")
    one_line_error(result, EXIT_CREDENTIALS, tmp_path, "not accessible")


def test_a_refused_second_key_is_named(reference: EmbeddedReference, tmp_path: Path) -> None:
    result = run("suites", *explicit(reference), "--other-team-id", reference.target().other_team.id,
                 "--other-api-key", "sk_test_notthesecondteamskey", reports=tmp_path,
                 case="preflight: refused --other-api-key")
    one_line_error(result, EXIT_CREDENTIALS, tmp_path, "--other-api-key")


def test_a_publishable_key_given_as_the_secret_key_ends_the_run_before_any_request(
        reference: EmbeddedReference, tmp_path: Path) -> None:
    before = received(reference)
    publishable = reference.target().team.publishable_key
    result = run("suites", *explicit(reference, key=publishable), reports=tmp_path, case="pk_ key as --api-key")
    one_line_error(result, EXIT_CREDENTIALS, tmp_path, "publishable key")
    assert publishable not in result.output and received(reference) == before


def test_a_secret_key_that_cannot_write_ends_the_run(httpserver: HTTPServer, tmp_path: Path) -> None:
    path = f"/api/v1/teams/{TEAM}/customers"
    httpserver.expect_request(path, method="GET").respond_with_json(LISTING)
    httpserver.expect_request(path, method="POST").respond_with_json(REFUSED, status=403)
    result = fake_run(httpserver, tmp_path, "preflight: read-only key as --api-key")
    one_line_error(result, EXIT_CREDENTIALS, tmp_path, "cannot write")


def test_a_publishable_key_that_can_write_is_not_a_publishable_key(httpserver: HTTPServer, tmp_path: Path) -> None:
    path = f"/api/v1/teams/{TEAM}/customers"
    httpserver.expect_request(path, method="GET").respond_with_json(LISTING)
    httpserver.expect_request(path, method="POST").respond_with_json(INVALID, status=422)
    result = fake_run(httpserver, tmp_path, "preflight: --publishable-key that can write",
                      "--publishable-key", "custom" + "p" * 20)
    one_line_error(result, EXIT_CREDENTIALS, tmp_path, "--publishable-key can write")


@pytest.mark.parametrize(("status", "body", "content_type"), [
    (200, "<!doctype html><html><body>Welcome</body></html>", "text/html"),
    (404, "<html><body>Not Found</body></html>", "text/html"),
    (200, "[]", "application/json"),
    (200, '"ok"', "application/json"),
])
def test_a_target_that_is_not_a_json_api_ends_the_run_with_one_line(status: int, body: str, content_type: str,
                                                                     httpserver: HTTPServer, tmp_path: Path) -> None:
    httpserver.expect_request(f"/api/v1/teams/{TEAM}/customers").respond_with_data(body, status=status,
                                                                                   content_type=content_type)
    result = fake_run(httpserver, tmp_path, f"preflight: {status} {content_type} {body[:12]}")
    one_line_error(result, EXIT_UNREACHABLE, tmp_path, "does not answer as a JSON API")
