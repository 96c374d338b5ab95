"""One run from start to verdict: it holds its reports folder, starts (or names) the target, proves it
with the preflight, hands it to xdist workers, and leaves a truthful summary.json however it ends —
a verdict, an error with its one line, or "incomplete" after an interrupt or an exhausted budget."""

from __future__ import annotations

import socket
import sys
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from cstar_conformance import baseline, evidence, reporting, summary
from cstar_conformance.client import Masker
from cstar_conformance.exits import (
    EXIT_BUDGET,
    EXIT_BUSY,
    EXIT_INTERRUPTED,
    EXIT_PASSED,
    EXIT_USAGE,
    MEANING,
    StopRun,
)
from cstar_conformance.factory import new_run_id, sweep_stale
from cstar_conformance.interrupts import Interrupts
from cstar_conformance.network import Trust
from cstar_conformance.options import RunOptions
from cstar_conformance.runfolder import RunFolder
from cstar_conformance.session import Session, current, family, set_current
from cstar_conformance.target import EmbeddedReference, Target, Team, check_production
from cstar_conformance.traffic import Budget, RequestStats, SharedLedger, Throttle, Traffic


@dataclass
class Run:
    """What the controller process knows about its run before and around the pytest session."""

    folder: RunFolder
    interrupts: Interrupts = field(default_factory=Interrupts)
    refused: StopRun | None = None  # found before pytest could report it (the folder is another run's)
    embedded: EmbeddedReference | None = None
    handoff: dict[str, Any] | None = None  # what xdist workers need to join the run

    def begin(self) -> None:
        """Take the folder, clear the previous run's results, say "incomplete" until there is a verdict."""
        try:
            self.folder.acquire()
        except StopRun as busy:
            self.refused = busy
            return
        self.folder.clear_previous()
        self.folder.write_json(self.folder.summary, summary.started())
        self.interrupts.on_second = self.stop_at_once
        self.interrupts.install()

    def end(self) -> None:
        self.interrupts.uninstall()
        self.folder.release()

    def start(self, opts: RunOptions) -> Session:
        """Production guard, spec, target and preflight: the run's Session, or StopRun/BudgetExhausted."""
        from cstar_conformance import contract
        from cstar_conformance.preflight import preflight

        keys = {opts.sources.get(flag, flag): key for flag, key in (
            ("--api-key", opts.api_key), ("--other-api-key", opts.other_api_key),
            ("--publishable-key", opts.publishable_key))}
        check_production(opts.base_url, keys, opts.allow_production)
        spec = opts.spec or contract.SPEC_PATH
        contract.check_spec(spec)
        previous = baseline.load(opts.baseline, Path.cwd()) if opts.baseline else None
        if opts.base_url:
            other = Team(opts.other_team_id, opts.other_api_key) if opts.other_team_id and opts.other_api_key else None
            target = Target(opts.base_url, Team(opts.team_id or "", opts.api_key or "", opts.publishable_key), other,
                            webhook_public_url=opts.webhook_public_url, description=opts.base_url,
                            webhook_listen=opts.webhook_listen, trust=opts.trust)
        else:
            self.embedded = EmbeddedReference(list(opts.reference_faults), opts.reference_variant,
                                              list(opts.reference_args))
            with self.interrupts.deferred():
                self.embedded.start()
            target = replace(self.embedded.target(opts.webhook_public_url), webhook_listen=opts.webhook_listen,
                             trust=opts.trust)
        if opts.webhook_listen:
            check_listen(opts.webhook_listen, opts.sources.get("--webhook-listen", "--webhook-listen"))
        state = Session(target=target, run_id=new_run_id(), strict=opts.strict, profile=opts.profile, seed=opts.seed,
                        allow_production=opts.allow_production, sweep_minutes=opts.sweep_minutes, spec_path=spec,
                        traffic=Traffic(budget=Budget(opts.max_requests), throttle=Throttle(opts.max_rps),
                                        checkpoint=self.interrupts.check),
                        embedded=self.embedded, evidence=reporting.exchange_step, reports_dir=self.folder.path,
                        interrupts=self.interrupts, baseline=previous, fail_on=opts.fail_on,
                        target_version=opts.target_version or (summary.embedded_version() if self.embedded else None))
        set_current(state)
        preflight(state, opts.sources)
        if not self.embedded:
            sweep(state)
        self.handoff = handoff(state, opts)
        return state

    def stop_before_tests(self, message: str, exit_status: int, secrets: list[str]) -> int:
        """The run ends before any test: its one line, its status, and a summary that says so."""
        if self.interrupts.received and exit_status != EXIT_INTERRUPTED:  # e.g. the reference died of the Ctrl-C
            message, exit_status = f"interrupted during start-up ({self.interrupts.first})", EXIT_INTERRUPTED
        state = current()
        masker = Masker(secrets + (state.target.secrets() if state else []))
        self.stop_embedded()
        set_current(None)
        if exit_status != EXIT_BUSY:
            extra = {"run_id": state.run_id, "target": state.target.description} if state else {}
            if state:
                extra["requests"] = reporting.requests_of(state)
                extra["requests"].pop("by_answer", None)
                extra["quota"] = extra["requests"].pop("quota", None)
            self.folder.write_json(self.folder.summary, summary.errored(message, exit_status, **extra), masker)
            verdict = summary.errored(message, exit_status)["verdict"]
            reporting.write_categories(self.folder.allure)
            reporting.write_run_verdict(self.folder.allure, verdict, masker(message))
        sys.stderr.write(f"cstar: {masker(message)}\n")
        return exit_status

    def stop_embedded(self) -> None:
        if self.embedded is not None:
            self.embedded.stop()
            self.embedded = None

    def stop_at_once(self, signal_name: str) -> str:
        """A second signal: record the verdict, stop the embedded target, and say what was left undone."""
        state = current()
        reason = f"interrupted twice ({', '.join(self.interrupts.received)}): stopped at once, cleanup cut short"
        try:
            if state is None:
                self.folder.write_json(self.folder.summary, summary.errored(reason, EXIT_INTERRUPTED))
            else:
                state.stopped = reason
                data = summary.final(state, EXIT_INTERRUPTED, reporting.requests_of(state))
                self.folder.write_json(self.folder.summary, data, state.masker)
        finally:
            self.stop_embedded()
        if state is None or state.target.embedded:
            return f"cstar: {signal_name} again — stopped at once (verdict: incomplete)"
        return (f"cstar: {signal_name} again — stopped at once (verdict: incomplete); records of run {state.run_id} "
                f"may remain on the target: the next run sweeps them after {state.sweep_minutes:g} minutes")

    def finish(self, state: Session, exitstatus: int, allure_dir: Path | None) -> int:
        """Write the verdict of a run that reached its checks; return its exit status."""
        if state.traffic.budget.exhausted and not state.stopped:
            state.stopped = state.traffic.budget.exhausted
        status = EXIT_BUDGET if state.stopped and state.stopped.startswith("budget exhausted") else exitstatus
        state.exit_status = status
        data = summary.final(state, status, reporting.requests_of(state))
        if state.baseline is not None:
            state.diff = baseline.diff(state.baseline, data, state.fail_on, state.strict)
            data["baseline"] = state.diff
            if baseline.gate_passes(data, state.diff):
                known = data["must_failures"]
                status = state.exit_status = EXIT_PASSED
                data.update(verdict=summary.PASS, exit_status=EXIT_PASSED, exit_meaning=MEANING[EXIT_PASSED],
                            reason=f"no new failure since the baseline (--fail-on new); {known} known MUST "
                                   f"failure(s) still failing, listed")
        if allure_dir is not None:
            data["evidence"] = evidence.trim(allure_dir)
        state.verdict = (data["verdict"], data["reason"])
        self.folder.write_json(self.folder.summary, data, state.masker)
        if allure_dir is not None:
            reporting.write_environment(state, allure_dir, data["verdict"], state.masker(data["reason"]))
            if not data["complete"] or data["verdict"] not in (summary.PASS, summary.FAIL):
                reporting.write_run_verdict(allure_dir, data["verdict"], state.masker(data["reason"]))
        return status


def sweep(state: Session) -> None:
    """What earlier, interrupted runs left on both teams (older than --sweep-older-than): deleted once per run,
    after the preflight and before the run's first record — under xdist by the controller alone, where a
    worker's own sweep could take the records another worker had just made (with --sweep-older-than 0)."""
    target = state.target
    teams = [target.team] + ([target.other_team] if target.other_team else [])
    with family("sweep"):
        for team in teams:
            client = state.client(team.api_key, team.id)
            try:
                sweep_stale(client, timedelta(minutes=state.sweep_minutes), state.sweep_pages.get(team.id))
            finally:
                client.close()


LEDGER = ".requests.json"  # in the run's folder: the run's one request count under xdist


def check_listen(address: tuple[str, int], source: str) -> None:
    """The receiver's address can be bound here (before the first request: a busy port is a usage error)."""
    host, port = address
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        with socket.socket(infos[0][0], socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(infos[0][4])
    except OSError as error:
        raise StopRun(f"{source} {host}:{port} cannot be bound ({error.strerror or error}): give a free port on an "
                      "address of this machine", EXIT_USAGE) from None


def handoff(state: Session, opts: RunOptions) -> dict[str, Any]:
    """Everything an xdist worker needs to join this run (the controller started the target)."""
    target = state.target
    return {
        "base_url": target.base_url, "team": [target.team.id, target.team.api_key, target.team.publishable_key],
        "other_team": [target.other_team.id, target.other_team.api_key] if target.other_team else None,
        "webhook_public_url": target.webhook_public_url, "embedded": target.embedded,
        "webhook_listen": list(target.webhook_listen) if target.webhook_listen else None,
        "trust": [target.trust.path, target.trust.source],
        "description": target.description, "details": dict(target.details), "run_id": state.run_id,
        "strict": state.strict, "profile": state.profile, "seed": state.seed, "sweep_minutes": state.sweep_minutes,
        "spec_path": str(state.spec_path), "max_rps": opts.max_rps, "max_requests": opts.max_requests,
        "used": state.stats.total, "reports_dir": str(state.reports_dir),
        "ledger": str(SharedLedger.create(state.reports_dir / LEDGER, state.stats.total).path),
    }


def worker_session(data: dict[str, Any], worker_id: str, workers: int) -> Session:
    """A worker's Session: the controller's target, its own data namespace and share of the budget."""
    team_id, key, publishable = data["team"]
    other = Team(*data["other_team"]) if data["other_team"] else None
    target = Target(data["base_url"], Team(team_id, key, publishable), other,
                    webhook_public_url=data["webhook_public_url"], embedded=data["embedded"],
                    webhook_listen=tuple(data["webhook_listen"]) if data.get("webhook_listen") else None,
                    trust=Trust(*data["trust"]),
                    description=data["description"], details=data["details"])
    # One budget for the whole run (the ledger all processes add to); the throttle is per process: each worker
    # takes its share of the rate.
    ledger = SharedLedger(Path(data["ledger"]), worker_id or "worker")
    rps = float(data["max_rps"]) / max(1, workers) if data["max_rps"] else 0.0
    # the worker's own run id ends with a letter after its number: "gw1w" is in no id of gw10, whose audit would
    # otherwise find — and delete — gw1's records, or gw1's find gw10's while they are in use
    return Session(target=target, run_id=f"{data['run_id']}{worker_id}w", strict=data["strict"],
                   profile=data["profile"],
                   seed=data["seed"], sweep_minutes=data["sweep_minutes"], spec_path=Path(data["spec_path"]),
                   traffic=Traffic(budget=Budget(int(data["max_requests"])),
                                   throttle=Throttle(rps), stats=RequestStats(ledger=ledger)),
                   evidence=reporting.exchange_step, reports_dir=Path(data["reports_dir"]))
