# One virtual environment, made by the project's own files, so a fresh machine needs only Python.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
ENGINE := $(VENV)/.engine

.PHONY: install run demo test lint typecheck bench calibrate clean page web-test chromium compiled pure

# The package and its dependencies, editable; the compiled engine is built by $(ENGINE) below.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	SCALESIM_COMPILE=0 $(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The compiled engine (mypyc, the machine's C compiler, in place: about a minute of CPU), rebuilt
# when the simulator, the model or the build changes. Without mypyc or a compiler, or when the
# build fails or does not import (mypyc crashes are segfaults), the extensions are removed and
# the pure-Python engine runs, with a warning; an extension whose source was edited since the
# build is never used (the package compares the build's source hashes at import).
ENGINE_SRC := setup.py src/scalesim_patterns/_build.py \
	$(shell find src/scalesim_patterns/sim src/scalesim_patterns/model -name '*.py' 2>/dev/null)
ENGINE_OUT := find src -name '*.so' -delete; rm -f src/scalesim_patterns/compiled-sources.txt

$(ENGINE): $(STAMP) $(ENGINE_SRC)
	$(BIN)/python setup.py -q build_ext --inplace -j 2 || { $(ENGINE_OUT); echo "warning: the compiled engine was not built: pure Python in use"; }
	@$(BIN)/python -c "import scalesim_patterns.sim" || { $(ENGINE_OUT); echo "warning: the compiled engine does not import; removed, pure Python in use"; }
	@$(BIN)/python -c "import scalesim_patterns as s; print('compiled engine in use' if s.compiled() else 'warning: pure Python engine in use')"
	touch $(ENGINE)

install: $(STAMP) $(ENGINE)

# Rebuild the compiled engine now; `make pure` removes it (until the next `make install`).
compiled: $(STAMP)
	rm -f $(ENGINE)
	$(MAKE) $(ENGINE)

pure:
	$(ENGINE_OUT)
	rm -f $(ENGINE)

# The page (web/, React + TypeScript) built into the package, where `scalesim serve` serves it.
WEB_DEPS := web/node_modules/.installed
PAGE     := src/scalesim_patterns/web/static/index.html

$(WEB_DEPS): web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund
	touch $(WEB_DEPS)

$(PAGE): $(WEB_DEPS) web/index.html web/vite.config.ts web/tsconfig.json $(shell find web/src -type f 2>/dev/null)
	cd web && npm run build

page: $(PAGE)

# Debian's Chromium for the page's end-to-end tests (never a downloaded browser).
chromium:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

# The page's own checks: strict TypeScript and the Vitest component tests.
web-test: $(WEB_DEPS) $(STAMP)
	cd web && npm run typecheck && npm test

# The web app on 127.0.0.1:8000 with the embedded SQLite run store (see README: web app).
run: $(ENGINE) $(PAGE)
	$(BIN)/scalesim serve $(SERVE_ARGS)

demo: $(ENGINE)
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

test: $(ENGINE) lint typecheck web-test chromium $(PAGE)
	$(BIN)/python -m pytest -n 2 -q

# speed.py: SimPy, pure and compiled (after checking their JSON is identical); run.py: memory;
# baseline.py: every template against the engine issue 17 was filed on (from git history);
# startup.py: CPU of `scalesim simulate` before its first event.
bench: $(ENGINE)
	$(BIN)/python benchmarks/speed.py
	$(BIN)/python benchmarks/run.py
	$(BIN)/python benchmarks/baseline.py
	$(BIN)/python benchmarks/startup.py

# The simulator against the generated services running here (about 15 minutes; an idle machine).
calibrate: $(ENGINE)
	$(BIN)/python benchmarks/calibrate.py

clean:
	rm -rf $(VENV) build .mypy_cache .pytest_cache .ruff_cache
	$(ENGINE_OUT)
