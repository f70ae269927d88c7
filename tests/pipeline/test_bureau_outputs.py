"""What the bureau sends out, from a real run of the demo's first day: one return workbook per attachment township
(its numbers equal to its rows in the warehouse) and their zip, linked from the report asset."""

import datetime as dt
import zipfile

from openpyxl import load_workbook

DAY = dt.date(2023, 2, 17)


def _overview(path) -> dict[str, object]:
    ws = load_workbook(path, read_only=True)["本乡镇概况"]
    return {row[0]: row[1] for row in ws.iter_rows(min_row=4, max_row=14, max_col=2, values_only=True)}


def test_every_township_gets_its_own_return_with_its_warehouse_numbers(runner, tmp_path):
    result = runner.run(DAY.isoformat())
    assert result.success
    folder = tmp_path / "reports" / f"乡镇回执_{DAY}"
    progress = runner.table("township_progress", snapshot_date=DAY)
    townships = progress[progress["seq"].notna()].sort_values("seq")
    files = sorted(folder.glob("*.xlsx"))
    assert len(files) == len(townships) == 39
    for row in townships.itertuples():
        figures = _overview(folder / f"{row.township}_回执_{DAY}.xlsx")
        assert [figures["任务数（人）"], figures["完成数"], figures["尚差任务数"], figures["全县排名"]] == [
            int(row.target),
            int(row.completed),
            int(row.gap),
            int(row.rank),
        ], row.township
    archive = tmp_path / "reports" / f"酉阳县乡镇回执_{DAY}.zip"
    with zipfile.ZipFile(archive) as zipped:
        assert sorted(zipped.namelist()) == sorted(f.name for f in files)
        assert zipped.read(files[0].name) == files[0].read_bytes()
    (materialization,) = result.asset_materializations_for_node("excel_report")
    assert materialization.metadata["township_returns"].value == 39
    assert archive.stat().st_mode & 0o777 == 0o640 and folder.stat().st_mode & 0o777 == 0o750


def test_the_bulletin_reads_back_with_the_tables_numbers_and_the_week(runner, tmp_path):
    from docx import Document

    week_later = DAY + dt.timedelta(days=7)
    assert runner.run(DAY.isoformat()).success
    assert runner.run(week_later.isoformat()).success
    progress = runner.table("township_progress", snapshot_date=week_later)
    county = progress[progress["township"] == "合计"].iloc[0]
    before = runner.table("township_progress", snapshot_date=DAY)
    before_county = int(before.loc[before["township"] == "合计", "completed"].iloc[0])
    document = Document(tmp_path / "reports" / f"酉阳县渝快社区注册工作通报_{week_later}.docx")
    text = "\n".join(p.text for p in document.paragraphs)
    assert f"已完成 {int(county['completed']):,} 人" in text and f"尚差 {int(county['gap']):,} 人" in text
    assert f"新增注册 {int(county['completed']) - before_county:,} 人" in text
    assert int(county["new_this_week"]) == int(county["completed"]) - before_county
    towns = progress[progress["seq"].notna()].assign(rate=lambda f: f["completion_rate"].astype(float))
    bottom = towns.sort_values(["rate", "seq"], kind="stable").head(5)["township"].tolist()
    listed = text[text.index("完成率排名后 5 位") :].splitlines()[1:6]
    assert [line.split("：")[0] for line in listed] == bottom
    (table,) = document.tables  # 附表: the header, one row per attachment township, the county's 合计
    assert len(table.rows) == 1 + 39 + 1
    plain = (tmp_path / "reports" / f"酉阳县渝快社区注册工作通报_{week_later}.txt").read_text(encoding="utf-8")
    assert f"已完成 {int(county['completed']):,} 人" in plain
