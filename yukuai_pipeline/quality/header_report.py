"""What became of every header cell of a loaded file, said to the officer: the rows of `file_columns`, the
data-quality issues of headers that were not understood, the `columns_recognised` check, the 表头 → 字段 table of
the ingest asset's metadata, and what the absence of an optional column means (the contract's `if_missing`)."""

from typing import Any

import pandas as pd

from yukuai_pipeline.intake.column_mapping import (
    AMBIGUOUS,
    DUPLICATE,
    FIELD,
    KEY_TERM,
    NOISE,
    UNRECOGNISED,
    HeaderCell,
    column_letter,
)
from yukuai_pipeline.intake.loading import LoadedFile
from yukuai_pipeline.intake.privacy import scrub_text
from yukuai_pipeline.quality import outcomes as quality

DROPPED = "dropped"
OUTCOME_LABELS = {
    FIELD: "字段",
    DROPPED: "识别后丢弃（不入库）",
    NOISE: "已知无关列",
    UNRECOGNISED: "未识别（未读取）",
    AMBIGUOUS: "有歧义（未读取）",
    DUPLICATE: "重复列（未读取）",
}
METHOD_LABELS = {"alias": "别名", "decorated": "去掉修饰词后为别名", KEY_TERM: "含关键词（请确认）"}
# outcomes that leave a column of the file unread without the contract saying so: they make the day's figures doubtful
UNREAD = (UNRECOGNISED, AMBIGUOUS, DUPLICATE)
ISSUE_CHECKS = {
    UNRECOGNISED: "unrecognised_header",
    AMBIGUOUS: "ambiguous_header",
    DUPLICATE: "duplicate_header",
    KEY_TERM: "inferred_header",
}


def _outcome(cell: HeaderCell, loaded: LoadedFile) -> str:
    if cell.outcome == FIELD and cell.field in loaded.header.contract.dropped_at_ingest:
        return DROPPED
    return cell.outcome


def file_column_rows(loaded: LoadedFile) -> list[dict[str, Any]]:
    """One `file_columns` row per non-empty header cell of the file."""
    rows = []
    for cell in sorted(loaded.header_cells, key=lambda c: c.position):
        rows.append(
            {
                "sha256": loaded.identity.sha256,
                "file_name": loaded.identity.name,
                "kind": loaded.header.contract.kind,
                "sheet": loaded.identity.sheet or "",
                "header_row": loaded.header_row,
                "column_letter": column_letter(cell.position),
                "column_number": cell.position + 1,
                "header_text": scrub_text(cell.text)[:200],
                "outcome": _outcome(cell, loaded),
                "field": cell.field if cell.outcome == FIELD else None,
                "method": cell.method or None,
                "note": _advice(cell, loaded) or None,
                "candidates": ",".join(cell.candidates) or None,
                "reason": cell.note or None,
            }
        )
    return rows


def _field_title(loaded: LoadedFile, column: str) -> str:
    return f"“{loaded.header.contract.column_title(column)}”（{column}）"


def _advice(cell: HeaderCell, loaded: LoadedFile) -> str:
    """What the officer can do about the cell, naming the contract file and the section to edit."""
    contract = loaded.header.contract
    where = f"schemas/inputs/{contract.kind}.yaml"
    text = scrub_text(cell.text)
    if cell.outcome == FIELD and cell.method == KEY_TERM:
        assert cell.field is not None  # a FIELD cell always names its field (intake/column_mapping.py)
        return (
            f"按关键词识别为{_field_title(loaded, cell.field)}；确认无误后请把“{text}”加入 {where} 的 "
            f"header_aliases.{cell.field}"
        )
    if cell.outcome == UNRECOGNISED:
        likely = [c for c in cell.candidates if c in contract.columns]
        own = f"{cell.note}；" if cell.note else ""
        if likely:
            return (
                f"{own}可能是{_field_title(loaded, likely[0])}：如是，请把“{text}”加入 {where} 的 "
                f"header_aliases.{likely[0]}；如该列无用，加入 noise_headers"
            )
        return f"{own}如该列有用，请把“{text}”加入 {where} 对应字段的 header_aliases；如无用，加入 noise_headers"
    if cell.outcome == AMBIGUOUS:
        fields = "、".join(_field_title(loaded, c) for c in cell.candidates if c in contract.columns)
        own = cell.note or f"同样像{fields}"
        return f"{own}；请在 {where} 的 header_aliases 中把“{text}”写到它所属的字段下"
    if cell.outcome == DUPLICATE:
        return cell.note
    return cell.note


def header_issues(loaded: LoadedFile) -> list[dict[str, Any]]:
    """A data-quality issue for every header cell that was not read (or read only by a key term)."""
    issues = []
    for cell in loaded.header_cells:
        key = cell.method if cell.outcome == FIELD and cell.method == KEY_TERM else cell.outcome
        if key not in ISSUE_CHECKS:
            continue
        issues.append(
            {
                "check": ISSUE_CHECKS[key],
                "severity": "WARN",
                "source_file": loaded.identity.name,
                "row_number": loaded.header_row,
                "field": column_letter(cell.position),
                "value_masked": scrub_text(cell.text)[:200],
                "quarantined": False,
                "message": f"《{loaded.identity.name}》第 {column_letter(cell.position)} 列"
                f"表头“{scrub_text(cell.text)}”{OUTCOME_LABELS.get(cell.outcome, '')}：{_advice(cell, loaded)}",
            }
        )
    return issues


def unread_columns(loaded: LoadedFile) -> list[HeaderCell]:
    return [c for c in loaded.header_cells if c.outcome in UNREAD]


def columns_check(files: list[LoadedFile]) -> quality.CheckOutcome:
    """WARN naming every header of the day's files that was not understood (or understood only by a key term)."""
    rows = []
    for loaded in files:
        for cell in loaded.header_cells:
            inferred = cell.outcome == FIELD and cell.method == KEY_TERM
            if cell.outcome in UNREAD or inferred:
                rows.append(
                    {
                        "文件": loaded.identity.name,
                        "列": column_letter(cell.position),
                        "表头": scrub_text(cell.text),
                        "结果": OUTCOME_LABELS[cell.outcome] + ("，按关键词识别" if inferred else ""),
                        "处理办法": _advice(cell, loaded),
                    }
                )
    if not rows:
        total = sum(len(f.header_cells) for f in files)
        return quality.passed("columns_recognised", f"{len(files)} 个文件的 {total} 个表头全部识别", headers=total)
    named = [f"{r['文件']} 第 {r['列']} 列“{r['表头']}”" for r in rows]
    unread = sum(1 for f in files for _ in unread_columns(f))
    summary = (f"{unread} 个表头未能识别、有歧义或重复，该列未读取" if unread else "") + (
        f"{'；' if unread else ''}{len(rows) - unread} 个表头按关键词识别，请确认" if len(rows) > unread else ""
    )
    return quality.failed(
        "columns_recognised",
        f"{summary}：{'、'.join(named[:5])}{' 等' if len(named) > 5 else ''}",
        numbers={"headers_unread": unread, "headers_inferred": len(rows) - unread},
        table=pd.DataFrame(rows),
    )


def mapping_table(files: list[LoadedFile]) -> pd.DataFrame:
    """表头 → 字段: every header cell of the files, for the ingest asset's materialization metadata."""
    rows = []
    for loaded in files:
        contract = loaded.header.contract
        for cell in sorted(loaded.header_cells, key=lambda c: c.position):
            outcome = _outcome(cell, loaded)
            target = ""
            if cell.outcome == FIELD:
                assert cell.field is not None  # a FIELD cell always names its field (intake/column_mapping.py)
                target = f"{contract.column_title(cell.field)}（{cell.field}）"
            how = METHOD_LABELS.get(cell.method, "") if cell.outcome == FIELD else ""
            rows.append(
                {
                    "文件": loaded.identity.name,
                    "列": column_letter(cell.position),
                    "表头": scrub_text(cell.text),
                    "字段": target,
                    "结果": OUTCOME_LABELS[outcome] + (f"（{how}）" if how else ""),
                }
            )
    return pd.DataFrame(rows, columns=["文件", "列", "表头", "字段", "结果"])


def missing_meanings(loaded: LoadedFile) -> list[tuple[str, dict[str, Any], str]]:
    """(field, its if_missing entry, the message with the file's numbers) for each optional column the contract says
    the absence of changes what the numbers mean."""
    found = []
    for column in loaded.header.missing_optional:
        meaning = loaded.header.contract.if_missing[column]
        message = meaning["message"].format(rows=f"{len(loaded.accepted):,}", file=loaded.identity.name)
        found.append((column, meaning, f"《{loaded.identity.name}》{message}"))
    return found
