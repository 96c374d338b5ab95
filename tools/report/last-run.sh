#!/bin/sh
# The published report's memory between CI runs (used by .github/workflows/conformance.yml and its test):
#   last-run.sh fetch URL [REPORTS] [BASELINE_DIR]  take history.jsonl (Allure's Trend and per-test history)
#       and summary.json (the --baseline of the next run) from the last published report at URL; a first
#       run, or an unreachable URL, just has neither.
#   last-run.sh publish [REPORTS]  put history.jsonl and summary.json (as cstar-summary.json) next to the rendered html/index.html,
#       so that the next run finds them in the published report.
set -eu
action=${1:?usage: last-run.sh fetch URL [REPORTS] [BASELINE_DIR] | publish [REPORTS]}
case "$action" in
  fetch)
    url=${2%/}
    reports=${3:-reports}
    baseline=${4:-baseline}
    mkdir -p "$reports" "$baseline"
    if [ -z "$url" ]; then echo "last-run: no published report yet"; exit 0; fi
    curl -fsS --max-time 30 "$url/history.jsonl" -o "$reports/history.jsonl" 2>/dev/null \
      && echo "last-run: history of $(wc -l < "$reports/history.jsonl") run(s)" \
      || { rm -f "$reports/history.jsonl"; echo "last-run: no history published yet"; }
    curl -fsS --max-time 30 "$url/cstar-summary.json" -o "$baseline/summary.json" 2>/dev/null \
      && echo "last-run: baseline $baseline/summary.json" \
      || { rm -f "$baseline/summary.json"; echo "last-run: no baseline published yet"; }
    ;;
  publish)
    reports=${2:-reports}
    baseline=${3:-baseline}
    mkdir -p "$reports/html"
    if [ -f "$reports/history.jsonl" ]; then cp "$reports/history.jsonl" "$reports/html/history.jsonl"; fi
    # Allure writes its own html/summary.json: ours is published as cstar-summary.json.
    if grep -q '"test":' "$reports/summary.json" 2>/dev/null; then
      cp "$reports/summary.json" "$reports/html/cstar-summary.json"
    elif [ -f "$baseline/summary.json" ]; then
      cp "$baseline/summary.json" "$reports/html/cstar-summary.json"
    fi
    ;;
  *) echo "last-run: unknown action $action" >&2; exit 2 ;;
esac
