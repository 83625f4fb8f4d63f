# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install fashion-mnist demo test lint bench report reference-report reproductions stacked-reproductions pacgan-full-length clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# Fashion-MNIST's IDX files for the stacked-fashion benchmark, from Debian's dataset-fashion-mnist
# where apt-get works (as root or through passwordless sudo); elsewhere the tests that read them skip.
FASHION_MNIST_DIR := /usr/share/datasets/fashion-mnist
FASHION_MNIST_PACKAGE := dataset-fashion-mnist
fashion-mnist:
	@test -d $(FASHION_MNIST_DIR) || .ci/apt-install $(FASHION_MNIST_PACKAGE) || \
		echo "note: could not install dataset-fashion-mnist with apt-get; the stacked-fashion tests will skip" >&2

install: $(STAMP) fashion-mnist

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
	$(VENV)/bin/collapsekit sweep --models vanilla,unrolled,minibatch,pacgan --data ring8,grid25 --seeds 0-4 --out $(REFERENCE_RUNS) --no-progress
	$(VENV)/bin/collapsekit report $(REFERENCE_RUNS) --out $(REFERENCE_REPORT) --title "collapsekit reference report: vanilla, unrolled, minibatch and PacGAN2 on ring8 and grid25, 5 seeds"

# The reproduction report: PacGAN's and VEEGAN's ring and grid tables under their own protocols,
# beside the default-protocol runs of $(REFERENCE_RUNS). The PacGAN runs are shortened to
# PACGAN_STEPS of the protocol's 400,000 steps (the report's steps column says so). Running it
# again resumes the sweeps and skips finished runs; notes.csv in the report folder, when present,
# adds hand-written measured reasons to rows (docs/report.md).
PACGAN_STEPS ?= 50000
REPRODUCTION_RUNS ?= reports/reproductions/runs
REPRODUCTION_REPORT ?= reports/reproductions
REPRODUCTION_NOTES = $(wildcard $(REPRODUCTION_REPORT)/notes.csv)
REPRODUCTION_COMMAND = $(VENV)/bin/collapsekit reproductions $(REPRODUCTION_RUNS) $(REFERENCE_RUNS) --out $(REPRODUCTION_REPORT) $(if $(REPRODUCTION_NOTES),--notes $(REPRODUCTION_NOTES))
reproductions: install
	$(VENV)/bin/collapsekit sweep --protocol pacgan --models vanilla,pacgan --data ring8,grid25 --seeds 0-4 --steps $(PACGAN_STEPS) --eval-every 2500 --out $(REPRODUCTION_RUNS)/pacgan --no-progress
	$(VENV)/bin/collapsekit sweep --protocol veegan --models vanilla,unrolled --data ring8,grid25 --seeds 0-4 --out $(REPRODUCTION_RUNS)/veegan --no-progress
	$(REPRODUCTION_COMMAND)

# The PacGAN ring at the protocol's full 400,000 steps (about 2.7 CPU-hours a run here): where
# the shortened runs' ordering settles. Resumable across sessions; the report labels each
# curve by its length.
PACGAN_FULL_SEEDS ?= 0
pacgan-full-length: install
	$(VENV)/bin/collapsekit sweep --protocol pacgan --models vanilla,pacgan --data ring8 --seeds $(PACGAN_FULL_SEEDS) --out $(REPRODUCTION_RUNS)/pacgan-full --no-progress
	$(REPRODUCTION_COMMAND)

# PacGAN Table 3 (Metz et al.'s stacked MNIST, measured on MNIST digits) beside metz-protocol runs
# on stacked-digits and stacked-fashion: vanilla, unrolled (5 steps) and pacgan (pack 2), each
# with a D of a quarter and of a half of G's channels, METZ_SEEDS seeds, shortened to
# METZ_STEPS_DIGITS / METZ_STEPS_FASHION of the code's 500,000 steps. Run names do not carry the
# D width, hence one folder per width. Running it again resumes the sweeps and skips finished
# runs; then the whole reproduction report is written again (docs/report.md).
METZ_STEPS_DIGITS ?= 20000
METZ_STEPS_FASHION ?= 10000
METZ_EVAL_EVERY ?= 2000
METZ_SEEDS ?= 0-2
METZ_SWEEP = $(VENV)/bin/collapsekit sweep --protocol metz --models vanilla,unrolled,pacgan --seeds $(METZ_SEEDS) --eval-every $(METZ_EVAL_EVERY) --no-progress
stacked-reproductions: install
	$(METZ_SWEEP) --data stacked-digits --d-width quarter --steps $(METZ_STEPS_DIGITS) --out $(REPRODUCTION_RUNS)/metz-quarter
	$(METZ_SWEEP) --data stacked-digits --d-width half --steps $(METZ_STEPS_DIGITS) --out $(REPRODUCTION_RUNS)/metz-half
	$(METZ_SWEEP) --data stacked-fashion --d-width quarter --steps $(METZ_STEPS_FASHION) --out $(REPRODUCTION_RUNS)/metz-quarter
	$(METZ_SWEEP) --data stacked-fashion --d-width half --steps $(METZ_STEPS_FASHION) --out $(REPRODUCTION_RUNS)/metz-half
	$(REPRODUCTION_COMMAND)
