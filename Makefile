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

# mypy first (rules/, handlers/ and storage/, settings in pyproject.toml): a type error fails `make test`.
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

# Every bench in turn, each one's output also in $(BENCH_LOG); at the end every `TARGET …` line they printed
# (bench/_common.py target_line: the figure, the target, met or not). A bench that crashes fails `make bench`.
BENCHES := busy_day sweep report board startup
BENCH_LOG := bench-results.log
bench: install
	@: > $(BENCH_LOG); \
	for b in $(BENCHES); do \
	  echo "== bench/$$b.py" | tee -a $(BENCH_LOG); \
	  { $(BIN)/python bench/$$b.py 2>&1; echo "exit status $$?"; } | tee -a $(BENCH_LOG); \
	done; \
	echo; echo "== make bench: every target ($(BENCH_LOG))"; \
	grep -h '^TARGET' $(BENCH_LOG); \
	! grep -q '^exit status [1-9]' $(BENCH_LOG)

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
