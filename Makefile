# Two commands on a fresh machine: `make run` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test test-clock bench check-scenarios screenshots canary clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,wechat]'
	touch $(STAMP)

run: install
	$(BIN)/reception-bot run --config config.yaml

# mypy first (rules/ and handlers/, settings in pyproject.toml): a type error fails `make test`.
# pytest exit code 5 means "no tests collected": that is a failure here, not a pass.
test: install
	$(BIN)/mypy
	$(BIN)/python -m pytest; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "no tests were collected" >&2; exit 1; fi; exit $$rc

# The tests never read the machine's clock; those that need "now" use tests/clock.py's wall clock,
# which starts at RECEPTION_TEST_CLOCK (default 14:00 Shanghai). This runs them at night and in office hours.
test-clock: install
	for hour in 03:00 14:00; do \
	  RECEPTION_TEST_CLOCK=$$hour $(BIN)/python -m pytest -m clock || exit 1; \
	done

bench: install
	$(BIN)/python bench/busy_day.py
	$(BIN)/python bench/sweep.py
	$(BIN)/python bench/report.py

# docs/screenshots/: the board at 1920×1080, 1366×768 and 390×844 with 4, 12 and 24 members, and the
# report page at the same sizes, as the Chromium layout tests see them (they check every box first).
screenshots: install
	SCREENSHOTS=1 $(BIN)/python -m pytest -q tests/integration/web/test_board_layout.py \
	  tests/integration/web/test_report_browser.py -k "layout or fits"

check-scenarios: install
	$(PY) ../shared/scenarios/check.py --cmd $(BIN)/reception-bot

# The newest lark-oapi in a throwaway venv against the Feishu compat tests (.ci/canary): reports, never fails.
canary:
	-@bash .ci/canary

clean:
	rm -rf $(VENV) data exports .pytest_cache
