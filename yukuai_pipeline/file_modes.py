"""What the pipeline writes holds personal data or figures about people: owner read-write, group read, others nothing.

Defaults 0640 for files and 0750 for folders; YUKUAI_FILE_MODE / YUKUAI_DIR_MODE (octal, e.g. 0644) widen them,
for instance to publish reports on a shared drive. The process umask is narrowed too, so that files written by
libraries (SQLite journals, Dagster's storage and logs) follow the same rule.
"""

import os
from pathlib import Path

from yukuai_pipeline.settings import Settings


def restrict_umask() -> None:
    settings = Settings.from_env()
    os.umask(0o777 & ~(settings.file_mode | settings.dir_mode))


def private_dir(path: Path | str) -> Path:
    """Create the folder and its missing parents with the folder mode; folders that exist are left as they are
    (a shared /srv or /tmp must not be narrowed)."""
    path = Path(path)
    missing = [p for p in [path, *path.parents] if not p.exists()]
    path.mkdir(parents=True, exist_ok=True)
    for folder in missing:
        folder.chmod(Settings.from_env().dir_mode)
    return path


def private_file(path: Path | str) -> Path:
    path = Path(path)
    path.chmod(Settings.from_env().file_mode)
    return path


def create_private_file(path: Path | str) -> Path:
    """Create an empty file with the file mode unless it exists (SQLite then opens it as a new database)."""
    path = Path(path)
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, Settings.from_env().file_mode))
        private_file(path)  # os.open's mode is narrowed by the umask; say it exactly
    return path
