"""Install the package into the virtual environment: uv where it can be had, pip otherwise.

``make setup`` runs ``.venv/bin/python tools/install.py -e '.[test]'``. uv (a fast
pip-compatible installer from PyPI) is taken from PATH or installed into the venv with
pip; it is given pip's own index settings (``pip config list``: configuration files and
``PIP_*`` variables -- index-url, extra-index-url, find-links, constraint, trusted-host,
no-index, cert, timeout), so both installers read the same indexes. When uv's own
``UV_*`` index variables are set, they are left to uv. If uv cannot be installed or its
install fails, plain pip does the install (one line says so). Standard library only.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

#: pip option -> uv option (each value of a space-separated list passed separately)
_LIST_OPTIONS = {"index-url": "--index-url", "extra-index-url": "--extra-index-url",
                 "find-links": "--find-links", "constraint": "--constraint",
                 "trusted-host": "--allow-insecure-host"}
_UV_INDEX_VARS = ("UV_INDEX_URL", "UV_DEFAULT_INDEX", "UV_INDEX", "UV_EXTRA_INDEX_URL", "UV_FIND_LINKS",
                  "UV_NO_INDEX")


def pip_config(python: str) -> dict[str, str]:
    """pip's effective settings, ``option -> value`` (later sources win, as in pip)."""
    out = subprocess.run([python, "-m", "pip", "config", "list"], capture_output=True, text=True).stdout
    files: dict[str, str] = {}
    env: dict[str, str] = {}
    for line in out.splitlines():
        key, sep, value = line.partition("=")
        section, _, option = key.rpartition(".")
        if sep and section in ("global", "install", ":env:"):  # PIP_* variables override files
            (env if section == ":env:" else files)[option] = value.strip().strip("'\"")
    return {**files, **env}


def uv_args(conf: dict[str, str]) -> tuple[list[str], dict[str, str]]:
    """uv command-line options and environment that reproduce pip's index settings."""
    args, env = ["--index-strategy", "unsafe-best-match"], {}  # pip's rule: best version on any index
    if any(os.environ.get(v) for v in _UV_INDEX_VARS):
        return args, env
    for option, flag in _LIST_OPTIONS.items():
        for value in shlex.split(conf.get(option, "")):
            args += [flag, value]
    if conf.get("no-index", "").lower() in ("1", "true", "yes", "on"):
        args.append("--no-index")
    if conf.get("cert") and not os.environ.get("SSL_CERT_FILE"):
        env["SSL_CERT_FILE"] = conf["cert"]
    if conf.get("default-timeout") or conf.get("timeout"):
        env["UV_HTTP_TIMEOUT"] = conf.get("default-timeout") or conf["timeout"]
    return args, env


def find_uv(python: str) -> str | None:
    """uv on PATH or in the venv, else installed into the venv with pip; None if it cannot be had."""
    venv_uv = Path(python).parent / "uv"
    found = shutil.which("uv") or (str(venv_uv) if venv_uv.exists() else None)
    if found:
        return found
    r = subprocess.run([python, "-m", "pip", "install", "--quiet", "uv"])
    return str(venv_uv) if r.returncode == 0 and venv_uv.exists() else None


def main(argv: list[str]) -> int:
    python = sys.executable
    uv = None if os.environ.get("RESEARCH_NO_UV") else find_uv(python)
    if uv is not None:
        args, env = uv_args(pip_config(python))
        cmd = [uv, "pip", "install", "--quiet", "--python", python, *args, *argv]
        if subprocess.run(cmd, env={**os.environ, **env}).returncode == 0:
            return 0
        print("setup: uv could not install the package; installing with pip instead", file=sys.stderr)
    else:
        print("setup: uv is not available; installing with pip", file=sys.stderr)
    subprocess.run([python, "-m", "pip", "install", "--quiet", "--upgrade", "pip"], check=False)
    return subprocess.run([python, "-m", "pip", "install", "--quiet", *argv]).returncode


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
