"""A step's result (StepResult with its check outcomes) as JSON text and back, so that a day whose inputs did not
change shows what the day it reuses showed (steps/unchanged.py). JSON, not pickle: the text lives in the
warehouse, which others can write, and decoding it must never run code.

Frames (a check's details, the preview) keep their columns and values; dates come back as ISO text and missing
values as None, which is how the UI shows them anyway (as markdown tables).
"""

import dataclasses
import datetime as dt
import json
from typing import Any

import numpy as np
import pandas as pd

from yukuai_pipeline.quality.outcomes import CheckOutcome
from yukuai_pipeline.steps.context import StepResult

_FRAME = "__frame__"


def _plain(value: Any) -> Any:
    if isinstance(value, pd.DataFrame):
        return {_FRAME: json.loads(value.to_json(orient="split", index=False, date_format="iso", default_handler=str))}
    if isinstance(value, (dt.date, dt.datetime, pd.Timestamp)):
        return value.isoformat()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (set, tuple)):
        return list(value)
    raise TypeError(f"无法保存为 JSON 的步骤结果值 / not JSON-able: {type(value).__name__}")


def _frame(value: Any) -> pd.DataFrame | None:
    if value is None:
        return None
    split = value[_FRAME]
    return pd.DataFrame(split["data"], columns=split["columns"])


def encode(result: StepResult) -> str:
    checks = [dataclasses.asdict(dataclasses.replace(c, table=None)) | {"table": c.table} for c in result.checks]
    doc = {
        "rows": result.rows,
        "checks": checks,
        "metadata": result.metadata,
        "preview": result.preview,
        "markdown": result.markdown,
        "preview_title": result.preview_title,
    }
    return json.dumps(doc, ensure_ascii=False, default=_plain)


def _check(doc: dict) -> CheckOutcome:
    numbers = {k: _frame(v) if isinstance(v, dict) and _FRAME in v else v for k, v in doc["numbers"].items()}
    return CheckOutcome(**(doc | {"numbers": numbers, "table": _frame(doc["table"])}))


def decode(text: str) -> StepResult:
    doc = json.loads(text)
    return StepResult(
        doc["rows"],
        [_check(c) for c in doc["checks"]],
        doc["metadata"],
        _frame(doc["preview"]),
        doc["markdown"],
        doc["preview_title"],
    )
