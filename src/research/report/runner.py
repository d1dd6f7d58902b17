"""Run the portfolio's notebooks with papermill, in parallel, and export them to HTML.

``build_reports()`` is the batch builder behind ``research report``:

1. **Plan** (:func:`plan_runs`): read every selected notebook's ``parameters`` cell,
   apply the portfolio's per-notebook overrides, then ``-p NAME VALUE`` overrides (to every selected
   notebook that declares NAME), type-check everything and inject ``verdict_path``.
   Any unknown or ill-typed parameter raises :class:`~research.errors.ParameterError`
   *before anything runs* (no file is written).
2. **Execute** each notebook with papermill (kernel ``python3`` resolved to the running
   interpreter, working directory = the notebook's folder) in up to ``jobs`` worker
   processes, with a tqdm progress bar on stderr. A failing notebook does not stop the
   others: papermill saves it up to the failing cell, which is exported with a red
   banner naming the cell and the error.
3. **Publish**: ``reports/executed/<name>.ipynb``, ``reports/<name>.html``,
   ``reports/.status/<name>.json`` (run outcome) and, from the notebooks' sidecars
   ``reports/.verdicts/<name>.json``, ``reports/claims.json`` and ``reports/index.html``
   (:mod:`research.report.site`). Every file is written atomically, into a staging copy of
   the site that replaces the published folder in one swap at the end
   (:mod:`research.report.sitedir`): an interrupted run leaves the previous site as it
   was, and a second run into the same folder is refused while one holds its lock.
   A build with a failed page is not published (unless ``keep_going``): the previous
   site stays byte-identical and the build is kept at ``<out>.failed`` for inspection.

Internal parameters (:data:`INTERNAL_PARAMETERS`: the page a template renders, its
article, the verdict sidecar, a refreshed page's ``claim_parameters``) come from the
portfolio and the runner, never from ``-p``. For an article's pages, planning also runs
:mod:`research.report.preflight` (``research article check`` and the robustness grid).

Workers die with the run: each asks the kernel for SIGTERM when its parent dies (Linux
``PR_SET_PDEATHSIG``, so even a SIGKILLed run leaves none behind). A worker running a
notebook turns SIGTERM into an exception that shuts its kernel down, then leaves; an idle
one leaves at once. Either way silently: no traceback, and the resource tracker's
leaked-semaphore warning (it still unlinks the pool's semaphores) is not printed. An
interrupted batch terminates them.
"""

from __future__ import annotations

import dataclasses
import difflib
import errno
import html as _html
import importlib
import json
import multiprocessing
import os
import signal
import sys
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import contextlib

from research.errors import DataError, ParameterError, ReportError, ResearchError
from research.atomic import atomic_write_text, temp_path_beside
from research.cache import EVALUATION_FORBIDDEN_ENV as FORBID_ENV
from research.report.parameters import NotebookParameter, coerce_value, inspect_parameters
from research.report.portfolio import PAGE_VALIDATOR, REPO_ROOT, Portfolio, load_portfolio
from research.report.preflight import run_problems
from research.report.site import build_site
from research.report.sitedir import SiteBuild, check_output_dir

__all__ = [
    "INTERNAL_PARAMETERS",
    "KERNEL_NAME",
    "RESERVED_PARAMETERS",
    "BuildResult",
    "NotebookResult",
    "RunPlan",
    "build_reports",
    "check_kernel",
    "check_overrides",
    "default_output_dir",
    "plan_runs",
    "run_notebook",
]

#: Kernel used for every notebook. jupyter_client starts kernelspecs whose argv[0] is
#: "python" with ``sys.executable``, i.e. the interpreter running the report (the venv).
KERNEL_NAME = "python3"
#: Parameters the runner and the portfolio set (the page a template renders, its article,
#: where it publishes, the owners' parameters of a refreshed page): ``-p`` may not set them
#: and ``--list`` does not show them. Only ``verdict_path`` is refused in a portfolio file.
INTERNAL_PARAMETERS: tuple[str, ...] = ("verdict_path", "page", "article", "claim_parameters", "evaluation")
#: Set by the runner alone (not even a portfolio file may set it).
RESERVED_PARAMETERS: tuple[str, ...] = ("verdict_path", "evaluation")
VERDICTS_DIR = ".verdicts"
STATUS_DIR = ".status"
EXECUTED_DIR = "executed"


def default_output_dir() -> Path:
    """``<repo>/reports`` (the git-ignored report site)."""
    return REPO_ROOT / "reports"


@dataclass(frozen=True)
class RunPlan:
    """One validated notebook run: what to execute, with which parameters, into where."""

    name: str
    title: str
    source: Path
    claims: tuple[str, ...]
    parameters: Mapping[str, Any]
    output_dir: Path
    show_input: bool = False
    cell_timeout: int | None = None

    @property
    def executed_path(self) -> Path:
        return self.output_dir / EXECUTED_DIR / f"{self.name}.ipynb"

    @property
    def html_path(self) -> Path:
        return self.output_dir / f"{self.name}.html"

    @property
    def verdict_path(self) -> Path:
        return self.output_dir / VERDICTS_DIR / f"{self.name}.json"

    @property
    def status_path(self) -> Path:
        return self.output_dir / STATUS_DIR / f"{self.name}.json"


@dataclass(frozen=True)
class NotebookResult:
    """Outcome of one notebook run.

    ``status`` is ``"ok"`` or ``"failed"``; ``error`` says why it failed and
    ``failed_cell`` which cell (``"In [7]"``) when known. ``seconds`` is wall time.
    """

    name: str
    title: str
    status: str
    html: str
    executed: str
    error: str | None = None
    failed_cell: str | None = None
    seconds: float = 0.0
    parameters: Mapping[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class BuildResult:
    """What ``build_reports`` produced: per-notebook results and the site files."""

    output_dir: Path
    results: tuple[NotebookResult, ...]
    index_html: Path
    claims_json: Path
    #: False when a page failed and the build was kept at :attr:`kept_at` instead of being
    #: published (without ``keep_going``): ``output_dir`` is then as it was before the run.
    published: bool = True
    kept_at: Path | None = None

    @property
    def failed(self) -> tuple[str, ...]:
        """Names of the notebooks that failed, in portfolio order."""
        return tuple(r.name for r in self.results if not r.ok)

    @property
    def ok(self) -> bool:
        return not self.failed


# --------------------------------------------------------------------------------------
# planning and validation
# --------------------------------------------------------------------------------------
def _valid_list(declared: Mapping[str, Mapping[str, NotebookParameter]]) -> str:
    by_name: dict[str, list[str]] = {}
    descr: dict[str, str] = {}
    for nb, params in declared.items():
        for pname, p in params.items():
            if pname in INTERNAL_PARAMETERS:
                continue
            by_name.setdefault(pname, []).append(nb)
            descr.setdefault(pname, p.describe())
    if not by_name:
        return "  (the selected notebooks declare no parameters)"
    n = len(declared)
    lines = []
    for pname in sorted(by_name):
        where = "" if len(by_name[pname]) == n else f"   [{', '.join(by_name[pname])}]"
        lines.append(f"  {descr[pname]}{where}")
    return "\n".join(lines)


def _normalise_overrides(parameters: Mapping[str, Any] | Iterable[tuple[str, Any]] | None) -> list[tuple[str, Any]]:
    if parameters is None:
        return []
    if isinstance(parameters, Mapping):
        return list(parameters.items())
    return [(str(k), v) for k, v in parameters]


def check_overrides(declared: Mapping[str, Mapping[str, NotebookParameter]],
                    parameters: Mapping[str, Any] | Iterable[tuple[str, Any]] | None,
                    values: dict[str, dict[str, Any]] | None = None) -> list[str]:
    """The problems of ``-p`` overrides against the notebooks' declared parameters (one line
    each): an internal parameter, a name no notebook declares (with the closest known name),
    a value that cannot be read as the declared type. Good values are typed into ``values``
    (notebook -> name -> value) when given. Needs no notebook run, no data and no heavy
    import, so ``research report`` can answer a typo at once."""
    values = values if values is not None else {n: {} for n in declared}
    problems: list[str] = []
    known = sorted({k for params in declared.values() for k in params} - set(INTERNAL_PARAMETERS))
    for pname, raw in _normalise_overrides(parameters):
        if pname in INTERNAL_PARAMETERS:
            problems.append(f"parameter {pname!r} is set by the report runner and cannot be given with -p "
                            "(choose the article with --article and the pages with --notebook)")
            continue
        targets = [n for n in declared if pname in declared[n]]
        if not targets:
            close = difflib.get_close_matches(pname, known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            problems.append(f"unknown parameter {pname!r}: no selected notebook declares it{hint}")
            continue
        failed: dict[str, list[str]] = {}
        for n in targets:
            try:
                values.setdefault(n, {})[pname] = coerce_value(declared[n][pname], raw)
            except ParameterError as exc:
                failed.setdefault(str(exc), []).append(n)
        for msg, names in failed.items():  # one line per distinct problem, not per notebook
            where = "all selected notebooks" if len(names) == len(declared) else ", ".join(names)
            problems.append(f"{msg} [{where}]")
    return problems


def plan_runs(
    portfolio: Portfolio,
    *,
    parameters: Mapping[str, Any] | Iterable[tuple[str, Any]] | None = None,
    notebooks: Sequence[str] | None = None,
    output_dir: str | Path | None = None,
    show_input: bool = False,
    cell_timeout: int | None = None,
    internal: Mapping[str, Any] | None = None,
) -> tuple[tuple[RunPlan, ...], tuple[NotebookResult, ...]]:
    """Validate every parameter of every selected notebook; nothing is executed or written.

    Parameters
    ----------
    portfolio
        The notebooks (see :func:`research.report.portfolio.load_portfolio`).
    parameters
        ``-p`` overrides as (name, value) pairs or a mapping; values are command-line
        strings or already-typed values. Each applies to every selected notebook whose
        ``parameters`` cell declares the name; later pairs win.
    notebooks
        Names to run (default: all, in portfolio order).
    output_dir
        Report directory (default ``<repo>/reports``).
    show_input
        Keep code inputs in the HTML.
    cell_timeout
        Seconds one cell may run before the notebook fails (None: no limit).
    internal
        Values of :data:`INTERNAL_PARAMETERS` the report itself sets (e.g. a refreshed
        page's ``claim_parameters``); never from the command line.

    Returns
    -------
    (plans, missing)
        Runs to execute, and failed results for portfolio notebooks whose file is missing.

    Raises
    ------
    ParameterError
        Unknown notebook name; a parameter no selected notebook declares; a value that
        cannot be read as the parameter's type; a ``-p`` of an internal parameter; for an
        article's pages, a value its robustness grid cannot hold, or an article that fails
        ``research article check``. The message lists every problem found, one a line.
    DataError
        The validator could not read the data (e.g. a corrupt snapshot; the message says
        how to rebuild it).
    """
    out = Path(output_dir) if output_dir is not None else default_output_dir()
    out = out.resolve()
    unknown_nb = [n for n in (notebooks or []) if n not in portfolio.names]
    if unknown_nb:
        raise ParameterError(
            f"unknown notebook(s) {', '.join(map(repr, unknown_nb))}; "
            f"choose from: {', '.join(portfolio.names)}"
        )
    selected = portfolio.select(notebooks)
    declared: dict[str, dict[str, NotebookParameter]] = {}
    missing: list[NotebookResult] = []
    for spec in selected:
        if not spec.path.is_file():
            missing.append(NotebookResult(
                name=spec.name, title=spec.title, status="failed", html="", executed="",
                error=f"notebook file {spec.path} not found (fix its 'path' in the portfolio file)"))
            continue
        declared[spec.name] = inspect_parameters(spec.path)

    problems: list[str] = []
    values: dict[str, dict[str, Any]] = {name: {} for name in declared}
    # 0. what the runner itself sets (a refreshed page's claim_parameters): typed, not -p
    for pname, raw in _normalise_overrides(internal):
        for n in declared:
            if pname in declared[n] and pname not in RESERVED_PARAMETERS:
                values[n][pname] = coerce_value(declared[n][pname], raw)
    # 1. the portfolio's per-notebook overrides
    for spec in selected:
        if spec.name not in declared:
            continue
        for pname, raw in spec.parameters.items():
            p = declared[spec.name].get(pname)
            if p is None or pname in RESERVED_PARAMETERS:
                problems.append(f"the portfolio file sets {pname!r} for notebook {spec.name!r}, "
                                "which does not declare it in its parameters cell")
                continue
            try:
                values[spec.name][pname] = coerce_value(p, raw, where=f" (portfolio file, {spec.name})")
            except ParameterError as exc:
                problems.append(str(exc))
    # 2. -p overrides
    problems += check_overrides(declared, parameters, values)
    # 3. the portfolio's validator (e.g. EvalParams) over each notebook's full parameter set
    if not problems and portfolio.validator:
        problems += _validate(portfolio, declared, values,
                              [k for k, _ in _normalise_overrides(parameters)])
    if problems:
        uniq = list(dict.fromkeys(problems))
        names_wrong = any(p.startswith("unknown parameter") or "(declared as" in p
                          or "set by the report runner" in p for p in uniq)
        raise ParameterError(
            "invalid report parameters (nothing was run):\n  - " + "\n  - ".join(uniq)
            + ("\nvalid parameters (name: type = default):\n" + _valid_list(declared) if names_wrong else "")
        )
    plans = []
    for spec in selected:
        if spec.name not in declared:
            continue
        params = dict(values[spec.name])
        plan = RunPlan(name=spec.name, title=spec.title, source=spec.path, claims=spec.claims,
                       parameters=params, output_dir=out, show_input=show_input,
                       cell_timeout=cell_timeout)
        params["verdict_path"] = str(plan.verdict_path)
        plans.append(plan)
    return tuple(plans), tuple(missing)


def _validate(portfolio: Portfolio, declared: Mapping[str, Mapping[str, NotebookParameter]],
              values: Mapping[str, Mapping[str, Any]], given: Sequence[str]) -> list[str]:
    """The portfolio's validator over each notebook's full parameter set; for an article's
    pages also everything the run needs (:func:`research.report.preflight.run_problems`)."""
    validate = _import_validator(str(portfolio.validator))
    failed: dict[str, list[str]] = {}
    resolved: dict[str, tuple[dict[str, Any], Any]] = {}
    for n, params in declared.items():
        full = {k: p.default for k, p in params.items() if k not in RESERVED_PARAMETERS}
        full.update(values[n])
        try:
            resolved[n] = (full, validate(full))
        except DataError:  # e.g. a corrupt snapshot: the data, not the parameters
            raise
        except ResearchError as exc:
            failed.setdefault(str(exc), []).append(n)
    problems = []
    for msg, names in failed.items():
        where = "all selected notebooks" if len(names) == len(declared) else ", ".join(names)
        problems.append(f"{msg} [{where}]")
    if not problems and portfolio.validator == PAGE_VALIDATOR:
        problems += run_problems(resolved, given)
    return problems


def _import_validator(spec: str) -> Callable[[Mapping[str, Any]], Any]:
    """``"package.module:Attr.attr"`` -> the callable (ReportError if it cannot be found)."""
    module, _, attr = spec.partition(":")
    try:
        obj: Any = importlib.import_module(module)
        for part in attr.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as exc:
        raise ReportError(f"portfolio validator {spec!r} cannot be imported ({exc}); "
                          "use 'package.module:callable'") from exc
    if not callable(obj):
        raise ReportError(f"portfolio validator {spec!r} is not callable")
    return obj


def check_kernel() -> None:
    """Make sure kernel ``python3`` runs this interpreter (the project's venv).

    jupyter_client replaces a kernelspec argv[0] of ``python``/``python3`` by
    ``sys.executable``; a spec with another absolute interpreter (e.g. a user-level
    kernelspec shadowing the venv's) would run the notebooks without this package.

    Raises
    ------
    ReportError
        The ``python3`` kernelspec is missing or points at another interpreter.
    """
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        spec = KernelSpecManager().get_kernel_spec(KERNEL_NAME)
    except NoSuchKernel as exc:
        raise ReportError(
            f"no Jupyter kernel {KERNEL_NAME!r}; install one for this interpreter with "
            f"`{sys.executable} -m ipykernel install --sys-prefix`"
        ) from exc
    exe = spec.argv[0] if spec.argv else ""
    vi = sys.version_info
    if exe in {"python", f"python{vi[0]}", f"python{vi[0]}.{vi[1]}"}:
        return
    if Path(exe).resolve() != Path(sys.executable).resolve():
        raise ReportError(
            f"Jupyter kernel {KERNEL_NAME!r} ({spec.resource_dir}) runs {exe}, not this interpreter "
            f"{sys.executable}; reinstall it with `{sys.executable} -m ipykernel install --sys-prefix`"
        )


# --------------------------------------------------------------------------------------
# execution of one notebook (runs in a worker process)
# --------------------------------------------------------------------------------------
def _error_notebook(plan: RunPlan, error: str) -> Any:
    """A stand-in notebook for a run that produced no notebook at all (e.g. no kernel)."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    # the title comes from the article's layout.yaml: an escaped HTML output, never markdown
    # (a markdown cell would render its raw HTML and load its images)
    head = (f"<h1>{_html.escape(plan.title)}</h1><p>The notebook <code>{_html.escape(plan.source.name)}</code> "
            "could not be executed.</p>")
    nb.cells.append(nbformat.v4.new_code_cell(
        "", outputs=[nbformat.v4.new_output("display_data", data={"text/html": head})]))
    nb.cells.append(nbformat.v4.new_code_cell(
        "", outputs=[nbformat.v4.new_output("stream", name="stderr", text=error)]))
    return nb


def _check_sidecar(plan: RunPlan) -> str | None:
    """None if the notebook published every claim it owns; else the problem."""
    if not plan.claims:
        return None
    if not plan.verdict_path.is_file():
        return (f"the notebook ran but published no verdicts (expected {', '.join(plan.claims)}); "
                "its last cell must call research.report.publish(verdicts, verdict_path)")
    try:
        doc = json.loads(plan.verdict_path.read_text(encoding="utf-8"))
        got = {v["claim_id"] for v in doc["verdicts"]}
    except (ValueError, KeyError, TypeError) as exc:
        return f"the verdict sidecar {plan.verdict_path} is malformed ({exc})"
    lost = [c for c in plan.claims if c not in got]
    if lost:
        return (f"the notebook did not publish verdicts for {', '.join(lost)} "
                "(the portfolio says it owns them)")
    return None


def run_notebook(plan: RunPlan) -> NotebookResult:
    """Execute one planned notebook and export it; never raises for notebook errors.

    Writes ``executed/<name>.ipynb``, ``<name>.html`` and ``.status/<name>.json``
    atomically. A stale sidecar from an earlier run is removed first, so a failed run
    can never be reported with old verdicts.
    """
    import nbformat
    import papermill
    from papermill.exceptions import PapermillExecutionError

    from research.report.html import export_html, failure_banner

    t0 = time.perf_counter()
    plan.verdict_path.unlink(missing_ok=True)
    plan.executed_path.parent.mkdir(parents=True, exist_ok=True)
    plan.verdict_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path_beside(plan.executed_path, suffix=".ipynb")
    error: str | None = None
    cell: str | None = None
    try:
        try:
            with _kernel_environment(bool(plan.parameters.get(EVALUATION_PARAMETER))):
                papermill.execute_notebook(
                    str(plan.source), str(tmp), parameters=dict(plan.parameters),
                    kernel_name=KERNEL_NAME, progress_bar=False, log_output=False,
                    cwd=str(plan.source.parent), report_mode=False,
                    execution_timeout=plan.cell_timeout,
                    # the kernel's own log is noise on the report's stderr: ipykernel's "TCP
                    # without encryption" warning on every start, and "KeyboardInterrupt caught
                    # in kernel" when nbclient interrupts it at shutdown after a good run. Cell
                    # errors are not lost: they are in the executed notebook and its HTML page.
                    extra_arguments=["--IPKernelApp.log_level=CRITICAL"],
                )
        except PapermillExecutionError as exc:
            cell = f"In [{exc.exec_count}]" if exc.exec_count else f"#{exc.cell_index + 1}"
            error = f"{exc.ename}: {exc.evalue}"
        except Exception as exc:  # kernel died / could not start / bad notebook
            error = f"{type(exc).__name__}: {exc}"
        nb = None
        if tmp.stat().st_size > 0:
            try:
                nb = nbformat.read(tmp, as_version=4)
            except Exception as exc:  # noqa: BLE001 - reported on the page
                error = error or f"executed notebook unreadable: {exc}"
        if nb is None:
            nb = _error_notebook(plan, error or "no output notebook was written")
        elif error and cell is None:  # e.g. a cell timeout: the last cell that started
            counts = [c.get("execution_count") for c in nb.cells
                      if c.cell_type == "code" and c.get("execution_count")]
            cell = f"In [{counts[-1]}]" if counts else None
        if error is None:
            error = _check_sidecar(plan)
            if error:
                plan.verdict_path.unlink(missing_ok=True)
        else:
            plan.verdict_path.unlink(missing_ok=True)  # partial sidecar of a failed run
        anchor = any("papermill-error-cell" in c.source for c in nb.cells if c.cell_type == "markdown")
        banner = failure_banner(plan.name, error, cell, error_anchor=anchor) if error else None
        try:
            export_html(nb, plan.html_path, name=plan.name, title=plan.title,
                        show_input=plan.show_input, banner_html=banner,
                        resources_dir=plan.source.parent)
        except Exception as exc:  # noqa: BLE001 - the exporter itself failed
            error = (error + "; " if error else "") + f"HTML export failed: {type(exc).__name__}: {exc}"
            plan.verdict_path.unlink(missing_ok=True)
            _write_fallback_page(plan, error)
        nbformat.write(nb, tmp)
        os.replace(tmp, plan.executed_path)
    finally:
        tmp.unlink(missing_ok=True)
    result = NotebookResult(
        name=plan.name, title=plan.title, status="failed" if error else "ok",
        html=plan.html_path.name, executed=f"{EXECUTED_DIR}/{plan.executed_path.name}",
        error=error, failed_cell=cell, seconds=round(time.perf_counter() - t0, 3),
        parameters=dict(plan.parameters),
    )
    atomic_write_text(plan.status_path, json.dumps(result.to_dict(), indent=2, sort_keys=True, default=str))
    return result


def _write_fallback_page(plan: RunPlan, error: str) -> None:
    import html as _html

    atomic_write_text(plan.html_path, (
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{_html.escape(plan.title)} (failed)</title></head><body>"
        '<p><a href="index.html">&larr; All reports</a></p>'
        f"<h1>{_html.escape(plan.title)}</h1>"
        f'<div id="report-failed" role="alert"><h2>This report failed</h2>'
        f"<pre>{_html.escape(error)}</pre></div></body></html>\n"
    ))


def _record_crash(plan: RunPlan, error: str) -> NotebookResult:
    """A failed result (page, status; no sidecar) for a run that crashed outside papermill."""
    result = NotebookResult(name=plan.name, title=plan.title, status="failed",
                            html=plan.html_path.name, executed="", error=error,
                            parameters=dict(plan.parameters))
    try:
        plan.verdict_path.unlink(missing_ok=True)
        _write_fallback_page(plan, error)
        atomic_write_text(plan.status_path, json.dumps(result.to_dict(), indent=2, sort_keys=True, default=str))
    except OSError:
        pass
    return result


#: Errors of the output file system itself: the whole build stops (nothing is published).
_FATAL_OS_ERRORS = (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EFBIG)


def _run_notebook_safely(plan: RunPlan) -> NotebookResult:
    """Worker entry point: even an unexpected bug in the runner becomes a failed result.

    A full (or read-only) file system is not a notebook failure: it is re-raised, so the
    build stops before it could replace good pages with failure pages.
    """
    global _BUSY
    _BUSY = True
    try:
        return run_notebook(plan)
    except _WorkerStopped:
        # papermill has shut the notebook's kernel down on the way out; the pool would
        # catch the exception and wait for more work, so leave now
        os._exit(128 + signal.SIGTERM)
    except OSError as exc:
        if exc.errno in _FATAL_OS_ERRORS:
            raise
        return _record_crash(plan, traceback.format_exc(limit=5))
    except Exception:  # noqa: BLE001
        return _record_crash(plan, traceback.format_exc(limit=5))
    finally:
        _BUSY = False


class _WorkerStopped(BaseException):
    """SIGTERM in a pool worker running a notebook (the run was stopped, or its parent died)."""


#: True while this process runs a notebook (a SIGTERM must shut its kernel down first).
_BUSY = False


def _stop_worker(signum: int, _frame: object) -> None:
    if not _BUSY:  # idle, or still starting: nothing to clean up, and nothing to print
        os._exit(128 + signum)
    raise _WorkerStopped(signum)


def _worker_init() -> None:
    """In each worker: die with the parent, and shut the kernel down on SIGTERM."""
    signal.signal(signal.SIGTERM, _stop_worker)
    if sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    if os.getppid() == 1:  # the parent died before prctl took effect: leave quietly
        os._exit(128 + signal.SIGTERM)


#: The pool's semaphores are registered with multiprocessing's resource tracker, which
#: unlinks them when the run dies and warns about each. A SIGKILLed run is not a leak to
#: report (the tracker still cleans up): its warning is silenced in the tracker only.
_TRACKER_QUIET = "ignore::UserWarning:multiprocessing.resource_tracker"


def _quiet_resource_tracker() -> None:
    """Start the tracker (if not yet) with its leaked-resource warning ignored."""
    if _TRACKER_QUIET not in sys.warnoptions:
        sys.warnoptions.append(_TRACKER_QUIET)  # passed on to the tracker's command line
    from multiprocessing import resource_tracker

    resource_tracker.ensure_running()


def _stop_workers(before: set[int]) -> None:
    """Terminate the worker processes started since ``before`` (pids); wait for them."""
    workers = [p for p in multiprocessing.active_children() if p.pid not in before]
    for p in workers:
        p.terminate()
    for p in workers:
        p.join(10)
        if p.is_alive():
            p.kill()
            p.join(5)


# --------------------------------------------------------------------------------------
# the batch
# --------------------------------------------------------------------------------------
def _executor(jobs: int) -> Executor:
    # spawn: no fork of a process that may hold threads/zmq sockets; workers import
    # research.report.runner afresh.
    _quiet_resource_tracker()
    return ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_worker_init)


def build_reports(
    portfolio: Portfolio | str | Path | None = None,
    *,
    parameters: Mapping[str, Any] | Iterable[tuple[str, Any]] | None = None,
    notebooks: Sequence[str] | None = None,
    output_dir: str | Path | None = None,
    show_input: bool = False,
    jobs: int | None = None,
    progress: bool | None = None,
    cell_timeout: int | None = 1800,
    force: bool = False,
    keep_going: bool = False,
    internal: Mapping[str, Any] | None = None,
) -> BuildResult:
    """Run the portfolio and build the report site.

    Parameters
    ----------
    portfolio
        A :class:`Portfolio`, a YAML path, or None for the shipped article's portfolio (its layout.yaml).
    parameters
        ``-p`` overrides, see :func:`plan_runs`.
    notebooks
        Names to run (default all). Notebooks not run keep their previous outputs in
        ``output_dir``, and the index reflects their last recorded run.
    output_dir
        Default ``<repo>/reports``.
    show_input
        Keep code inputs in the HTML (default hidden).
    jobs
        Parallel notebook runs; default ``os.cpu_count()``, capped at the number of
        notebooks. ``1`` runs in this process.
    progress
        tqdm bar on stderr; None (default) shows it only when stderr is a terminal.
    cell_timeout
        Seconds a single cell may run before its notebook is failed (default 1800;
        None: no limit), so a hung cell cannot hang the whole build.
    force
        Publish into a non-empty folder that is not a report site (default: refuse).
    keep_going
        Publish the site even when a page failed (its page shows the failure). Default:
        a build with a failed page is not published; ``output_dir`` stays byte-identical
        and the build is kept beside it at ``<output_dir>.failed`` (replacing the previous
        failed build).
    internal
        Parameters the report itself sets (see :func:`plan_runs`).

    Returns
    -------
    BuildResult
        ``.failed`` names failed notebooks, ``.published`` says whether the site was
        replaced and ``.kept_at`` where an unpublished build is; the caller decides the
        exit code.

    Raises
    ------
    ParameterError
        Before anything runs, for any invalid parameter or notebook name.
    ReportError
        Before anything runs: an unusable output folder, or another run holds its lock.
    OSError
        The output file system failed (e.g. full); the previous site is left as it was.
    """
    if not isinstance(portfolio, Portfolio):
        portfolio = load_portfolio(portfolio)
    if jobs is not None and jobs < 1:
        raise ParameterError(f"jobs must be >= 1, got {jobs}")
    if cell_timeout is not None and cell_timeout <= 0:
        raise ParameterError(f"cell timeout must be a positive number of seconds, got {cell_timeout}")
    out = check_output_dir(Path(output_dir) if output_dir is not None else default_output_dir(),
                           force=force, allow_nonempty=output_dir is None)
    plans, missing = plan_runs(portfolio, parameters=parameters, notebooks=notebooks,
                               output_dir=out, show_input=show_input, cell_timeout=cell_timeout,
                               internal=internal)
    if plans:
        check_kernel()
    plans = _with_evaluations(plans)
    kept: Path | None = None
    with SiteBuild(out) as build:
        results = _run_into(build.staging, portfolio, plans, missing, jobs=jobs, progress=progress)
        build_site(portfolio, build.staging)
        if keep_going or all(r.ok for r in results.values()):
            build.commit()
        else:
            kept = build.keep_failed()
    ordered = tuple(results[nb.name] for nb in portfolio.notebooks if nb.name in results)
    site = kept or out
    return BuildResult(output_dir=out, results=ordered, index_html=site / "index.html",
                       claims_json=site / "claims.json", published=kept is None, kept_at=kept)


#: The notebook parameter a page receives its evaluation in (the cache file the report
#: computed before any page ran; see :func:`_with_evaluations`).
EVALUATION_PARAMETER = "evaluation"


def _with_evaluations(plans: Sequence[RunPlan]) -> tuple[RunPlan, ...]:
    """The plans with the evaluation each page shows computed here, in the report's own
    process, before any page runs: a page whose notebook declares the ``evaluation``
    parameter gets the file of its article's evaluation under its parameters (computed once
    per distinct article and parameters, and cached: :mod:`research.cache`), plus the
    evaluations of the parameters its ``claim_parameters`` name. Page kernels then run with
    evaluation forbidden (:data:`research.claims.evaluation.FORBID_ENV`)."""
    out = []
    for plan in plans:
        declared = inspect_parameters(plan.source)
        if EVALUATION_PARAMETER not in declared:
            out.append(plan)
            continue
        from research.report.pages import prepare_evaluation

        full = {k: p.default for k, p in declared.items() if k not in RESERVED_PARAMETERS}
        full.update(plan.parameters)
        path = prepare_evaluation(full)
        out.append(dataclasses.replace(plan, parameters={**plan.parameters, EVALUATION_PARAMETER: path}))
    return tuple(out)


@contextlib.contextmanager
def _kernel_environment(forbid: bool) -> Iterator[None]:
    """Page kernels (started by papermill, inheriting this environment) that received the
    report's evaluation may not evaluate claims: they load it."""
    before = os.environ.get(FORBID_ENV)
    if not forbid:
        yield
        return
    os.environ[FORBID_ENV] = "1"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(FORBID_ENV, None)
        else:
            os.environ[FORBID_ENV] = before


def _staged(plan: RunPlan, staging: Path) -> RunPlan:
    """The same run writing into the staging folder (its verdict sidecar too)."""
    moved = dataclasses.replace(plan, output_dir=staging)
    return dataclasses.replace(moved, parameters={**plan.parameters, "verdict_path": str(moved.verdict_path)})


def _run_into(out: Path, portfolio: Portfolio, plans: Sequence[RunPlan],
              missing: Sequence[NotebookResult], *, jobs: int | None,
              progress: bool | None) -> dict[str, NotebookResult]:
    """Execute ``plans`` with their outputs in ``out`` (the staging folder)."""
    from tqdm.auto import tqdm

    plans = [_staged(p, out) for p in plans]
    results: dict[str, NotebookResult] = {}
    for m in missing:
        plan = RunPlan(name=m.name, title=m.title, source=Path(), claims=(), parameters={},
                       output_dir=out)
        plan.verdict_path.unlink(missing_ok=True)
        _write_fallback_page(plan, m.error or "notebook missing")
        results[m.name] = NotebookResult(**{**m.to_dict(), "html": plan.html_path.name})
        atomic_write_text(plan.status_path, json.dumps(results[m.name].to_dict(), indent=2, sort_keys=True))
    n_jobs = max(1, min(jobs or os.cpu_count() or 1, len(plans) or 1))
    disable = (not sys.stderr.isatty()) if progress is None else not progress
    bar = tqdm(total=len(plans), desc="notebooks", unit="nb", file=sys.stderr, disable=disable)
    try:
        if n_jobs == 1:
            for plan in plans:
                bar.set_postfix_str(plan.name)
                results[plan.name] = _run_notebook_safely(plan)
                bar.update(1)
        else:
            before = {p.pid for p in multiprocessing.active_children()}
            with _executor(n_jobs) as pool:
                futures = {pool.submit(_run_notebook_safely, p): p for p in plans}
                try:
                    for fut in as_completed(futures):
                        try:
                            r = fut.result()
                        except OSError as exc:
                            if exc.errno in _FATAL_OS_ERRORS:
                                raise
                            r = _record_crash(futures[fut], f"{type(exc).__name__}: {exc}")
                        except Exception as exc:  # noqa: BLE001 - e.g. a worker process was killed
                            r = _record_crash(futures[fut], f"{type(exc).__name__}: {exc}")
                        results[r.name] = r
                        bar.set_postfix_str(f"{r.name} {r.status}")
                        bar.update(1)
                except BaseException:
                    pool.shutdown(wait=False, cancel_futures=True)
                    _stop_workers(before)
                    raise
    finally:
        bar.close()
    return results
