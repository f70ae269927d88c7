"""The one place where configuration is read: YUKUAI_* environment variables and the data folders."""

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

_PACKAGE_DIR = Path(__file__).resolve().parent
_CHECKOUT_DIR = _PACKAGE_DIR.parent


def _data_dir(name: str) -> Path:
    """assets/ and schemas/ sit at the top of a checkout; an installed wheel carries them in _data/."""
    for candidate in (_CHECKOUT_DIR / name, _PACKAGE_DIR / "_data" / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"找不到数据目录 {name}/ (looked beside the package and in yukuai_pipeline/_data)")


def assets_dir() -> Path:
    """The campaign's reference data (campaign.yaml, its target table, township aliases, roster rules).
    YUKUAI_ASSETS_DIR points at another campaign's folder of the same files, e.g. a whole city's townships."""
    override = os.environ.get("YUKUAI_ASSETS_DIR")
    return Path(override) if override else _data_dir("assets")


def schemas_dir() -> Path:
    return _data_dir("schemas")


def campaign() -> dict:
    return _campaign(assets_dir())


@lru_cache(maxsize=4)
def _campaign(folder: Path) -> dict:
    return read_yaml(folder / "campaign.yaml")


def read_yaml(path: Path):
    """A YAML file, by libyaml's C parser when PyYAML was built with it (several times faster), else PyYAML's own."""
    with open(path, encoding="utf-8") as fh:
        return yaml.load(fh, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


@dataclass(frozen=True)
class Settings:
    landing_dir: Path
    database_url: str
    report_dir: Path
    dagster_home: Path
    ui_base_url: str
    file_mode: int = 0o640
    dir_mode: int = 0o750

    @classmethod
    def from_env(cls) -> "Settings":
        env = os.environ
        return cls(
            landing_dir=Path(env.get("YUKUAI_LANDING_DIR", "data/landing")),
            database_url=env.get("YUKUAI_DATABASE_URL", "sqlite:///data/warehouse.db"),
            report_dir=Path(env.get("YUKUAI_REPORT_DIR", "data/reports")),
            dagster_home=Path(env.get("DAGSTER_HOME", "data/dagster_home")),
            ui_base_url=env.get("YUKUAI_UI_BASE_URL", "http://127.0.0.1:3000"),
            file_mode=_octal(env, "YUKUAI_FILE_MODE", 0o640),
            dir_mode=_octal(env, "YUKUAI_DIR_MODE", 0o750),
        )


def _octal(env, name: str, default: int) -> int:
    text = env.get(name)
    if not text:
        return default
    try:
        mode = int(text, 8)
    except ValueError:
        raise ValueError(f"{name}={text!r}：应为八进制权限，例如 0640 / an octal mode such as 0640") from None
    if not 0 <= mode <= 0o777:
        raise ValueError(f"{name}={text!r}：权限应在 0000–0777 之间 / must be within 0000-0777")
    return mode
