# yukuai-pipeline — two commands: `make demo` and `make test` (see README.md).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
export DAGSTER_HOME ?= $(CURDIR)/data/dagster_home

.PHONY: install demo test lint format ui screenshots clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test]'
	touch $(STAMP)

install: $(STAMP) ## 建 .venv 并按 constraints.txt 安装（其他目标会先做这一步）/ create .venv and install the pinned set

# The demo's second county (演示县 509901, fictional; half its townships share 酉阳县's names) lives under
# data/counties/509901/: its notice, the campaign folder imported from it, its landing and report folders and its
# own Dagster instance; both counties write the one warehouse, and `yukuai city` compiles them.
SECOND := data/counties/509901
SECOND_ENV := YUKUAI_ASSETS_DIR=$(SECOND)/campaign YUKUAI_LANDING_DIR=$(SECOND)/landing \
	YUKUAI_REPORT_DIR=$(SECOND)/reports DAGSTER_HOME=$(CURDIR)/$(SECOND)/dagster_home

# The demo's person key (intake/keyed_hash.py), so it shows which roster cadres registered. It is public, so it protects
# nothing: a real deployment sets YUKUAI_PERSON_KEY_FILE to a secret file of its own (deploy/README.md).
DEMO_KEY := YUKUAI_PERSON_KEY="$${YUKUAI_PERSON_KEY:-yukuai-demo-only-key-public-protects-nothing}"

demo: install ## 两个区县的演示数据：酉阳县和演示县（虚构），物化每个落地日期，再做全市汇总 / two counties' demo and the city rollup
	$(BIN)/yukuai demo-data
	$(DEMO_KEY) $(BIN)/yukuai materialize --landed || [ $$? -eq 3 ]  # 3: every day ran, some figures doubtful (⚠ lines above)
	@echo "—— 第二个区县：演示县（509901，虚构）从它的通知导入，再生成数据并物化 / the second county ——"
	$(BIN)/yukuai demo-notice --out $(SECOND)/notice
	$(BIN)/yukuai campaign import $(SECOND)/notice/演示县民政局关于推广渝快社区的通知.txt --county-code 509901 \
	  --out $(SECOND)/campaign --force
	$(SECOND_ENV) $(BIN)/yukuai demo-data
	$(SECOND_ENV) $(DEMO_KEY) $(BIN)/yukuai materialize --landed || [ $$? -eq 3 ]
	@echo "—— 全市汇总 / the city rollup ——"
	$(BIN)/yukuai city
	@echo "报表目录 / reports: $${YUKUAI_REPORT_DIR:-data/reports}（酉阳县）、$(SECOND)/reports（演示县）、data/city/reports（全市）"
	@echo "查看界面 / UI: make ui → http://127.0.0.1:3000"

test: lint ## 先做代码检查，再运行全部测试（pytest，两核机器上全套约 1 小时）/ the quality gate, then the whole test suite (~1 h on 2 cores)
	$(BIN)/python -m pytest

# The quality gate (configured in pyproject.toml): formatting, lint, types. `make format` fixes the first two.
lint: install ## 代码检查：ruff 格式与规则、mypy 类型（make test 会先做）/ ruff format --check, ruff check, mypy
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy

format: install ## 自动整理代码格式并修正可自动修正的问题 / ruff format and ruff check --fix
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# `yukuai instance` creates DAGSTER_HOME and its dagster.yaml (no telemetry, no first-visit community pop-up).
# Beside the UI, a read-only file server on loopback serves the report folder, so the excel_report asset's
# "下载报表" link opens the workbook; it is stopped with the UI (Ctrl-C).
ui: install ## 启动 Dagster 界面 http://127.0.0.1:3000 和报表下载 :3001（YUKUAI_UI_PORT、YUKUAI_REPORT_PORT 改端口）/ the UI and its report links
	@$(BIN)/yukuai instance >/dev/null
	@install -d -m 0750 "$${YUKUAI_REPORT_DIR:-data/reports}"
	@echo "Dagster UI: http://127.0.0.1:$${YUKUAI_UI_PORT:-3000}  (DAGSTER_HOME=$(DAGSTER_HOME))"
	@echo "报表 / reports: http://127.0.0.1:$${YUKUAI_REPORT_PORT:-3001}/  ($${YUKUAI_REPORT_DIR:-data/reports})"
	umask 027; \
	$(BIN)/python -m http.server "$${YUKUAI_REPORT_PORT:-3001}" --bind 127.0.0.1 \
	  --directory "$${YUKUAI_REPORT_DIR:-data/reports}" >/dev/null 2>&1 & server=$$!; \
	trap 'kill $$server 2>/dev/null' EXIT INT TERM; \
	YUKUAI_REPORT_BASE_URL="$${YUKUAI_REPORT_BASE_URL:-http://127.0.0.1:$${YUKUAI_REPORT_PORT:-3001}}" \
	YUKUAI_UI_BASE_URL="$${YUKUAI_UI_BASE_URL:-http://127.0.0.1:$${YUKUAI_UI_PORT:-3000}}" $(DEMO_KEY) \
	  $(BIN)/dagster dev -h 127.0.0.1 -p $${YUKUAI_UI_PORT:-3000}

# The README's pictures, taken by the browser test on its own temporary instance (needs Debian's chromium).
screenshots: install ## 用浏览器测试重拍 docs/ 里 README 的图（需 chromium）/ retake the README's pictures
	YUKUAI_SCREENSHOT_DIR=$(CURDIR)/docs $(BIN)/python -m pytest -q tests/browser/test_ui_browser.py

clean: ## 删除数据库、报表、Dagster 实例和演示县（不删酉阳县的落地文件）/ remove database, reports, instances, 2nd county
	rm -rf data/warehouse.db data/dagster_home data/reports data/counties data/city

.PHONY: help
# `make help`: every target with its `## ` line (Chinese / English).
help: ## 列出所有目标及其说明 / list every target with one line
	@echo "用法 / usage: make <目标 / target>"
	@grep -E '^[a-z][a-z_-]*:.*## ' $(firstword $(MAKEFILE_LIST)) | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-12s %s\n", $$1, $$2}'
	@echo "命令行 / command line: .venv/bin/yukuai -h（见 README.md）"
