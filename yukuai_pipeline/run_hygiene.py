"""What `yukuai materialize` does before its first run: the databases answer, and no dead run blocks a day.

Runs started by `yukuai materialize` execute inside the CLI's own process (execute_in_process): there is no run
launcher for Dagster's run-monitoring daemon to ask whether the run's worker is alive. A CLI killed in the middle
of a run (SIGKILL, a reboot, a closed SSH session) leaves its run STARTED for ever, and with one run per day allowed
(`tag_concurrency_limits` on `dagster/partition`) every later queued run of that day would wait behind it. So
every CLI run is tagged with its process id and host (`yukuai/pid`, `yukuai/host`), and before its first run
`yukuai materialize` marks as failed every STARTING/STARTED run of this host whose process no longer exists.
"""

import os
import socket
from pathlib import Path

PID_TAG = "yukuai/pid"
HOST_TAG = "yukuai/host"
# The code location's name (workspace.yaml, pyproject [tool.dagster]). A run made in-process has no code location
# of its own; this label (Dagster's `.dagster/repository` tag, "<repository>@<location>") is what the UI's job Runs
# tab and the Overview timeline select runs by, so a CLI run shows there beside the UI's own runs.
CODE_LOCATION = "yukuai_pipeline"
REPOSITORY_TAG = ".dagster/repository"


def cli_run_tags() -> dict[str, str]:
    """The tags that let a later `yukuai materialize` find out that this process is gone, and that place the run
    under the code location's daily_refresh job in the UI."""
    return {
        PID_TAG: str(os.getpid()),
        HOST_TAG: socket.gethostname(),
        REPOSITORY_TAG: f"__repository__@{CODE_LOCATION}",
    }


def _started_at(pid: int) -> float | None:
    """When the process started (seconds since the epoch), from /proc on Linux; None where that is unknown."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = int(fields[19])  # field 22 of stat: start time in clock ticks after boot
        boot = next(
            int(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines() if line.startswith("btime ")
        )
        return boot + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration):
        return None


def process_alive(pid: int, created_at: float | None = None) -> bool:
    """Whether the process that created a run at `created_at` still runs. A process id reused by a process that
    started after the run was created is not that process."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists, owned by another user
    if created_at is not None:
        started = _started_at(pid)
        if started is not None and started > created_at + 2:  # /proc's start time is rounded to clock ticks
            return False
    return True


def fail_dead_runs(instance) -> list:
    """Mark as failed every STARTING/STARTED run started by `yukuai materialize` on this host whose process is
    gone; returns those runs. Runs of other hosts and runs without the tags (daemon, UI) are left alone: the run
    monitoring of the instance (dagster.yaml) looks after those."""
    import dagster as dg

    host = socket.gethostname()
    filters = dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED], tags={HOST_TAG: host})
    failed = []
    for record in instance.get_run_records(filters=filters):
        run = record.dagster_run
        try:
            pid = int(run.tags.get(PID_TAG, ""))
        except ValueError:
            continue
        created = record.create_timestamp.timestamp() if record.create_timestamp else None
        if process_alive(pid, created):
            continue
        instance.report_run_failed(
            run,
            f"运行它的进程已不存在（主机 {host}，进程号 {pid}）：yukuai materialize 在运行中途被终止。"
            "由下一次 yukuai materialize 标记为失败，该日可以重新运行。 / The process of this run is gone; "
            "marked as failed by the next `yukuai materialize`.",
        )
        failed.append(run)
    return failed


def describe(failed: list) -> str:
    days = sorted({run.tags.get("dagster/partition", "?") for run in failed})
    ids = "、".join(run.run_id[:8] for run in failed[:5]) + (" 等" if len(failed) > 5 else "")
    return (
        f"已把 {len(failed)} 个中断的运行标记为失败（运行它们的进程已不存在；日期 {'、'.join(days)}；运行 {ids}），"
        "这些日期可以重新运行"
    )


def before_runs() -> Path:
    """Before `yukuai materialize` starts a run: DAGSTER_HOME and its storage answer
    (cli.instance.prepare_dagster_home), the warehouse takes a write (rolled back), and dead CLI runs of this host
    are marked failed (one printed line). A database fault raises db_trouble.DatabaseTrouble, which the CLI prints
    as one line; no run has started."""
    import dagster as dg

    from yukuai_pipeline.cli.instance import prepare_dagster_home
    from yukuai_pipeline.defs.resources import YukuaiResource

    home = prepare_dagster_home()
    YukuaiResource.from_env().warehouse().check_writable()
    with dg.DagsterInstance.get() as instance:
        failed = fail_dead_runs(instance)
    if failed:
        print(describe(failed), flush=True)
    return home
