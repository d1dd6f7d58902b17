# One entry point for users and CI. Every target sets itself up on a fresh clone:
# the virtual environment in .venv is created and the package installed on first use.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
ARGS   ?=
# the Jupyter kernel the notebooks ask for (their metadata.kernelspec.name), installed
# into .venv so `make lab` and plain papermill find it without a prompt
KERNEL := research

.PHONY: help setup reports test lab snapshot bench clean-reports article-new article-check article-report

help:
	@echo "make reports   set up .venv if needed, build every HTML report from the embedded snapshot"
	@echo "               (and full-page screenshots in reports/screenshots/ where Chromium is installed)"
	@echo "make test      set up .venv if needed, run the whole test suite"
	@echo "make lab       open JupyterLab on notebooks/ with the project's 'research' kernel"
	@echo "make snapshot  rebuild data/snapshot from ../shared/market-data"
	@echo "make bench     run the event-study benchmark and its scale table (10k -> 1M events)"
	@echo "make article-new ARTICLE=dir     write an article scaffold into dir"
	@echo "make article-check ARTICLE=dir   validate an article directory"
	@echo "make article-report ARTICLE=dir  build its reports into dir-site (or OUT=...)"

# tools/install.py installs with uv (from PATH, or pip-installed into .venv) using pip's
# index settings, and falls back to plain pip when uv cannot be had or fails
# (RESEARCH_NO_UV=1 forces pip).
$(STAMP): pyproject.toml tools/install.py
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python >= 3.11 is required (set PYTHON=...)")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python tools/install.py -e '.[test]'
	$(BIN)/python -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "Python (research)" >/dev/null
	@touch $(STAMP)

setup: $(STAMP)

reports: $(STAMP)
	$(BIN)/research report $(ARGS)
	$(BIN)/python -m research.report.screenshots reports

test: $(STAMP)
	$(BIN)/python -m pytest $(ARGS)

lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/ $(if $(filter 0,$(shell id -u)),--allow-root) $(ARGS)

snapshot: $(STAMP)
	$(BIN)/research data build-snapshot --from ../shared/market-data

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_eventstudy.py
	$(BIN)/python benchmarks/bench_scale.py --allocator both

ARTICLE ?=
OUT     ?= $(ARTICLE)-site
need-article = $(if $(ARTICLE),,$(error set ARTICLE=<article directory>, e.g. make $@ ARTICLE=my-article))

article-new: $(STAMP)
	$(need-article)$(BIN)/research article new $(ARTICLE)

article-check: $(STAMP)
	$(need-article)$(BIN)/research article check $(ARTICLE)

article-report: $(STAMP)
	$(need-article)$(BIN)/research article check $(ARTICLE)
	$(BIN)/research report --article $(ARTICLE) -o $(OUT) $(ARGS)

clean-reports:
	find reports -mindepth 1 ! -name README.md -exec rm -rf {} +
