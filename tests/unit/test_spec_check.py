"""The --spec check: anything that is not an OpenAPI 3.1 document of this API is refused with one line
(the quality tests run representative files end to end)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cstar_conformance.contract import SPEC_PATH, check_spec
from cstar_conformance.exits import EXIT_SPEC, StopRun

SPEC_31 = SPEC_PATH.read_text()


@pytest.mark.parametrize(("content", "words"), [
    ("openapi: [3.1\n", "not valid YAML at line"),
    ("- 1\n- 2\n", "top level is not a mapping"),
    ("", "top level is not a mapping"),
    ("just text\n", "top level is not a mapping"),
    ("info: {title: x}\n", "no 'openapi' field"),
    ('swagger: "2.0"\ninfo: {title: x, version: "1"}\npaths: {}\n', "Swagger 2.0"),
    (SPEC_31.replace("openapi: 3.1.0", "openapi: 3.0.3", 1), "OpenAPI 3.0.3"),
    (SPEC_31.replace("openapi: 3.1.0", "openapi: '4.0'", 1), "OpenAPI 4.0"),
    ("openapi: 3.1.0\ninfo: {title: x}\npaths: {}\n", "not valid OpenAPI 3.1"),
    ("openapi: 3.1.0\ninfo: {title: x, version: '1'}\npaths: {}\n", "lacks GET /teams/{teamId}/customers"),
    (SPEC_31.replace("  /teams/{teamId}/customers/{customerId}:", "  /teams/{teamId}/clients/{customerId}:", 1),
     "lacks GET /teams/{teamId}/customers/{customerId}"),
    (b"\xff\xfe\x00binary", "not a text file"),
    ("openapi: 3.1.0\x00\n", "NUL bytes"),
])
def test_what_is_not_an_openapi_31_spec_of_this_api_is_refused(content: str | bytes, words: str,
                                                                tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(StopRun) as error:
        check_spec(spec)
    assert error.value.exit_status == EXIT_SPEC and words in str(error.value), str(error.value)


def test_unreadable_paths_are_refused(tmp_path: Path) -> None:
    for path in (tmp_path / "missing.yaml", tmp_path):
        with pytest.raises(StopRun) as error:
            check_spec(path)
        assert error.value.exit_status == EXIT_SPEC and "cannot read the spec" in str(error.value)


def test_the_projects_own_spec_passes() -> None:
    check_spec(SPEC_PATH)
