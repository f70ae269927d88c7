"""Typed values from untyped cells, as each input contract's `parse:` section says: parse_frame runs the parser of
each column's kind (text_parsing.py, datetime_parsing.py) over the whole column and collects the cells they could
not read, instead of guessing, as (row index, field, raw value, reason), with the contract's plausible_dates.
"""

import pandas as pd

from yukuai_pipeline.contracts import Contract
from yukuai_pipeline.intake.datetime_parsing import parse_datetime
from yukuai_pipeline.intake.text_parsing import parse_count, parse_identifier, parse_phone, parse_text, parse_vocabulary


def parse_frame(frame: pd.DataFrame, contract: Contract) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(typed frame, parse failures with columns index, field, raw, message)."""
    typed = {}
    failures = []
    for column in frame.columns:
        kind = contract.parse.get(column, "text")
        if kind == "vocabulary":
            parsed, bad = parse_vocabulary(frame[column], contract.vocabularies[column])
            reason = "取值无法识别（允许：" + "、".join(contract.vocabulary_labels[column].values()) + "）"
        else:
            parser = {
                "text": parse_text,
                "identifier": parse_identifier,
                "count": parse_count,
                "datetime": parse_datetime,
                "phone": parse_phone,
            }[kind]
            parsed, bad = parser(frame[column])
            reason = {"count": "不是整数", "datetime": "无法识别为日期/时间"}.get(kind, "无法识别")
        typed[column] = parsed
        if bad.any():
            failures.append(_failures(frame, column, bad, reason))
        if kind == "datetime" and column in contract.sections.get("plausible_dates", {}):
            earliest = pd.Timestamp(contract.sections["plausible_dates"][column]["min"])
            too_early = parsed < earliest
            if too_early.any():
                failures.append(_failures(frame, column, too_early, f"早于 {earliest:%Y-%m-%d}，不可能是真实的日期"))
    typed = pd.DataFrame(typed, index=frame.index)
    if failures:
        return typed, pd.concat(failures, ignore_index=True)
    return typed, pd.DataFrame(columns=["index", "field", "raw", "message"])


def _failures(frame: pd.DataFrame, column: str, bad: pd.Series, reason: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "index": frame.index[bad.to_numpy()],
            "field": column,
            "raw": frame.loc[bad, column].astype(str).str.slice(0, 200),
            "message": reason,
        }
    )
