"""Option checking: flags and environment variables alike, every error naming its source, no secret
ever echoed. (The quality tests run the same cases end to end, as users do.)"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pytest

from cstar_conformance.exits import EXIT_CREDENTIALS, EXIT_USAGE, StopRun
from cstar_conformance.options import OPTIONS, resolve

KEY = "sk_test_" + "k" * 20
OTHER = "sk_test_" + "o" * 20
URL = "https://staging.example/api/v1"


def namespace(**given: Any) -> argparse.Namespace:
    values: dict[str, Any] = {spec.dest: None for spec in OPTIONS}
    values.update(base_url=None, allow_production=False, strict=False, reference_fault=[], reference_arg=[],
                  reference_variant=None)
    values.update(given)
    return argparse.Namespace(**values)


def run(env: dict[str, str] | None = None, args: list[str] | None = None, **given: Any) -> Any:
    return resolve(namespace(**given), args or [], env or {}, "", "reports", Path("/home/user/checkout"))


def refused(env: dict[str, str] | None = None, args: list[str] | None = None, **given: Any) -> StopRun:
    with pytest.raises(StopRun) as error:
        run(env, args, **given)
    return error.value


def test_nothing_given_is_the_embedded_reference_with_defaults() -> None:
    opts = run()
    assert opts.base_url is None and opts.profile == "gate" and opts.max_requests == 1000
    assert opts.reports_dir == Path("/home/user/checkout/reports")


def test_a_remote_target_takes_flags_and_environment() -> None:
    opts = run({"CSTAR_API_KEY": KEY, "CSTAR_TEAM_ID": "t1", "CSTAR_OTHER_TEAM_ID": ""}, base_url=URL + "/")
    assert (opts.base_url, opts.api_key, opts.team_id, opts.other_team_id) == (URL, KEY, "t1", None)
    assert opts.sources["--api-key"] == "CSTAR_API_KEY"


@pytest.mark.parametrize(("env", "given", "words"), [
    ({}, {"base_url": ""}, "--base-url is empty"),
    ({"PYTEST_BASE_URL": ""}, {"base_url": "  "}, "PYTEST_BASE_URL is empty"),
    ({}, {"api_key": KEY}, "--api-key given without a base URL"),
    ({"CSTAR_TEAM_ID": "t1"}, {}, "CSTAR_TEAM_ID given without a base URL"),
    ({}, {"webhook_public_url": "https://hooks.example/x"}, "--webhook-public-url given without a base URL"),
    ({}, {"base_url": URL, "reference_fault": ["x"]}, "--reference-fault applies to the embedded reference"),
    ({}, {"base_url": "ftp://x/api/v1", "api_key": KEY, "team_id": "t"}, "is not an http(s) URL"),
    ({}, {"base_url": "https://u:hunter2secret@s.example/api/v1", "api_key": KEY, "team_id": "t"},
     "carries credentials"),
    ({}, {"base_url": URL + "?key=1", "api_key": KEY, "team_id": "t"}, "query or fragment"),
    ({}, {"base_url": URL}, "--base-url needs --api-key (or CSTAR_API_KEY) and --team-id"),
    ({"CSTAR_API_KEY": ""}, {"base_url": URL, "team_id": "t"}, "CSTAR_API_KEY is set but empty"),
    ({}, {"base_url": URL, "api_key": "short", "team_id": "t"}, "not a plausible API key"),
    ({}, {"base_url": URL, "api_key": KEY, "team_id": "t", "other_team_id": "t2"}, "go together"),
    ({}, {"base_url": URL, "api_key": KEY, "team_id": "T1", "other_team_id": "t1", "other_api_key": OTHER},
     "is the team under test"),
    ({}, {"base_url": URL, "api_key": KEY, "team_id": "t1", "other_team_id": "t2", "other_api_key": KEY},
     "needs its own key"),
    ({}, {"base_url": URL, "api_key": KEY, "team_id": "t", "webhook_public_url": "hooks.example"},
     "--webhook-public-url 'hooks.example' is not an http(s) URL"),
    ({"CSTAR_PROFILE": "bogus"}, {}, "CSTAR_PROFILE='bogus' is not a profile"),
    ({}, {"profile": "fast"}, "--profile 'fast' is not a profile"),
    ({}, {"seed": "-1"}, "--seed '-1' is out of range"),
    ({"CSTAR_SEED": "1.5"}, {}, "CSTAR_SEED='1.5' is not an integer"),
    ({}, {"max_rps": "-1"}, "--max-rps '-1' is out of range"),
    ({}, {"max_rps": "0"}, "--max-rps '0' is out of range"),
    ({}, {"max_rps": "nan"}, "--max-rps 'nan' is not a rate"),
    ({"CSTAR_MAX_RPS": "inf"}, {}, "CSTAR_MAX_RPS='inf' is not a rate"),
    ({}, {"max_rps": "fast"}, "--max-rps 'fast' is not a rate"),
    ({}, {"sweep_older_than": "-5"}, "--sweep-older-than '-5' is out of range"),
    ({}, {"sweep_older_than": "1e300"}, "--sweep-older-than '1e300' is out of range"),
    ({"CSTAR_SWEEP_OLDER_THAN": "soon"}, {}, "CSTAR_SWEEP_OLDER_THAN='soon' is not minutes"),
    ({}, {"max_requests": "0"}, "--max-requests '0' is out of range"),
    ({}, {"max_requests": "1.5"}, "--max-requests '1.5' is not a whole number"),
    ({}, {"spec": " "}, "--spec is empty"),
    ({}, {"reports_dir": ""}, "--reports-dir is empty"),
])
def test_unusable_values_are_usage_errors_that_name_their_source(env: dict[str, str], given: dict[str, Any],
                                                                 words: str) -> None:
    flag = given.get("base_url") is not None and "PYTEST_BASE_URL" not in env  # else the variable gave it
    error = refused(env, ["--base-url"] if flag else [], **given)
    assert error.exit_status == EXIT_USAGE
    assert words in str(error), str(error)
    assert "hunter2" not in str(error) and KEY not in str(error)


@pytest.mark.parametrize("given", [
    {"api_key": "pk_test_" + "p" * 20},
    {"api_key": KEY, "other_team_id": "t2", "other_api_key": "pk_test_" + "q" * 20},
    {"api_key": KEY, "publishable_key": OTHER},
    {"api_key": KEY, "publishable_key": KEY},
])
def test_a_key_of_the_wrong_kind_for_its_option_is_a_credentials_error(given: dict[str, Any]) -> None:
    error = refused(base_url=URL, team_id="t1", **given)
    assert error.exit_status == EXIT_CREDENTIALS
    assert all(str(v) not in str(error) for k, v in given.items() if "key" in k)


def test_values_at_the_edges_of_their_ranges_are_accepted() -> None:
    opts = run(seed="0", max_rps="0.5", sweep_older_than="0", max_requests="20")
    assert (opts.seed, opts.max_rps, opts.sweep_minutes, opts.max_requests) == (0, 0.5, 0.0, 20)
