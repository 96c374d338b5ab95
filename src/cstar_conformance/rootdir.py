"""The command as typed: `pytest --baseline /elsewhere/summary.json` runs the session `--baseline=/elsewhere/…`
runs.

pytest finds its rootdir and configuration file before any plugin's options are known: the value of an option
it does not know yet, given after a space, looks like a test path to it. A path outside the project (a
baseline, a spec, a reports folder elsewhere) then moves the rootdir out of the project: the project's
configuration is not read (no `testpaths`, so everything under the current folder is collected; no
`cstar_reports_dir`). Once the plugins are loaded the arguments are parsed again with every option known;
this repeats pytest's own setup with the paths of that second parse, and takes its answer when it differs.
"""

from __future__ import annotations

from typing import Any

import pytest
from _pytest.config.findpaths import determine_setup


def repair(config: pytest.Config, args: list[str]) -> bool:
    """Redo the rootdir and configuration-file choice with the test paths as every plugin's options parse
    them; True when that changed them. An explicit `--rootdir` or `-c` is the user's choice and stays."""
    namespace: Any = config.known_args_namespace
    if namespace.inifilename or namespace.rootdir:
        return False
    rootpath, inipath, inicfg, ignored = determine_setup(
        inifile=None, override_ini=namespace.override_ini, args=list(namespace.file_or_dir or []),
        rootdir_cmd_arg=None, invocation_dir=config.invocation_params.dir)
    if rootpath == config.rootpath and inipath == config.inipath:
        return False
    defaulted_cut = str(config.inipath.parent) if config.inipath else str(config.rootpath)
    config._rootpath, config._inipath = rootpath, inipath
    config._inicfg, config._ignored_config_files = inicfg, ignored
    config._inicache.clear()
    config._parser.extra_info["rootdir"] = str(rootpath)
    config._parser.extra_info["inifile"] = str(inipath)
    addopts = config._validate_args(config.getini("addopts"), "via addopts config")
    if addopts:
        args[:] = addopts + args
        config.known_args_namespace = config._parser.parse_known_args(args, namespace=namespace)
    if namespace.confcutdir == defaulted_cut:
        config.known_args_namespace.confcutdir = str(inipath.parent if inipath else rootpath)
    return True
