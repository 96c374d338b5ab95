"""Several targets, one page: the suite against each target of a targets file, one after the other, and a
matrix of rules × targets whose cells are each rule's verdict on that target, linked to its evidence.

    python -m cstar_conformance.matrix --targets targets.toml [--out reports/matrix] [--suite PATH] [-- ARGS]

The targets file names each target's base URL and the *names* of the environment variables that hold its
keys — never a key (a file with a key in it is refused):

    [[target]]
    name = "staging-eu"
    base_url = "https://eu.staging.example/api/v1"
    team_id = "6b46825f-…"                  # or team_id_env = "EU_TEAM_ID"
    api_key_env = "EU_API_KEY"
    other_team_id_env = "EU_OTHER_TEAM_ID"  # optional, with other_api_key_env
    other_api_key_env = "EU_OTHER_API_KEY"
    publishable_key_env = "EU_PK"           # optional
    webhook_public_url = "https://…"        # optional, with webhook_listen = "0.0.0.0:8080"
    ca_bundle = "/etc/ssl/corp-ca.pem"      # optional
    target_version = "…"                    # optional (or target_version_env)

Each target's run goes to OUT/NAME/ (summary.json, junit.xml, allure-results/, evidence.html); the page
is OUT/index.html and the data OUT/matrix.json. Exit status: 0 when every target passed, 1 when one did
not, 4 for a targets file that cannot be used (one line).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any

from cstar_conformance.baseline import broken_rules
from cstar_conformance.exits import EXIT_USAGE, StopRun
from cstar_conformance.rules import RULES, SECTIONS

ROOT = Path(__file__).resolve().parents[2]
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# (file key, suite variable, required): values read from the environment variable the file names.
_FROM_ENV = (("api_key_env", "CSTAR_API_KEY", True), ("other_api_key_env", "CSTAR_OTHER_API_KEY", False),
             ("publishable_key_env", "CSTAR_PUBLISHABLE_KEY", False), ("team_id_env", "CSTAR_TEAM_ID", False),
             ("other_team_id_env", "CSTAR_OTHER_TEAM_ID", False),
             ("target_version_env", "CSTAR_TARGET_VERSION", False))
_PLAIN = (("base_url", "PYTEST_BASE_URL"), ("team_id", "CSTAR_TEAM_ID"), ("other_team_id", "CSTAR_OTHER_TEAM_ID"),
          ("webhook_public_url", "CSTAR_WEBHOOK_PUBLIC_URL"), ("webhook_listen", "CSTAR_WEBHOOK_LISTEN"),
          ("ca_bundle", "CSTAR_CA_BUNDLE"), ("target_version", "CSTAR_TARGET_VERSION"))
_KNOWN = {"name"} | {k for k, _, _ in _FROM_ENV} | {k for k, _ in _PLAIN}
_CELL = {"pass": ("pass", "#1e7b34"), "fail": ("FAIL", "#b3261e"), "finding": ("finding", "#9a6700"),
         "blocked": ("blocked", "#6b6b6b"), "skipped": ("skipped", "#6b6b6b"), "not run": ("not run", "#9a6700"),
         "none": ("—", "#999")}


@dataclass
class MatrixTarget:
    name: str
    environment: dict[str, str]  # the suite's variables for this target (keys included: never printed)
    base_url: str
    result: dict[str, Any] = field(default_factory=dict)


def load_targets(path: Path, environ: dict[str, str] | os._Environ[str]) -> list[MatrixTarget]:
    """The targets of the file, checked; StopRun (usage, 4) naming the first problem."""
    def refuse(message: str) -> StopRun:
        return StopRun(f"{path}: {message}", EXIT_USAGE)

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise refuse(f"cannot be read ({exc.strerror or exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise refuse(f"is not TOML ({exc})") from None
    entries = data.get("target")
    if not isinstance(entries, list) or not entries:
        raise refuse("names no target: give one [[target]] table per target")
    targets: list[MatrixTarget] = []
    for number, entry in enumerate(entries, 1):
        name = str(entry.get("name", ""))
        label = f"target {name or number}"
        if not _NAME.match(name):
            raise refuse(f"{label}: give a name of letters, digits, '.', '_' or '-' (it names its folder)")
        if name in {t.name for t in targets}:
            raise refuse(f"{label}: the name is used twice")
        unknown = sorted(set(entry) - _KNOWN)
        if unknown:
            secretish = [k for k in unknown if "key" in k.lower() or "secret" in k.lower() or "token" in k.lower()]
            if secretish:
                raise refuse(f"{label}: '{secretish[0]}' looks like a key given in the file: keys never go in "
                             "it — name the environment variable that holds it (api_key_env = \"…\")")
            raise refuse(f"{label}: unknown setting '{unknown[0]}' (known: {', '.join(sorted(_KNOWN))})")
        env: dict[str, str] = {}
        for key, variable in _PLAIN:
            if key in entry:
                env[variable] = str(entry[key])
        if not env.get("PYTEST_BASE_URL"):
            raise refuse(f"{label}: base_url is missing")
        for key, variable, required in _FROM_ENV:
            if key not in entry:
                if required:
                    raise refuse(f"{label}: {key} is missing: name the environment variable holding the key")
                continue
            holder = str(entry[key])
            if not _ENV_NAME.match(holder):
                raise refuse(f"{label}: {key} must name an environment variable, not hold a value")
            value = environ.get(holder, "").strip()
            if not value:
                raise refuse(f"{label}: the environment variable {holder} ({key}) is not set")
            env[variable] = value
        if "CSTAR_TEAM_ID" not in env:
            raise refuse(f"{label}: give team_id (or team_id_env)")
        targets.append(MatrixTarget(name, env, env["PYTEST_BASE_URL"]))
    return targets


def _suite_environment(target: MatrixTarget) -> dict[str, str]:
    """This process's environment without any suite variable, plus the target's own."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("CSTAR_", "PYTEST_BASE_URL", "PYTEST_ADDOPTS"))}
    return {**base, **target.environment}


def run_target(target: MatrixTarget, out: Path, suite: str, args: list[str]) -> None:
    folder = out / target.name
    command = [sys.executable, "-m", "pytest", suite, "-p", "no:cacheprovider", "--reports-dir", str(folder), *args]
    started = time.monotonic()
    proc = subprocess.run(command, cwd=ROOT, env=_suite_environment(target), capture_output=True, text=True)
    (folder).mkdir(parents=True, exist_ok=True)
    (folder / "output.txt").write_text(proc.stdout + proc.stderr)
    try:
        summary = json.loads((folder / "summary.json").read_text())
    except (OSError, ValueError):
        summary = {"verdict": "error", "reason": "the run left no summary (see output.txt)", "checks": []}
    target.result = {"exit_status": proc.returncode, "seconds": round(time.monotonic() - started, 1),
                     "summary": summary}


def rule_verdicts(summary: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each rule's verdict on one target, from the checks that name it, with those checks. A red check
    counts against the rules its failure names (`broken_rules`), not every rule it covers."""
    found: dict[str, dict[str, Any]] = {}
    for check in summary.get("checks") or []:
        red = check.get("verdict") in ("failed", "error", "finding")
        broken = broken_rules(check) if red else []
        for rule_id in check.get("rules") or []:
            if red and rule_id not in broken:
                continue  # the check stopped at another rule's failure: no verdict on this one
            found.setdefault(rule_id, {"checks": []})["checks"].append(check)
    for cell in found.values():
        verdicts = {c["verdict"] for c in cell["checks"]}
        for verdict, name in (("failed", "fail"), ("error", "fail"), ("finding", "finding"), ("blocked", "blocked"),
                              ("not run", "not run")):
            if verdict in verdicts:
                cell["verdict"] = name
                break
        else:
            cell["verdict"] = "pass" if "passed" in verdicts else "skipped"
    return found


def _evidence_page(target: MatrixTarget, out: Path, cells: dict[str, dict[str, Any]]) -> None:
    summary = target.result["summary"]
    files = ("summary.json", "junit.xml", "output.txt", "html/index.html")
    links = " · ".join(f"<a href='{name}'>{name}</a>" for name in files if (out / target.name / name).exists())
    parts = [f"<h1>{escape(target.name)}: {escape(str(summary.get('verdict', '?')).upper())}</h1>",
             f"<p>{escape(str(summary.get('reason', '')))}</p><p>{links}</p>"]
    for rule in RULES:
        cell = cells.get(rule.id)
        if cell is None:
            continue
        rows = "".join(f"<li>{escape(c['verdict'])}: <code>{escape(c.get('id') or c['test'])}</code>"
                       + (f" — {escape(c.get('message') or '')}" if c.get("message") else "") + "</li>"
                       for c in cell["checks"])
        parts.append(f"<h2 id='{rule.id}'>{rule.id} ({rule.level.value}): {escape(cell['verdict'])}</h2>"
                     f"<p>{escape(rule.title)}</p><ul>{rows}</ul>")
    (out / target.name / "evidence.html").write_text(_page(f"cStar evidence — {target.name}", "".join(parts)))


def _page(title: str, body: str) -> str:
    style = ("body{font:14px/1.4 system-ui,sans-serif;margin:24px}table{border-collapse:collapse}"
             "td,th{border:1px solid #ddd;padding:3px 8px}td.cell a{color:#fff;text-decoration:none;display:block}"
             "th.section{text-align:left;background:#f3f3f3}")
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{escape(title)}</title>"
            f"<style>{style}</style></head><body>{body}</body></html>\n")


def render(targets: list[MatrixTarget], out: Path) -> dict[str, Any]:
    """OUT/index.html (rules × targets), each target's evidence page, and OUT/matrix.json."""
    cells = {t.name: rule_verdicts(t.result["summary"]) for t in targets}
    for target in targets:
        _evidence_page(target, out, cells[target.name])
    head = "".join(
        f"<th><a href='{t.name}/evidence.html'>{escape(t.name)}</a><br>{escape(t.base_url)}<br>"
        f"<b>{escape(str(t.result['summary'].get('verdict', '?')).upper())}</b> (exit {t.result['exit_status']}, "
        f"{t.result['seconds']} s)</th>" for t in targets)
    rows, section = [], None
    for rule in RULES:
        if rule.section != section:
            section = rule.section
            rows.append(f"<tr><th class='section' colspan='{len(targets) + 1}'>"
                        f"{escape(SECTIONS.get(section, section))}</th></tr>")
        tds = []
        for target in targets:
            cell = cells[target.name].get(rule.id)
            text, colour = _CELL[cell["verdict"] if cell else "none"]
            link = f"<a href='{target.name}/evidence.html#{rule.id}'>{text}</a>" if cell else text
            tds.append(f"<td class='cell' style='background:{colour if cell else '#fff'}'>{link}</td>")
        rows.append(f"<tr><td title='{escape(rule.statement)}'><b>{rule.id}</b> ({rule.level.value}) "
                    f"{escape(rule.title)}</td>{''.join(tds)}</tr>")
    body = (f"<h1>cStar conformance matrix: {len(RULES)} rules × {len(targets)} targets</h1>"
            "<p>Each cell is the rule's verdict on that target (FAIL if any check of the rule failed; a SHOULD "
            "rule's failure is a finding; — no check of the rule ran), linked to the checks behind it.</p>"
            f"<table><tr><th>rule</th>{head}</tr>{''.join(rows)}</table>")
    (out / "index.html").write_text(_page("cStar conformance matrix", body))
    data = {"targets": [{"name": t.name, "base_url": t.base_url, "verdict": t.result["summary"].get("verdict"),
                         "exit_status": t.result["exit_status"], "seconds": t.result["seconds"],
                         "rules": {r: c["verdict"] for r, c in cells[t.name].items()}} for t in targets]}
    (out / "matrix.json").write_text(json.dumps(data, indent=2) + "\n")
    return data


def main(argv: list[str] | None = None) -> int:
    import argparse

    argv = list(sys.argv[1:] if argv is None else argv)
    extra = argv[argv.index("--") + 1:] if "--" in argv else []
    own = argv[:argv.index("--")] if "--" in argv else argv
    parser = argparse.ArgumentParser(prog="python -m cstar_conformance.matrix",
                                     description="the suite against several targets, one matrix page")
    parser.add_argument("--targets", type=Path, required=True, help="the targets file (TOML)")
    parser.add_argument("--out", type=Path, default=Path("reports/matrix"), help="where the page and runs go")
    parser.add_argument("--suite", default="suites", help="what to run (default: the whole suite)")
    args = parser.parse_args(own)
    if any("key" in a.lower() and a.startswith("--") for a in extra):
        sys.stderr.write("matrix: keys never go on the command line: name their variables in the targets file\n")
        return EXIT_USAGE
    try:
        targets = load_targets(args.targets, os.environ)
    except StopRun as error:
        sys.stderr.write(f"matrix: {error}\n")
        return error.exit_status
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    for target in targets:
        run_target(target, out, args.suite, extra)
        summary = target.result["summary"]
        print(f"matrix: {target.name}: {str(summary.get('verdict', '?')).upper()} — {summary.get('reason', '')} "
              f"({target.result['seconds']} s)", flush=True)
    render(targets, out)
    print(f"matrix: {out / 'index.html'}")
    return 0 if all(t.result["summary"].get("verdict") == "pass" for t in targets) else 1


if __name__ == "__main__":
    raise SystemExit(main())
