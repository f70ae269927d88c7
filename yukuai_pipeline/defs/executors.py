"""The executor of the code location's runs, chosen by YUKUAI_EXECUTOR (settings.ExecutorSettings).

in_process (the default): None, so Definitions keeps Dagster's default and every job keeps its own executor
(daily_refresh and roster_refresh run their steps in the run's process; `make demo` is unchanged).

celery: dagster-celery's executor. The run's process (the run worker) sends each step as a Celery task to the queue
YUKUAI_CELERY_QUEUE on the broker YUKUAI_CELERY_BROKER and waits for its events on YUKUAI_CELERY_BACKEND; a worker
started with `dagster-celery worker start -A dagster_celery.app -y deploy/celery/celery.yaml -q <queue>` executes
it. The worker loads the job itself (yukuai_pipeline.definitions) and opens the run's instance from the
reference in the task, so it needs the same YUKUAI_* variables, the instance's PostgreSQL and the same folders
(landing, reports, DAGSTER_HOME's storage for Dagster's own step files): deploy/README.md, "分布式执行（Celery）".

Definitions' executor applies to every job that does not name its own (the asset job of the UI's Materialize button
and `dagster asset materialize`); the county's jobs name JOB_EXECUTOR: the same Celery executor, else in-process
(a day's steps form one chain: one process per step would only add start-up time on a small machine).
"""

import os
from collections.abc import Mapping

import dagster as dg

from yukuai_pipeline.settings import ExecutorSettings


def _value_or_variable(settings: ExecutorSettings, field: str, env: Mapping[str, str]) -> str | dict[str, str]:
    """The variable's name when it is set (Dagster reads it when the run starts: a password in the broker URL is
    never part of the definition the UI shows), else the default value."""
    variable = ExecutorSettings.VARIABLES[field]
    if (env.get(variable) or "").strip():
        return {"env": variable}
    value: str = getattr(settings, field)
    return value


def celery_config(settings: ExecutorSettings, env: Mapping[str, str] | None = None) -> dict:
    """dagster-celery's executor config: broker, result backend, and the queue (task_default_queue in
    config_source, where dagster-celery sends a step without a dagster-celery/queue tag). The workers import
    yukuai_pipeline.definitions themselves (`-i` in deploy/celery/yukuai-celery-worker@.service): `include` here
    would only name modules for a worker started from this app, which never happens."""
    env = os.environ if env is None else env
    return {
        "broker": _value_or_variable(settings, "celery_broker", env),
        "backend": _value_or_variable(settings, "celery_backend", env),
        "config_source": {"task_default_queue": settings.celery_queue},
    }


def build_executor(env: Mapping[str, str] | None = None) -> dg.ExecutorDefinition | None:
    """The executor for dg.Definitions(executor=...): dagster-celery's when YUKUAI_EXECUTOR=celery, else None
    (Dagster's default; the jobs name in_process_executor themselves)."""
    settings = ExecutorSettings.from_env(env)
    if settings.kind != "celery":
        return None
    from dagster_celery import celery_executor

    return celery_executor.configured(celery_config(settings, env), name="yukuai_celery")


# the executor of the county's own jobs (daily_refresh, roster_refresh, alert_history_refresh)
JOB_EXECUTOR: dg.ExecutorDefinition = build_executor() or dg.in_process_executor
