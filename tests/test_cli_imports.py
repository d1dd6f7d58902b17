"""The command line answers without loading what a command does not need.

``research --help`` and a usage error import no pandas, matplotlib, scipy or papermill;
importing ``research.claims`` / ``research.data`` loads nothing until a name is used, and
the article schema layer (``research article check``'s first phase) loads neither scipy
nor jsonschema's optional grammar parsers. Checked on ``sys.modules`` in a fresh
interpreter (deterministic, unlike a timing).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
HEAVY = ("pandas", "matplotlib", "scipy", "statsmodels", "papermill", "nbconvert", "rfc3987_syntax")


def _loaded(code: str) -> dict:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]))
    probe = (f"import sys, json\n{code}\n"
             f"print(json.dumps({{m: m in sys.modules for m in {HEAVY!r}}}))")
    r = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("argv", [["--help"], ["nonsense"], ["data"], ["article", "check"],
                                  ["article", "--help"]])
def test_help_and_usage_errors_import_nothing_heavy(argv):
    code = ("import contextlib, io\nfrom research.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):\n"
            f"    rc = main({argv!r})\n"
            "assert rc in (0, 2), rc")
    loaded = _loaded(code)
    assert not any(loaded.values()), {m for m, v in loaded.items() if v}


def test_packages_load_their_names_on_first_use():
    loaded = _loaded("import research, research.claims, research.data")
    assert not any(loaded.values()), {m for m, v in loaded.items() if v}
    loaded = _loaded("import research.data as d\nassert callable(d.load_prices)")
    assert loaded["pandas"]


def test_schema_layer_needs_no_scipy_nor_grammar_parsers():
    loaded = _loaded("import research.claims.authoring, research.claims.schema")
    assert not loaded["scipy"] and not loaded["rfc3987_syntax"]
    assert not loaded["matplotlib"] and not loaded["papermill"]


def test_lazy_names_are_the_same_objects_as_before():
    from research import claims, data
    from research.claims.evaluate import evaluate as evaluate_fn
    from research.claims.scoreboard import scoreboard as scoreboard_fn
    from research.data.sources import load_prices

    assert claims.evaluate is evaluate_fn and claims.scoreboard is scoreboard_fn
    assert data.load_prices is load_prices
    assert set(claims.__all__) <= set(dir(claims)) and set(data.__all__) <= set(dir(data))
    with pytest.raises(AttributeError):
        claims.no_such_name  # noqa: B018


def test_article_check_answers_a_schema_error_without_pandas(tmp_path):
    """A YAML typo is answered by the schema phase alone: exit 1, the key and its fix named,
    and nothing heavy (pandas, the calendar) loaded; a clean article goes on to the full check."""
    from research.claims.authoring import new_article

    art = tmp_path / "art"
    new_article(art)
    meta = art / "article.yaml"
    meta.write_text(meta.read_text(encoding="utf-8").replace("title:", "titel:", 1), encoding="utf-8")
    code = ("import contextlib, io\nfrom research.cli import main\nerr = io.StringIO()\n"
            "with contextlib.redirect_stderr(err):\n"
            f"    rc = main(['article', 'check', {str(art)!r}])\n"
            "assert rc == 1, rc\n"
            "assert \"did you mean 'title'\" in err.getvalue(), err.getvalue()")
    loaded = _loaded(code)
    assert not any(loaded.values()), {m for m, v in loaded.items() if v}
    meta.write_text(meta.read_text(encoding="utf-8").replace("titel:", "title:", 1), encoding="utf-8")
    loaded = _loaded(code.replace("rc == 1", "rc in (0, 1)").replace(
        "assert \"did you mean 'title'\" in err.getvalue(), err.getvalue()", ""))
    assert loaded["pandas"]  # no schema error: the full check ran (events, tickers, dates)
