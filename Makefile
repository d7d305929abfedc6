# planalign: `make run` sets up and starts; `make test` sets up and runs the tests.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export PYTHAINLP_OFFLINE := 1
export OMP_NUM_THREADS ?= 2

.PHONY: setup run test test-slow eval bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: setup
	$(VENV)/bin/planalign align "โครงการก่อสร้างเขื่อนป้องกันน้ำท่วมริมคลองลาดพร้าว"
	$(VENV)/bin/planalign align --name "โครงการอบรมอาสาสมัครป้องกันยาเสพติดในชุมชน" \
		--objective "เพื่อสร้างเครือข่ายเฝ้าระวังยาเสพติดในชุมชนของเขต"

# pytest exits 5 when it collects no test; that is reported, not hidden, but is not a failure.
test: setup
	$(PY) -m pytest -q -m "not slow" || { rc=$$?; [ $$rc -eq 5 ] && echo "pytest: no tests ran" || exit $$rc; }

# The e5 model on real shared data (a few minutes).
test-slow: setup
	$(PY) -m pytest -q -m slow

# Quality tables in eval/README.md, measured against the baselines in the same run.
eval: setup
	$(PY) -m planalign.eval.run_eval

bench: setup
	@echo "the benchmark suite is not built yet (issue: performance)"; exit 1

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
