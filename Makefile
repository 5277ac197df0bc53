# Two commands set up a fresh machine: `make demo` (the main job, offline) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

# The package and its dependencies, interpreted.
$(VENV)/.installed: pyproject.toml setup.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip setuptools wheel
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

# Then the per-message hot path compiled with mypyc (setup.py), against the installed dependencies' types;
# rebuilt whenever one of those modules changes, since a compiled module shadows its source.
COMPILED := $(patsubst %,bot/%.py,$(shell sed -n 's/^COMPILED = //p' setup.py | tr -d '[]",'))
$(VENV)/.compiled: $(VENV)/.installed $(COMPILED)
	PAYFIX_COMPILE=1 $(BIN)/pip install --quiet --no-build-isolation --no-deps -e .
	touch $@

.PHONY: demo test lint bench
demo: $(VENV)/.compiled
	$(BIN)/payfix demo

lint: $(VENV)/.compiled
	$(BIN)/ruff check bot tests bench setup.py
	$(BIN)/mypy --strict bot

test: lint
	$(BIN)/payfix kb check
	$(BIN)/pytest -q

bench: $(VENV)/.compiled
	$(BIN)/python bench/pipeline_bench.py
