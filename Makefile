# One virtual environment, made by the project's own files, so a fresh machine needs only Python.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install run demo test lint typecheck bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# The web app on 127.0.0.1:8000 with the embedded SQLite run store (see README: web app).
run: $(STAMP)
	$(BIN)/scalesim serve $(SERVE_ARGS)

demo: $(STAMP)
	$(BIN)/scalesim catalog
	$(BIN)/scalesim new ecommerce -o build/demo/shop.yaml --force
	$(BIN)/scalesim validate build/demo/shop.yaml
	$(BIN)/scalesim generate build/demo/shop.yaml -o build/demo/deploy --force
	$(BIN)/scalesim simulate build/demo/shop.yaml --json build/demo/results.json --force
	@echo "demo: architecture build/demo/shop.yaml, manifests build/demo/deploy/, results build/demo/results.json"

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

test: $(STAMP) lint typecheck
	$(BIN)/python -m pytest -n 2 -q

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) build .mypy_cache .pytest_cache .ruff_cache
