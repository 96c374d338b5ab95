"""`make spec-diff`: each kind of breaking change of the contract is reported (from edits of the real
spec), additions are not, and the command the workflow runs works on a git history."""

from __future__ import annotations

import copy
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from cstar_conformance.spec_diff import diff

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "openapi" / "customers.yaml"
BASE: dict[str, Any] = yaml.safe_load(SPEC.read_text())
CUSTOMERS, ONE = "/teams/{teamId}/customers", "/teams/{teamId}/customers/{customerId}"


def schemas(doc: dict[str, Any]) -> dict[str, Any]:
    return doc["components"]["schemas"]


def remove_operation(doc: dict[str, Any]) -> None:
    del doc["paths"][ONE]["delete"]


def remove_response_field(doc: dict[str, Any]) -> None:
    del schemas(doc)["Customer"]["properties"]["ticketCount"]


def response_field_optional(doc: dict[str, Any]) -> None:
    schemas(doc)["Customer"]["required"].remove("updatedAt")


def narrow_enum(doc: dict[str, Any]) -> None:
    for status in (schemas(doc)["CustomerStatus"], schemas(doc)["CustomerCreate"]["properties"]["status"]):
        status["enum"] = [value for value in status["enum"] if value != "inactive"]


def new_required_field(doc: dict[str, Any]) -> None:
    schemas(doc)["CustomerCreate"]["required"].append("notes")


def new_required_parameter(doc: dict[str, Any]) -> None:
    doc["paths"][CUSTOMERS]["get"].setdefault("parameters", []).append(
        {"name": "region", "in": "query", "required": True, "schema": {"type": "string"}})


def remove_status(doc: dict[str, Any]) -> None:
    del doc["paths"][CUSTOMERS]["post"]["responses"]["409"]


def add_status(doc: dict[str, Any]) -> None:
    doc["paths"][CUSTOMERS]["post"]["responses"]["418"] = {"description": "teapot"}


def tighten_limit(doc: dict[str, Any]) -> None:
    schemas(doc)["CustomerCreate"]["properties"]["name"]["maxLength"] = 3


@pytest.mark.parametrize(("edit", "where", "words"), [
    (remove_operation, f"DELETE {ONE}", "operation removed"),
    (remove_response_field, f"GET {ONE} → 200", "data.ticketCount: field removed from the response"),
    (response_field_optional, f"GET {ONE} → 200", "data.updatedAt: no longer always present"),
    (narrow_enum, f"POST {CUSTOMERS}", "body.status: enum narrowed"),
    (narrow_enum, f"GET {CUSTOMERS}", "query parameter status: enum narrowed"),
    (new_required_field, f"POST {CUSTOMERS}", "body.notes: new required field"),
    (new_required_parameter, f"GET {CUSTOMERS}", "new required query parameter region"),
    (remove_status, f"POST {CUSTOMERS}", "status 409 no longer documented"),
    (add_status, f"POST {CUSTOMERS}", "new status 418"),
    (tighten_limit, f"POST {CUSTOMERS}", "body.name: maxLength tightened"),
])
def test_each_kind_of_breaking_change_is_reported(edit: Callable[[dict[str, Any]], None], where: str,
                                                  words: str) -> None:
    head = copy.deepcopy(BASE)
    edit(head)
    breaking = [c for c in diff(BASE, head) if c.kind == "breaking"]
    assert any(c.where == where and words in c.what for c in breaking), [c.line() for c in breaking]


def test_the_same_spec_and_additions_are_not_breaking() -> None:
    assert diff(BASE, copy.deepcopy(BASE)) == []
    head = copy.deepcopy(BASE)
    head["paths"][CUSTOMERS]["get"].setdefault("parameters", []).append(
        {"name": "region", "in": "query", "schema": {"type": "string"}})
    schemas(head)["Customer"]["properties"]["region"] = {"type": "string"}
    schemas(head)["CustomerCreate"]["properties"]["name"].pop("maxLength", None)
    head["paths"]["/teams/{teamId}/exports"] = {"get": {"responses": {"200": {"description": "ok"}}}}
    assert [c for c in diff(BASE, head) if c.kind == "breaking"] == []


def git(folder: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args], cwd=folder,
                   check=True, capture_output=True, timeout=30)


def test_the_command_compares_the_spec_with_a_git_ref(tmp_path: Path) -> None:
    spec = tmp_path / "openapi" / "customers.yaml"
    spec.parent.mkdir()
    spec.write_text(SPEC.read_text())
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-qm", "base")
    command = [sys.executable, "-m", "cstar_conformance.spec_diff", "--base", "HEAD", "--spec", str(spec)]
    same = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert same.returncode == 0 and "0 breaking change(s)" in same.stdout
    head = copy.deepcopy(BASE)
    remove_operation(head)
    spec.write_text(yaml.safe_dump(head, sort_keys=False))
    changed = subprocess.run([*command, "--json", str(tmp_path / "changes.json")], capture_output=True, text=True,
                             timeout=60)
    assert changed.returncode == 1 and f"BREAKING  DELETE {ONE}: operation removed" in changed.stdout
    assert (tmp_path / "changes.json").exists()
    unknown = subprocess.run([*command[:4], "no-such-ref", *command[5:]], capture_output=True, text=True, timeout=60)
    assert unknown.returncode == 4 and unknown.stderr.count("\n") == 1 and "no-such-ref" in unknown.stderr


def test_the_workflow_runs_make_spec_diff_on_pull_requests_that_touch_the_spec() -> None:
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "spec-diff.yml").read_text())
    assert workflow[True]["pull_request"]["paths"] == ["openapi/**"]  # YAML 1.1 reads the key `on` as True
    steps = [step.get("run", "") for step in workflow["jobs"]["spec-diff"]["steps"]]
    assert "make spec-diff BASE=origin/${{ github.base_ref }}" in steps
    proc = subprocess.run(["make", "-s", "spec-diff", "BASE=HEAD"], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode in (0, 1) and "breaking change(s)" in proc.stdout, proc.stderr
