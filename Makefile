# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
# The CPU wheel of this torch lies on the project's machines; an unpinned torch makes pip
# download gigabytes of CUDA packages.
TORCH := torch==2.13.0
STAMP := $(VENV)/.installed

.PHONY: setup test test-fast demo lint clean

setup: $(STAMP)

$(STAMP): setup.py package.xml Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet $(TORCH)
	$(PIP) install --quiet -e '.[torch,onnxruntime,export,eval,plots,bags,link,ros,test]'
	touch $(STAMP)

test: setup
	$(PY) -m pytest -q --durations=15 test  # the slowest, to keep CI near 10 minutes

# The tier for every change: no ROS nodes, nothing slow (markers in test/conftest.py).
test-fast: setup
	$(PY) -m pytest -q -m "not slow and not ros" test

# Style and types (mypy.ini); CI runs it before the tests.
lint: setup
	$(VENV)/bin/ruff check .
	$(PY) -m mypy

demo: setup
	$(VENV)/bin/gan-compress-demo --out demo_output

clean:
	rm -rf $(VENV) build install log *.egg-info demo_output
