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

.PHONY: setup conformance test lint mutants report report-results trace contract-doc bench soak clean

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
# Two xdist workers: the quality tests mostly wait on the suite subprocesses they start.
test: $(STAMP) lint
	$(BIN)/pytest tests -p no:cacheprovider -n 2 $(ARGS)
	$(BIN)/python -m cstar_conformance.selfcheck.mutants

# The suite against the clean reference, the legal-variation mode and every fault switch.
mutants: $(STAMP)
	$(BIN)/python -m cstar_conformance.selfcheck.mutants $(ARGS)

clean:
	rm -rf reports/junit.xml reports/allure-results reports/summary.json reports/html

# Single-file HTML report (reports/html/index.html) with Allure 3 from npm, installed locally.
ALLURE := tools/report/node_modules/.bin/allure
$(ALLURE): tools/report/package.json
	cd tools/report && npm install --no-audit --no-fund --silent
	touch $(ALLURE)

# Renders only the last run's own results: a run clears the previous ones when it starts, so a run that
# ended before any result (or is still going) is refused here instead of showing an older one.
report: report-results $(ALLURE)
	cd tools/report && ALLURE_NO_ANALYTICS=true ./node_modules/.bin/allure generate ../../reports/allure-results \
		--config allurerc.mjs >/dev/null
	@echo "report: reports/html/index.html"

report-results:
	@test -d reports/allure-results || { echo "report: no results of the last run in reports/allure-results" \
		"(its verdict is in reports/summary.json)"; exit 1; }

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
