# yukuai-pipeline — two commands: `make demo` and `make test` (see README.md).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
export DAGSTER_HOME ?= $(CURDIR)/data/dagster_home

.PHONY: install demo test ui screenshots clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/yukuai demo-data
	$(BIN)/yukuai materialize --landed
	@echo "报表目录 / reports: $${YUKUAI_REPORT_DIR:-data/reports}（每天一个 Excel 文件 / one workbook per day）"
	@echo "查看界面 / UI: make ui → http://127.0.0.1:3000"

test: install
	$(BIN)/python -m pytest

# `yukuai instance` creates DAGSTER_HOME and its dagster.yaml (no telemetry, no first-visit community pop-up).
ui: install
	@$(BIN)/yukuai instance >/dev/null
	@echo "Dagster UI: http://127.0.0.1:$${YUKUAI_UI_PORT:-3000}  (DAGSTER_HOME=$(DAGSTER_HOME))"
	umask 027 && $(BIN)/dagster dev -h 127.0.0.1 -p $${YUKUAI_UI_PORT:-3000}

# The README's two pictures, taken by the browser test on its own temporary instance (needs Debian's chromium).
screenshots: install
	YUKUAI_SCREENSHOT_DIR=$(CURDIR)/docs $(BIN)/python -m pytest -q tests/test_ui_browser.py

clean:
	rm -rf data/warehouse.db data/dagster_home data/reports
