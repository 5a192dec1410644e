# Anchang: `make demo` runs the product on the embedded SQLite default, `make test` passes the tests.
# Both set up everything they need on a fresh machine (venv, Python and npm packages, Debian packages).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8000
export PORT

.PHONY: setup assets system-deps demo serve test test-sqlite test-postgres lint deploy-check bench clean

$(BIN)/anchang: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

anchang/static/vendor/.copied: node_modules/.package-lock.json scripts/copy_assets.sh
	scripts/copy_assets.sh
	touch $@

assets: anchang/static/vendor/.copied

setup: $(BIN)/anchang assets

system-deps:
	scripts/system_deps.sh

demo: setup
	mkdir -p var
	$(BIN)/anchang migrate --noinput -v 0
	$(BIN)/anchang demo
	$(BIN)/anchang collectstatic --noinput -v 0
	scripts/run_demo.sh

serve: setup
	$(BIN)/anchang serve --port $(PORT)

test: setup system-deps
	scripts/run_tests.sh

test-sqlite: setup
	scripts/run_tests.sh sqlite

test-postgres: setup system-deps
	scripts/run_tests.sh postgres

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy anchang tests conftest.py
	$(BIN)/anchang makemigrations --check --dry-run

deploy-check: setup
	DEBUG=false SECRET_KEY="$${SECRET_KEY:-$$(head -c 48 /dev/urandom | base64)}" SECURE_SSL_REDIRECT=true \
	SECURE_COOKIES=true SECURE_HSTS_SECONDS=31536000 SECURE_HSTS_INCLUDE_SUBDOMAINS=true SECURE_HSTS_PRELOAD=true \
	ALLOWED_HOSTS=anchang.example.com $(BIN)/anchang check --deploy --fail-level WARNING

# quality.md benchmarks (bench/README.md): `make bench` runs all, `make bench ONLY=S1,S2` some.
bench: setup system-deps
	$(BIN)/python -m bench.run $(if $(ONLY),--only $(ONLY))

clean:
	rm -rf $(VENV) node_modules anchang/static/vendor var/static
