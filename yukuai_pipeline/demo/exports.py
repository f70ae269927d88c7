"""The platform's exports as the demo writes them: the daily registration exports, the village registry and the
township summary workbooks, and the listing layout the roster and the activity export share.

The mess of real exports is kept in on purpose, and kept small: every 7th day an .xlsx from another menu of the
platform, otherwise a CSV in GBK, UTF-8 with a BOM or UTF-8 without one; half-width brackets in some headers; a title,
an export-time line and a 合计 footer around the table; population figures typed in as text with thousands
separators. Every file has the same bytes for the same seed (report/xlsx_files.py).
"""

import csv
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import Workbook

from yukuai_pipeline import settings
from yukuai_pipeline.demo import registry_contacts
from yukuai_pipeline.report.xlsx_files import column_letter, save_stable_workbook, write_streamed_xlsx

APPROVED, PENDING, REJECTED = "已通过", "待审核", "已驳回"

_EXPORT_TITLE = "渝快社区注册用户明细"
_EXPORT_COLUMNS = [
    "序号",
    "用户ID",
    "昵称",
    "手机号",
    "乡镇（街道）",
    "村（社区）",
    "注册时间",
    "审核状态",
    "推荐人手机号",
]
_REGISTRY_COLUMNS = [
    "序号",
    "社区编码",
    "乡镇（街道）",
    "村（社区）名称",
    "类型",
    "常住人口（人）",
    "户数",
    "村（居）民小组数",
    *registry_contacts.HEADERS,
]
# The attachment's title as the notice prints it (campaign.yaml spells the quotes in ASCII).
_SUMMARY_TITLE = "2023年全县“渝快社区”小程序注册使用目标任务安排表"
_GBK_DAYS = {3, 10}
_UTF8_WITHOUT_BOM_DAYS = {5}


# --------------------------------------------------------------------------------------------------------------
# Listings: the layout of the roster and the activity export
# --------------------------------------------------------------------------------------------------------------


def write_listing(
    path: Path, sheet_name: str, title: str, snapshot: date, frame: pd.DataFrame, columns: list[str], footnote: str
) -> None:
    """Title (merged over the columns), 统计截止 line, header, the frame's rows, footnote; the same frame gives the
    same bytes. Blank cells (None, NaN, "") are left out, integers written as numbers, everything else as text."""
    body = frame[columns].to_numpy(dtype=object).tolist()
    rows = [
        [title],
        [f"统计截止：{snapshot:%Y-%m-%d}"],
        list(columns),
        *([_cell(v) for v in row] for row in body),
        [footnote],
    ]
    write_streamed_xlsx(Path(path), sheet_name, rows, merged=[f"A1:{column_letter(len(columns))}1"])


def _cell(value):
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)) or value == "":
        return None
    if isinstance(value, (np.integer, int)) and not isinstance(value, bool):
        return int(value)
    return str(value)


# --------------------------------------------------------------------------------------------------------------
# Daily registration exports
# --------------------------------------------------------------------------------------------------------------


def write_daily_export(landing_dir: Path, users: pd.DataFrame, day: int, on: date) -> Path:
    """Every 7th day an xlsx from another menu of the platform; otherwise a CSV in one of three encodings."""
    table = _snapshot(users, day)
    # The snapshot holds the whole day, so it is exported the next morning.
    exported = f"导出时间：{on + timedelta(days=1):%Y-%m-%d} 08:00"
    if day % 7 == 0:
        path = landing_dir / f"注册用户明细_{on:%Y-%m-%d}.xlsx"
        _write_export_xlsx(path, table, exported)
        return path
    if day % 2 == 0:
        table = table.rename(columns={"乡镇（街道）": "乡镇(街道)", "村（社区）": "村(社区)"})
    path = landing_dir / f"渝快社区注册用户_{on:%Y%m%d}.csv"
    _write_export_csv(path, table, exported, _csv_encoding(day))
    return path


def _csv_encoding(day: int) -> str:
    if day in _GBK_DAYS:
        return "gbk"
    if day in _UTF8_WITHOUT_BOM_DAYS:
        return "utf-8"
    return "utf-8-sig"


def _snapshot(users: pd.DataFrame, day: int) -> pd.DataFrame:
    """Everyone registered by the end of the day, with the status they had then."""
    known = users.iloc[: int(np.searchsorted(users["registered_s"].to_numpy(), (day + 1) * 86_400))]
    status = np.select(
        [known["approved_day"].to_numpy() <= day, known["rejected_day"].to_numpy() <= day],
        [APPROVED, REJECTED],
        PENDING,
    )
    columns = [
        np.arange(1, len(known) + 1),
        known["user_id"],
        known["nickname"],
        known["phone"],
        known["township_text"],
        known["village_text"],
        known["registered_text"],
        status,
        known["referrer"] if "referrer" in known else np.full(len(known), ""),  # demo/cadre_users.py
    ]
    return pd.DataFrame({name: np.asarray(values) for name, values in zip(_EXPORT_COLUMNS, columns)})


def _export_footer(table: pd.DataFrame) -> list[list]:
    return [["合计", f"共{len(table)}人"], ["制表人：系统导出"]]


def _write_export_csv(path: Path, table: pd.DataFrame, exported: str, encoding: str) -> None:
    width = len(table.columns)

    def padded(*cells):
        return list(cells) + [""] * (width - len(cells))

    # CRLF as the platform (a Windows export) writes it, and so the bytes do not depend on the OS we run on.
    with open(path, "w", encoding=encoding, newline="") as fh:
        writer = csv.writer(fh, lineterminator="\r\n")
        writer.writerows([padded(_EXPORT_TITLE), padded(exported)])
        table.to_csv(fh, index=False, lineterminator="\r\n")
        writer.writerows(padded(*row) for row in _export_footer(table))


def _write_export_xlsx(path: Path, table: pd.DataFrame, exported: str) -> None:
    header = [[_EXPORT_TITLE], [exported], list(table.columns)]
    rows = [*header, *table.to_numpy(dtype=object).tolist(), *_export_footer(table)]
    write_streamed_xlsx(path, "注册用户明细", rows, merged=[f"A1:{column_letter(len(table.columns))}1"])


# --------------------------------------------------------------------------------------------------------------
# Registry and summary workbooks
# --------------------------------------------------------------------------------------------------------------


def write_registry_xlsx(path: Path, registry: pd.DataFrame, baseline: date, rng: np.random.Generator) -> Path:
    """The village registry with its long official names, as the platform's 社区基本信息 menu exports it, with
    办公地址, 联系电话 and 负责人 and their few faults (registry_contacts.py, drawn from a stream of their own)."""
    contacts, _ = registry_contacts.contacts(registry, registry_contacts.stream_of(rng))
    wb = Workbook()
    ws = wb.active
    ws.title = "社区基本信息"
    ws.append([f"{settings.campaign().county.short_name}村（社区）基本信息表"])
    ws.merge_cells(f"A1:{column_letter(len(_REGISTRY_COLUMNS))}1")
    ws.append([f"统计截止：{baseline:%Y-%m-%d}"])
    ws.append(_REGISTRY_COLUMNS)
    # Some rows were typed in by hand with thousands separators, so the cell is text, not a number.
    as_text = (rng.random(len(registry)) < 0.15) & (registry["resident_population"].to_numpy() >= 1000)
    rows = zip(registry.itertuples(index=False), as_text, contacts.itertuples(index=False))
    for i, (village, text_population, contact) in enumerate(rows, start=1):
        population = f"{village.resident_population:,}" if text_population else int(village.resident_population)
        ws.append(
            [
                i,
                village.village_code,
                village.township,
                village.village,
                village.committee_type,
                population,
                int(contact.户数),
                int(village.group_count),
                contact.办公地址,
                contact.联系电话,
                contact.负责人,
            ]
        )
    ws.append(
        [
            "合计",
            None,
            None,
            None,
            None,
            int(registry["resident_population"].sum()),
            int(registry["households"].sum()),
            int(registry["group_count"].sum()),
        ]
    )
    ws.append(["注：数据来源于重庆市智慧社区智慧养老云平台"])
    save_stable_workbook(wb, path)
    return path


def write_summary_xlsx(path: Path, attachment: pd.DataFrame, baseline: date) -> Path:
    """The attachment as a township summary export: a two-row header and text numbers with thousands separators."""
    wb = Workbook()
    ws = wb.active
    ws.title = "注册汇总"
    ws.append([_SUMMARY_TITLE])
    ws.merge_cells("A1:G1")
    ws.append([f"统计截止：{baseline.year}年{baseline.month}月{baseline.day}日"])
    ws.append(["序号", "乡镇（街道）", "常住人口数（人）", "任务数（人）", "注册情况", None, "备注"])
    ws.append([None, None, None, None, "完成数", "尚差任务数", None])
    ws.merge_cells("E3:F3")
    for column in "ABCDG":
        ws.merge_cells(f"{column}3:{column}4")
    for row in attachment.itertuples(index=False):
        ws.append(
            [
                int(row.seq),
                row.township,
                f"{row.resident_population:,}",
                f"{row.target:,}",
                int(row.completed_20230217),
                int(row.gap_20230217),
                None,
            ]
        )
    ws.append(
        [
            "合计",
            None,
            f"{attachment['resident_population'].sum():,}",
            f"{attachment['target'].sum():,}",
            int(attachment["completed_20230217"].sum()),
            int(attachment["gap_20230217"].sum()),
            None,
        ]
    )
    ws.merge_cells(f"A{ws.max_row}:B{ws.max_row}")
    save_stable_workbook(wb, path)
    return path
