# CareTrack: `make run` serves the demo college, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
export FLASK_APP := caretrack
CATALOG := caretrack/translations

.PHONY: run test install install-test translations extract-messages update-messages lint screenshots bench bench-pages bench-api bench-checkin bench-retention bench-throughput bench-load clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install --quiet -e .
	touch $@

# The browser tests' Nu HTML checker (npm's vnu-jar, run on Java); axe-core is vendored.
$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed tests/e2e/checkers/package-lock.json
	$(BIN)/pip install --quiet -e '.[test]'
	npm ci --prefix tests/e2e/checkers --ignore-scripts --silent --no-audit --no-fund
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

translations: $(VENV)/.installed
	$(BIN)/pybabel compile --use-fuzzy -d $(CATALOG) -f >/dev/null

extract-messages: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k ngettext:1,2 --ignore-dirs '.* __pycache__' \
	  --no-location --sort-output --project CareTrack -o $(CATALOG)/messages.pot .

update-messages: extract-messages
	$(BIN)/pybabel update -i $(CATALOG)/messages.pot -d $(CATALOG) --no-fuzzy-matching --ignore-obsolete

run: translations
	mkdir -p instance
	$(BIN)/flask db upgrade
	$(BIN)/flask seed-demo-if-empty
	@echo "Students' check-in, to try on a phone (class link: student number + last 4 phone digits):"
	@$(BIN)/flask checkin class-links --counsellor counsellor1 | sed -n 2p
	@$(BIN)/flask checkin links --counsellor counsellor1 | sed -n 2p
	@echo "CareTrack on http://127.0.0.1:$(PORT)"
	$(BIN)/flask run --host 127.0.0.1 --port $(PORT)

# The suite runs on two workers (this machine's two cores): PYTEST_WORKERS=0 runs it in one
# process. The tests of one browser journey stay on one worker (--dist loadgroup).
PYTEST_WORKERS ?= 2
# pytest's exit code 5 ("no tests collected", e.g. PYTEST_ARGS="-k nothing") is not a failure.
# Bytecode is written even where the environment turns it off: each worker would otherwise
# compile the package and rewrite the tests afresh on every run.
test: export PYTHONDONTWRITEBYTECODE :=
test: install-test translations
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadgroup $(PYTEST_ARGS) || [ $$? -eq 5 ]

lint: install-test
	$(BIN)/ruff check .

screenshots: install-test translations
	$(BIN)/python -m tests.e2e.screenshots
	$(BIN)/python -m tests.e2e.checkin_screenshots

bench: install-test translations
	$(BIN)/python bench/roster_import.py

bench-pages: install-test translations
	$(BIN)/python bench/pages.py
	$(BIN)/python bench/pages.py --postgres --students 50000

# The JSON API: the students list and the 5,000-row status upsert (2,458 students on SQLite,
# 50,000 on PostgreSQL in a database of its own, created and dropped by the script).
bench-api: install-test translations
	$(BIN)/python bench/api.py
	$(BIN)/python bench/api.py --postgres

bench-retention: install-test translations
	$(BIN)/python bench/retention.py
	$(BIN)/python bench/retention.py --postgres

bench-checkin: install-test translations
	$(BIN)/python bench/checkin.py
	$(BIN)/python bench/checkin.py --postgres --students 50000
	@echo "The same 2,458 check-ins sent back to back (the server's capacity, no p95 target):"
	-$(BIN)/python bench/checkin.py --think-ms 0 --p95-ms 100000

# Requests per second of the hot pages with wrk, 2 sync workers, production configuration,
# the demo college on SQLite; each page's ratio to the app's trivial route in the same run.
bench-throughput: install-test translations
	$(BIN)/python bench/throughput.py

# 50 users for 60 s (locust): on SQLite at college scale, then on PostgreSQL at 50,000.
bench-load: install-test translations
	$(BIN)/python bench/load.py
	BENCH_PG_PREFIX=$${BENCH_PG_PREFIX:-caretrack} $(BIN)/python bench/load.py --postgres --students 50000

clean:
	rm -rf $(VENV) .pytest_cache
