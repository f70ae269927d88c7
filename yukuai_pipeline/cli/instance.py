"""`yukuai instance`, and what every command that runs Dagster does first: DAGSTER_HOME made an absolute, existing,
private folder with the local instance's dagster.yaml (no telemetry, no first-visit pop-up, one run per day at a
time, run monitoring; an older file of this command completed), and its storage checked before Dagster opens it.
"""

import os
from pathlib import Path

from yukuai_pipeline.file_modes import private_dir, private_file
from yukuai_pipeline.settings import Settings

# A run whose process died must not hold its day's slot for ever (deploy/README.md: what fails a dead run).
_RUN_MONITORING = """\
# run monitoring (daemon of `make ui`): a run that never started, or still STARTED after max_runtime_seconds
# (the default run launcher cannot tell whether a run's process is alive), is marked failed, freeing its day;
# `yukuai materialize` fails its own dead runs at once (run_hygiene.py)
run_monitoring:
  enabled: true
  start_timeout_seconds: 180
  cancel_timeout_seconds: 180
  max_runtime_seconds: 3600
  max_resume_run_attempts: 0
  poll_interval_seconds: 60
"""

DAGSTER_YAML = (
    """# Local instance of yukuai-pipeline (created by `yukuai` / `make ui`); see README for production settings.
telemetry:
  enabled: false
# no first-visit "join the community" pop-up in the UI of this local instance
nux:
  enabled: false
concurrency:
  runs:
    max_concurrent_runs: 2
    # the sensor and the schedule may ask for the same day at once: one run per day at a time
    tag_concurrency_limits:
      - key: dagster/partition
        value:
          applyLimitPerUniqueValue: true
        limit: 1
"""
    + _RUN_MONITORING
)


def prepare_dagster_home() -> Path:
    """DAGSTER_HOME must be an absolute, existing folder; the default is data/dagster_home beside the data.

    Then its storage must answer: a folder that takes no new file, or the PostgreSQL of a production dagster.yaml
    that is down, refuses the login or is read-only, raises db_trouble.DatabaseTrouble (one line in the CLI)."""
    from yukuai_pipeline.db_connections import check_instance_storage

    home = private_dir(Path(os.environ.get("DAGSTER_HOME") or Settings.from_env().dagster_home).expanduser().resolve())
    config = home / "dagster.yaml"
    text = config.read_text(encoding="utf-8") if config.exists() else ""
    if not text:
        config.write_text(DAGSTER_YAML, encoding="utf-8")
        private_file(config)
    elif text.startswith(DAGSTER_YAML.splitlines()[0]):
        # written by an earlier version of this command: add what it lacked (the pop-up setting, run monitoring)
        added = "" if "\nnux:" in text else "nux:\n  enabled: false\n"
        added += "" if "\nrun_monitoring:" in text else _RUN_MONITORING
        if added:
            config.write_text(text.rstrip("\n") + "\n" + added, encoding="utf-8")
    os.environ["DAGSTER_HOME"] = str(home)
    check_instance_storage(home, Settings.from_env().db_lock_timeout)
    return home


def cmd_instance(args) -> int:
    print(prepare_dagster_home())
    return 0
