"""Several targets, one matrix, as a user runs it: two reference servers started by hand — one clean, one
with a fault — named in a targets file by base URL, team and the names of the variables holding their
keys; `make matrix` runs a part of the suite against each and renders one page of rules × targets whose
cells link to their evidence. A targets file that holds a key is refused with one line."""

from __future__ import annotations

import json
import re
import subprocess
import time
from pathlib import Path

from suite_runs import ROOT, clean_env

from cstar_conformance.reference.process import start_reference

SUBSET = "suites/scenarios/test_custom_fields.py"
FAULT = "customfields-stringified"


def make_matrix(targets: Path, reports: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["make", "-s", "matrix", f"TARGETS={targets}", f"REPORTS={reports}", f"SUITE={SUBSET}"],
                          cwd=ROOT, capture_output=True, text=True, env=env, timeout=300)


def test_two_targets_one_page_rules_by_targets_linked_to_evidence(tmp_path: Path) -> None:
    with start_reference(["--host", "127.0.0.1"]) as clean, \
            start_reference(["--host", "127.0.0.1", "--fault", FAULT]) as faulty:
        entries, env = [], clean_env()
        for name, server in (("clean", clean), ("faulty", faulty)):
            first, second = server.team_a, server.team_b
            entries.append(f'[[target]]\nname = "{name}"\nbase_url = "{server.base_url}"\n'
                           f'team_id = "{first["id"]}"\napi_key_env = "{name.upper()}_KEY"\n'
                           f'other_team_id = "{second["id"]}"\nother_api_key_env = "{name.upper()}_OTHER_KEY"\n')
            env[f"{name.upper()}_KEY"], env[f"{name.upper()}_OTHER_KEY"] = first["secret_key"], second["secret_key"]
        (tmp_path / "targets.toml").write_text("\n".join(entries))
        started = time.monotonic()
        proc = make_matrix(tmp_path / "targets.toml", tmp_path, env)
        seconds = time.monotonic() - started
    assert proc.returncode != 0, proc.stdout + proc.stderr  # one target fails: make ends non-zero
    assert "matrix: clean: PASS" in proc.stdout and "matrix: faulty: FAIL" in proc.stdout, proc.stdout + proc.stderr
    out = tmp_path / "matrix"
    data = json.loads((out / "matrix.json").read_text())
    rules = {t["name"]: t["rules"] for t in data["targets"]}
    assert rules["clean"]["CUSTOMFIELDS-TYPES"] == "pass" and rules["faulty"]["CUSTOMFIELDS-TYPES"] == "fail"
    page = (out / "index.html").read_text()
    assert "<a href='faulty/evidence.html#CUSTOMFIELDS-TYPES'>FAIL</a>" in page
    assert "<a href='clean/evidence.html#CUSTOMFIELDS-TYPES'>pass</a>" in page
    evidence = (out / "faulty" / "evidence.html").read_text()
    assert "id='CUSTOMFIELDS-TYPES'" in evidence and "got &#x27;12&#x27; (string)" in evidence
    for name in ("clean", "faulty"):
        keys = (env[f"{name.upper()}_KEY"], env[f"{name.upper()}_OTHER_KEY"])
        for path in [out / "index.html", out / "matrix.json", *(out / name).rglob("*")]:
            if path.is_file():
                assert not any(key in path.read_text(errors="replace") for key in keys), path
    assert not re.search(r"sk_test_\w{6,}", proc.stdout + proc.stderr)
    (ROOT / "reports").mkdir(exist_ok=True)
    (ROOT / "reports" / "matrix-timing.json").write_text(json.dumps({"targets": 2, "seconds": round(seconds, 1)}))


def test_a_targets_file_with_a_key_in_it_is_refused(tmp_path: Path) -> None:
    (tmp_path / "targets.toml").write_text('[[target]]\nname = "eu"\nbase_url = "https://eu.example/api/v1"\n'
                                           'team_id = "t"\napi_key = "sk_test_abcdefgh12345678"\n')
    proc = make_matrix(tmp_path / "targets.toml", tmp_path, clean_env())
    lines = [line for line in (proc.stdout + proc.stderr).splitlines() if line.startswith("matrix:")]
    assert len(lines) == 1 and "keys never go in it" in lines[0] and "sk_test_abcdefgh" not in lines[0]
    assert not (tmp_path / "matrix" / "index.html").exists()
