# planalign: `make run` sets up and starts the service; `make test` sets up and runs the tests.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
export PYTHAINLP_OFFLINE := 1
export OMP_NUM_THREADS ?= 2

.PHONY: setup browser lint run test test-slow eval bench bench-quick static-basis sample-vectors demo-real reliability clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# Headless Chromium and Thai fonts for the browser test (Debian packages; skipped where apt is unavailable).
browser:
	@if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then :; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver fonts-thai-tlwg >/dev/null) \
		|| echo "could not install chromium: the browser test will be skipped"; \
	else echo "chromium not installed and apt-get not usable: the browser test will be skipped"; fi

# ruff (lint + import order) and mypy. mypy reads the package through a tree of links, since the
# layer folders install as planalign.<layer> (pyproject's package-dir) and are not laid out that way.
lint: setup
	$(VENV)/bin/ruff check .
	@rm -rf build/typecheck && mkdir -p build/typecheck/planalign
	@for f in planalign/*.py; do ln -s ../../../$$f build/typecheck/planalign/; done
	@for d in nlp corpora index service eval; do ln -s ../../../$$d build/typecheck/planalign/$$d; done
	MYPYPATH=build/typecheck $(VENV)/bin/mypy -p planalign

# The service on the embedded catalog and sample projects: http://127.0.0.1:8000/
run: setup
	$(VENV)/bin/planalign serve --sample --host $(HOST) --port $(PORT)

# pytest exits 5 when it collects no test; that is reported, not hidden, but is not a failure.
test: setup browser lint
	$(PY) -m pytest -q -m "not slow" || { rc=$$?; [ $$rc -eq 5 ] && echo "pytest: no tests ran" || exit $$rc; }

test-slow: setup
	$(PY) -m pytest -q -m slow

# Quality tables in eval/README.md (alignment; search and duplicates on the labelled dev sets; learning from decisions), beside their baselines.
eval: setup
	$(PY) -m planalign.eval.run_eval
	$(PY) -m planalign.eval.search_eval
	$(PY) -m planalign.eval.search_eval --encoder static --traffy
	$(PY) -m planalign.eval.dedup_eval
	$(PY) -m planalign.eval.dedup_eval --encoder static
	$(PY) -m planalign.eval.learning_eval

bench: setup
	$(PY) -m planalign.eval.bench

bench-quick: setup
	$(PY) -m planalign.eval.bench --quick

# Rebuild nlp/data/static_basis.npz (the static encoder's whitening basis) from e5; ~2 minutes.
static-basis: setup
	$(PY) -m planalign.nlp.encoders.static

# Rebuild corpora/data/sample_vectors.npz: the e5 and USE vectors a first start computes (the embedded
# sample projects' index views and alignment, the default catalog's node texts). Every new data
# directory's embedding cache starts from them (planalign/shipped_vectors.py), so neither `make run`
# nor a first align on the default catalog embeds them; a few minutes. Rerun when the sample, the
# default catalog or the text preparation changes (tests/test_sample_start.py fails until then).
sample-vectors: setup
	$(PY) -m planalign.sample

# The real FY2566 ordinance items and all Traffy reports from ../shared/data, in their own data dir.
DEMO_DATA ?= $(CURDIR)/.demo-real-data
demo-real: setup
	$(VENV)/bin/planalign ingest ../shared/data/budget/bma_budget_ordinance_2566_items.csv --where level=item --drop-subtotals --source ordinance-2566 --data-dir $(DEMO_DATA)
	$(VENV)/bin/planalign ingest ../shared/data/traffy/traffy_2022.csv.gz --map description=name --source traffy --data-dir $(DEMO_DATA)
	$(VENV)/bin/planalign ingest ../shared/data/traffy/traffy_2023-01.csv.gz --map description=name --source traffy --data-dir $(DEMO_DATA)
	@echo "strategy coverage dashboard: http://$(HOST):$(PORT)/dashboard"
	$(VENV)/bin/planalign serve --data-dir $(DEMO_DATA) --host $(HOST) --port $(PORT)

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info test-output .reliability-data

# The service under load, kill -9, damaged index files and hostile input (issue 15): eval/results/reliability.md.
# Not part of `make test`: about 12 minutes on 2 cores (the first run also embeds the Traffy words once: about 30 minutes more).
reliability: setup
	$(PY) -m planalign.eval.reliability
