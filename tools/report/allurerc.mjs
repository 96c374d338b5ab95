// Allure 3 configuration for `make report`: one self-contained HTML file that opens from file://,
// classic (allure2) look, no analytics script (ALLURE_NO_ANALYTICS=true is set by the Makefile).
// The history file (Trend and per-test history) is kept between runs: the Makefile names it, next to
// the run's results (reports/history.jsonl); the CI workflow fetches the published one first.
export default {
  name: "cStar Customers API conformance",
  output: "../../reports/html",
  historyPath: process.env.CSTAR_ALLURE_HISTORY || "../../reports/history.jsonl",
  // each remembered run adds ~36 kB to a gate run's report (every check carries its own history): 5 keep the
  // Trend and the recent per-check history while the report stays near 4 MB
  historyLimit: 5,
  plugins: {
    allure2: {
      options: {
        reportName: "cStar Customers API conformance",
        singleFile: true,
      },
    },
  },
};
