"""The report's 社区基本信息 sheet (酉阳民政发〔2023〕9号 一（一）): per township how many villages have a complete and
valid registry entry, then every village that has not, with the fields missing or wrong and why, then the fields
scored and their sources. Reads `registry_completeness` and `registry_township_summary` from the report data when
it carries them (getattr: a ReportData without these fields gives the one-line "not yet" sheet)."""

import pandas as pd
from openpyxl.worksheet.worksheet import Worksheet

from yukuai_pipeline.metrics.data_dates import date_note
from yukuai_pipeline.metrics.registry_completeness import FieldList, load_fields
from yukuai_pipeline.report.cells import INT, PCT, TEXT, put_line, put_text, write_table
from yukuai_pipeline.report.data import ReportData
from yukuai_pipeline.report.print_setup import print_ready

SUMMARY_COLUMNS = [
    ("乡镇（街道）", "township", TEXT),
    ("村（社区）数", "villages", INT),
    ("信息完整的村数", "villages_complete", INT),
    ("完整率", "completeness", PCT),
]
GAP_COLUMNS = [
    ("乡镇（街道）", "township", TEXT),
    ("村（社区）", "village", TEXT),
    ("区划代码", "village_code", TEXT),
    ("应填字段数", "fields_required", INT),
    ("合格字段数", "fields_ok", INT),
    ("字段完整率", "completeness", PCT),
    ("缺失或有误", "missing", TEXT),
    ("原因", "reasons", TEXT),
]
FIELD_COLUMNS = [("字段", "label", TEXT), ("是否必填", "required", TEXT), ("依据", "source", TEXT)]
NOT_YET = "尚无社区基本信息：社区基本信息表落地后，这里按村（社区）列出考核字段是否完整、准确。"


def registry_sheet(ws: Worksheet, data: ReportData) -> None:
    table = getattr(data, "registry_completeness", None)
    summary = getattr(data, "registry_township_summary", None)
    if table is None or table.empty:
        put_text(ws.cell(1, 1), NOT_YET)
        print_ready(ws, data.snapshot_date, header_row=1, freeze=None)
        return
    width = len(GAP_COLUMNS)
    note = date_note(getattr(data, "data_dates", pd.DataFrame()), "registry")
    if note:
        put_line(ws, 1, note, width)
    summary = summary if summary is not None else pd.DataFrame(columns=[k for _, k, _ in SUMMARY_COLUMNS])
    last = write_table(ws, 2, SUMMARY_COLUMNS, _in_attachment_order(summary, data, []))
    gaps = table[table["missing"].notna()].assign(status="不完整")  # the fill of an incomplete row
    put_line(ws, last + 2, f"信息不完整或有误的村（社区）（{len(gaps)} 个）", width, bold=True)
    last = write_table(ws, last + 3, GAP_COLUMNS, _in_attachment_order(gaps, data, ["village"]))
    if gaps.empty:
        put_text(ws.cell(last + 1, 1), "全部村（社区）的社区基本信息完整。")
        last += 1
    fields = load_fields(data.campaign.folder)
    put_line(ws, last + 2, "考核字段与依据（schemas/benchmarks/registry_fields.yaml）", width, bold=True)
    last = write_table(ws, last + 3, FIELD_COLUMNS, _field_rows(fields))
    put_text(ws.cell(last + 2, 1), fields.code_note(data.campaign.county.code))
    print_ready(ws, data.snapshot_date, header_row=2, freeze="A3")


def _field_rows(fields: FieldList) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "label": f.label + (f"（{'、'.join(f.applies_to)}）" if f.applies_to else ""),
                "required": "必填" if f.required else "选填",
                "source": f.source,
            }
            for f in fields.fields
        ]
    )


def _in_attachment_order(frame: pd.DataFrame, data: ReportData, then: list[str]) -> pd.DataFrame:
    """Townships in the notice's attachment order (unknown ones last), then the given columns."""
    townships = getattr(data, "townships", None)
    if frame.empty or townships is None or "seq" not in townships:
        return frame.reset_index(drop=True)
    seq = dict(zip(townships["township"], townships["seq"].astype("Float64")))
    return (
        frame.assign(_order=frame["township"].map(seq).astype("Float64"))
        .sort_values(["_order", "township", *then], kind="stable", na_position="last")
        .drop(columns="_order")
        .reset_index(drop=True)
    )
