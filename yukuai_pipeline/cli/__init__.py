"""`yukuai`: the command line for the demo, cron deployments without the Dagster daemon, and scripting.

Runs are executed in process against the persistent Dagster instance in DAGSTER_HOME, so they show in the UI.
The commands are grouped by what they do: `instance.py` (DAGSTER_HOME), `runs.py`
(materialize), `files.py` (demo data, archive), `outputs.py` (report, alerts); `parser.py` holds the arguments and
`errors.py` turns database trouble into one line.
"""

import sys

from yukuai_pipeline.cli import errors
from yukuai_pipeline.cli.parser import build_parser
from yukuai_pipeline.file_modes import restrict_umask


def main(argv: list[str] | None = None) -> int:
    """Run the `yukuai` command with `argv` (default: the process's arguments); returns the exit status."""
    args = build_parser().parse_args(argv)
    restrict_umask()  # before anything is written: the database, reports, Dagster's storage and logs

    # Database trouble in any command (locked, unreachable, read-only, full…) is one line on stderr and exit
    # status 1; library logs stay off the terminal (a run's full log is in the Dagster instance).
    with errors.quiet_python_logging():
        try:
            return args.func(args)
        except Exception as error:
            trouble = errors.for_cli(error)
            if trouble is None:
                raise
            print(trouble.line, file=sys.stderr)
            return 1
