"""Keeps the suite's plugin in place wherever pytest starts in this project.

The plugin (`cstar_conformance.pytest_plugin`) is installed with the package and loaded by pytest's entry
points, early enough to know its options when pytest reads the command line and to put the rootdir back in
the project when an option's path value (`--baseline /elsewhere/summary.json`) would move it
(`cstar_conformance/rootdir.py`). A CI that turns entry-point loading off (`PYTEST_DISABLE_PLUGIN_AUTOLOAD=1`
or `--disable-plugin-autoload`, a common hardening) would lose every option of the suite: this file loads the
plugin then, with the plugins the suite builds on (pytest-base-url, Schemathesis, Hypothesis, allure-pytest,
pytest-timeout), from the project's top level, the one place pytest still reads `pytest_plugins`. The
suite's fixtures and grading are registered by the plugin, only for sessions that run `suites/`.
"""

from __future__ import annotations

import os
import sys

_AUTOLOAD_OFF = bool(os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD")) or "--disable-plugin-autoload" in sys.argv
pytest_plugins = ["pytest_base_url.plugin", "schemathesis.pytest.plugin", "_hypothesis_pytestplugin",
                  "allure_pytest.plugin", "pytest_timeout", "cstar_conformance.pytest_plugin"] if _AUTOLOAD_OFF else []
