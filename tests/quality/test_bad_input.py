"""Bad input ends the run at once: one line naming the option (or variable) and its own exit status,
a summary.json that says "error" with that line, nothing sent to the target, no secret printed."""

from __future__ import annotations

from pathlib import Path

import pytest
from suite_runs import ROOT, clean_env, explicit, one_line_error, received, run

from cstar_conformance.exits import EXIT_PRODUCTION, EXIT_SPEC, EXIT_USAGE
from cstar_conformance.target import EmbeddedReference

KEY = "sk_test_" + "u" * 24
DEAD = "http://127.0.0.1:9/api/v1"
REMOTE = ["--base-url", DEAD, "--api-key", KEY, "--team-id", "team-1"]
LIVE = "sk_live_" + "l" * 24  # built here: no secret-looking literal in the repository


@pytest.mark.parametrize(("args", "env", "words"), [
    (["--base-url", ""], {}, ["--base-url is empty"]),
    ([], {"PYTEST_BASE_URL": ""}, ["PYTEST_BASE_URL is empty"]),
    (["--api-key", KEY], {}, ["--api-key given without a base URL"]),
    ([], {"CSTAR_TEAM_ID": "team-1"}, ["CSTAR_TEAM_ID given without a base URL"]),
    (["--base-url", DEAD], {}, ["--base-url needs --api-key"]),
    (["--max-rps", "-1"], {}, ["--max-rps '-1' is out of range"]),
    (["--max-rps", "nan"], {}, ["--max-rps 'nan'"]),
    ([], {"CSTAR_MAX_RPS": "fast"}, ["CSTAR_MAX_RPS='fast'"]),
    (["--seed", "-3"], {}, ["--seed '-3' is out of range"]),
    (["--sweep-older-than", "-5"], {}, ["--sweep-older-than '-5' is out of range"]),
    (["--max-requests", "0"], {}, ["--max-requests '0' is out of range"]),
    ([], {"CSTAR_PROFILE": "bogus"}, ["CSTAR_PROFILE='bogus' is not a profile"]),
    ([*REMOTE, "--other-team-id", "team-1", "--other-api-key", "sk_test_" + "v" * 24], {}, ["is the team under test"]),
    ([*REMOTE, "--other-team-id", "team-2"], {}, ["--other-team-id and --other-api-key go together"]),
    ([*REMOTE, "--webhook-public-url", "not a url"], {}, ["--webhook-public-url"]),
    ([*REMOTE, "--reference-fault", "search-name-only"], {}, ["--reference-fault applies to the embedded"]),
])
def test_unusable_options_are_one_line_usage_errors(args: list[str], env: dict[str, str], words: list[str],
                                                     tmp_path: Path) -> None:
    result = run("suites", *args, reports=tmp_path, env=clean_env(**env), timeout=60,
                 case=f"usage: {' '.join(args) or env}")
    one_line_error(result, EXIT_USAGE, tmp_path, *words)
    assert KEY not in result.output


def test_credentials_in_the_url_are_refused_and_never_printed(tmp_path: Path) -> None:
    result = run("suites", "--base-url", "https://ci:Hunter2Passw0rd@staging.example/api/v1", "--api-key", KEY,
                 "--team-id", "t", reports=tmp_path, case="usage: URL with user:password@")
    one_line_error(result, EXIT_USAGE, tmp_path, "carries credentials")
    assert "Hunter2" not in result.output
    assert not [p for p in tmp_path.rglob("*") if p.is_file() and "Hunter2" in p.read_text(errors="replace")]


@pytest.mark.parametrize("url", ["https://api.cstar.help/api/v1", "https://CSTAR.HELP./api/v1"])
def test_cstar_help_and_every_subdomain_are_production(url: str, tmp_path: Path) -> None:
    result = run("suites", "--base-url", url, "--api-key", KEY, "--team-id", "t", reports=tmp_path,
                 case=f"production host {url}")
    one_line_error(result, EXIT_PRODUCTION, tmp_path, "--allow-production")


@pytest.mark.parametrize("option", ["--other-api-key", "--publishable-key"])
def test_a_live_key_in_any_key_option_is_refused_before_any_request(option: str, reference: EmbeddedReference,
                                                                     tmp_path: Path) -> None:
    live = LIVE if option != "--publishable-key" else "pk_live_" + "l" * 24
    extra = [option, live] + (["--other-team-id", reference.target().other_team.id]
                              if option == "--other-api-key" else [])
    before = received(reference)
    result = run("suites", *explicit(reference), *extra, reports=tmp_path, case=f"live key in {option}")
    one_line_error(result, EXIT_PRODUCTION, tmp_path, "live key", option)
    assert live not in result.output
    assert received(reference) == before, "the production guard must act before any request"


SPEC_31 = (ROOT / "openapi" / "customers.yaml").read_text()


@pytest.mark.parametrize(("name", "content", "words"), [
    ("broken-yaml", "openapi: [3.1\n", "not valid YAML"),
    ("no-openapi-field", "info: {title: x}\npaths: {}\n", "no 'openapi' field"),
    ("binary", b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe" * 50, "not a text file"),
    ("swagger-2", 'swagger: "2.0"\ninfo: {title: x, version: "1"}\npaths: {}\n', "Swagger 2.0"),
    ("openapi-3.0", SPEC_31.replace("openapi: 3.1.0", "openapi: 3.0.3", 1), "OpenAPI 3.0.3"),
    ("not-this-api", "openapi: 3.1.0\ninfo: {title: x, version: '1'}\npaths: {}\n",
     "lacks GET /teams/{teamId}/customers"),
    ("missing", None, "No such file"),
])
def test_anything_but_an_openapi_31_spec_of_this_api_is_refused(name: str, content: str | bytes | None, words: str,
                                                                tmp_path: Path) -> None:
    spec = tmp_path / f"{name}.yaml"
    if isinstance(content, bytes):
        spec.write_bytes(content)
    elif content is not None:
        spec.write_text(content)
    result = run("suites", "--spec", str(spec), reports=tmp_path / "reports", timeout=60, case=f"spec: {name}")
    one_line_error(result, EXIT_SPEC, tmp_path / "reports", words)
