# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install demo test lint bench report reference-report clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(VENV)/bin/collapsekit run --model vanilla --data ring8

test: install
	$(PY) -m pytest -q

lint: install
	$(VENV)/bin/ruff check collapsekit reference_models tests bench scripts examples

# A comparison report of every run under runs/ (or RUNS=...), written to reports/latest/.
RUNS ?= runs
report: install
	$(VENV)/bin/collapsekit report $(RUNS) --out reports/latest

# The committed reference report: the bundled models on ring8 and grid25, 5 seeds each, at the
# default settings (25,000 steps). Running it again resumes the sweep and skips finished runs.
# The run folders are committed beside the report (all but checkpoint.pt, see .gitignore), so a
# fresh checkout regenerates the report without training again.
REFERENCE_RUNS ?= reports/reference/runs
REFERENCE_REPORT ?= reports/reference
reference-report: install
	$(VENV)/bin/collapsekit sweep --models vanilla,unrolled,minibatch --data ring8,grid25 --seeds 0-4 --out $(REFERENCE_RUNS) --no-progress
	$(VENV)/bin/collapsekit report $(REFERENCE_RUNS) --out $(REFERENCE_REPORT) --title "collapsekit reference report: vanilla, unrolled and minibatch GANs on ring8 and grid25, 5 seeds"
