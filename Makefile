# Two commands set up a fresh machine: `make demo` (the main job, offline) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

.PHONY: demo test lint bench
demo: $(VENV)/.installed
	$(BIN)/payfix demo

lint: $(VENV)/.installed
	$(BIN)/ruff check bot tests bench
	$(BIN)/mypy --strict bot

test: lint
	$(BIN)/payfix kb check
	$(BIN)/pytest -q

bench: $(VENV)/.installed
	$(BIN)/python bench/pipeline_bench.py
