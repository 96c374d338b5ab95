# Two entry points that work on a fresh clone: `make conformance` and `make test`.
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Extra pytest arguments, e.g. make conformance ARGS="--strict -k pagination". Never keys: make prints
# its commands, so keys come from the environment (CSTAR_API_KEY, CSTAR_OTHER_API_KEY, CSTAR_PUBLISHABLE_KEY).
ARGS ?=
ifneq ($(findstring -key,$(ARGS)),)
$(error ARGS carries a key option: export CSTAR_API_KEY (and CSTAR_OTHER_API_KEY, CSTAR_PUBLISHABLE_KEY) instead, since make prints ARGS)
endif

.PHONY: setup conformance test lint mutants mutmut report report-results matrix spec-diff trace contract-doc bench soak clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Against BASE_URL (keys and team from CSTAR_API_KEY, CSTAR_TEAM_ID … in the environment) or, with no
# BASE_URL, key or team anywhere, the embedded reference. BASE_URL given but empty is a usage error.
# make ends with status 2 whatever the suite's status: CI that needs the distinct status (README, "Exit
# status") runs .venv/bin/pytest suites itself, or reads exit_status from reports/summary.json.
conformance: $(STAMP)
	$(if $(filter command line environment,$(origin BASE_URL)),PYTEST_BASE_URL='$(BASE_URL)' )$(BIN)/pytest suites $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .

# The project's own tests (unit, reference, the suite run as users run it), then the mutation run.
# Three xdist workers on two cores, work-stealing: the quality tests mostly wait on the suite subprocesses
# they start (two workers kept the cores ~70% busy: 6.1 min; three: 4.7 min, the long tests no longer last).
test: $(STAMP) lint
	$(BIN)/pytest tests -p no:cacheprovider -n 3 --dist worksteal $(ARGS)
	$(BIN)/python -m cstar_conformance.selfcheck.mutants

# The suite against the clean reference, the legal-variation mode and every fault switch.
mutants: $(STAMP)
	$(BIN)/python -m cstar_conformance.selfcheck.mutants $(ARGS)

# Machine-made mutants (cosmic-ray) of the reference's request handling, each killed or not by the suite
# against a reference started from it; a sample of N (default 150: ~50 min on 2 shared cores) drawn with SEED; not part of `make test`.
# Writes reports/mutation.json; its last line gives the kill rate. Survivors: docs/mutation-survivors.md.
MUTATION_STAMP := $(VENV)/.mutation-installed
$(MUTATION_STAMP): pyproject.toml $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,mutation]'
	touch $(MUTATION_STAMP)

mutmut: $(MUTATION_STAMP)
	$(BIN)/python -m cstar_conformance.selfcheck.mutation $(if $(filter-out default file,$(origin N)),--n $(N)) \
		$(if $(SEED),--seed $(SEED)) $(ARGS)

clean:
	rm -rf reports/junit.xml reports/allure-results reports/summary.json reports/html

# Single-file HTML report (reports/html/index.html) with Allure 3 from npm, installed locally.
ALLURE := tools/report/node_modules/.bin/allure
$(ALLURE): tools/report/package.json
	cd tools/report && npm install --no-audit --no-fund --silent
	touch $(ALLURE)

# Renders only the last run's own results: a run clears the previous ones when it starts, so a run that
# ended before any result (or is still going) is refused here instead of showing an older one.
# Its front page says the verdict (verdict_page.py: by level, MUST failures first with their rule text,
# the diff against a baseline) above Allure's own pages. REPORTS=DIR renders another run's folder.
# Allure's history (Trend, per-test history) lives in $(REPORTS)/history.jsonl, which a run keeps: each
# `make report` adds the run to it (CI fetches the previous one from the published report first).
REPORTS ?= reports
REPORTS_ABS = $(abspath $(REPORTS))
report: report-results $(ALLURE) $(STAMP)
	cd tools/report && ALLURE_NO_ANALYTICS=true CSTAR_ALLURE_HISTORY='$(REPORTS_ABS)/history.jsonl' \
		./node_modules/.bin/allure generate '$(REPORTS_ABS)/allure-results' --config allurerc.mjs \
		--output '$(REPORTS_ABS)/html' >/dev/null
	$(BIN)/python -m cstar_conformance.verdict_page '$(REPORTS_ABS)/summary.json' '$(REPORTS_ABS)/html/index.html'
	@echo "report: $(REPORTS)/html/index.html ($$(du -k '$(REPORTS_ABS)/html/index.html' | cut -f1) kB)"

report-results:
	@test -d '$(REPORTS)/allure-results' || { echo "report: no results of the last run in $(REPORTS)/allure-results" \
		"(its verdict is in $(REPORTS)/summary.json)"; exit 1; }

# The suite against every target of TARGETS (a TOML file naming base URLs and the environment variables that
# hold the keys — never keys), one after the other; one page of rules × targets: $(REPORTS)/matrix/index.html.
# SUITE=PATH runs a part of the suite; ARGS go to each run's pytest.
TARGETS ?= targets.toml
SUITE ?= suites
matrix: $(STAMP)
	$(BIN)/python -m cstar_conformance.matrix --targets '$(TARGETS)' --out '$(REPORTS)/matrix' --suite '$(SUITE)' -- $(ARGS)

# Breaking changes of openapi/customers.yaml against the git ref BASE (removed operations or fields, narrowed
# enums or limits, new required inputs, changed status codes); exit 1 when there are any.
BASE ?= origin/main
spec-diff: $(STAMP)
	$(BIN)/python -m cstar_conformance.spec_diff --base '$(BASE)' --spec openapi/customers.yaml

# Our gate beside `st run` on the same spec and target: requests, seconds, faults caught.
bench: $(STAMP)
	$(BIN)/python -m cstar_conformance.selfcheck.bench $(ARGS)

# The clean gate N times with different seeds (alternating clean and legal-variation modes).
N ?= 20
soak: $(STAMP)
	$(BIN)/python -m cstar_conformance.selfcheck.soak -n $(N) $(ARGS)

# Every CONTRACT rule with the tests and faults that cover it; fails on a MUST rule without either.
trace: $(STAMP)
	$(BIN)/python -m cstar_conformance.selfcheck.trace

# docs/contract.md from the rules catalogue, with the tests, faults and legal modes of each rule
# (make test fails when the committed file is not current).
contract-doc: $(STAMP)
	$(BIN)/python -m cstar_conformance.selfcheck.contract_doc
