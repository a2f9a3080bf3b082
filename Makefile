# Set-up and everyday commands. Each target installs what it needs first, so
# on a fresh machine `make quickstart` and `make test` are all it takes.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
WORKDIR ?= runs/quickstart

.PHONY: install quickstart test test-slow lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# The native ops compile against the installed TensorFlow, so TensorFlow and
# the build tools go in first and the package builds without isolation.
install: $(BIN)/python
	$(BIN)/python -m pip install -q "tensorflow==2.21.*" "pybind11>=2.12" "setuptools>=68" wheel
	$(BIN)/python -m pip install -q --no-build-isolation -e '.[test]'

quickstart: install
	$(BIN)/tfmtl-train --config=configs/quickstart.py --workdir=$(WORKDIR)

test: install
	$(BIN)/python -m pytest -q tests

# The long end-to-end tests (marked slow; CI runs them after the default suite), two at a
# time (pytest-xdist; a test mostly waits on one core's subprocess). Tests that share a
# module fixture carry one xdist_group mark, so that fixture is built once.
test-slow: install
	$(BIN)/python -m pytest -q --runslow -m slow -n 2 --dist loadgroup tests

# ruff, and the import-linter contract of DESIGN.md's layers (pyproject.toml).
lint: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports

clean:
	rm -rf build *.egg-info tfmtl/ops/*.so
