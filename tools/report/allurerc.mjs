// Allure 3 configuration for `make report`: one self-contained HTML file that opens from file://,
// classic (allure2) look, no analytics script (ALLURE_NO_ANALYTICS=true is set by the Makefile).
export default {
  name: "cStar Customers API conformance",
  output: "../../reports/html",
  plugins: {
    allure2: {
      options: {
        reportName: "cStar Customers API conformance",
        singleFile: true,
      },
    },
  },
};
