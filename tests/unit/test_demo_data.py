"""The demo's landing files, read back with plain pandas / openpyxl / python-calamine (not the project's readers)."""

import ast
import io
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from python_calamine import CalamineWorkbook

import yukuai_pipeline.demo
from yukuai_pipeline import settings
from yukuai_pipeline.demo import demo_township_villages, generate_demo_data

DAYS = 8
BASELINE = date(2023, 2, 17)
EXPORT_COLUMNS = ["序号", "用户ID", "昵称", "手机号", "乡镇（街道）", "村（社区）", "注册时间", "审核状态"]


@pytest.fixture(scope="module")
def landing(tmp_path_factory):
    directory = tmp_path_factory.mktemp("landing")
    paths = generate_demo_data(directory, days=DAYS)
    assert paths == sorted(paths)
    assert {p.name for p in paths} == {p.name for p in directory.iterdir()}
    return directory


@pytest.fixture(scope="module")
def attachment():
    return pd.read_csv(settings.assets_dir() / "attachment_2023.csv")


@pytest.fixture(scope="module")
def exports(landing):
    """Day index -> the data rows of that day's registration export."""
    return {day: read_export(export_path(landing, day)) for day in range(DAYS)}


# ---------------------------------------------------------------------------------------------------------------
# Reading helpers
# ---------------------------------------------------------------------------------------------------------------


def export_path(landing, day):
    on = BASELINE + timedelta(days=day)
    if day % 7 == 0:
        return landing / f"注册用户明细_{on:%Y-%m-%d}.xlsx"
    return landing / f"渝快社区注册用户_{on:%Y%m%d}.csv"


def sheet_rows(path):
    return CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()


def decode(raw: bytes) -> str:
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("gbk")


def read_export(path):
    """Title, export time, header, data, 合计, 制表人: return the data with full-width header names."""
    if path.suffix == ".xlsx":
        # calamine reads numbers as floats (序号 1 -> 1.0) and empty cells as ""
        rows = [[str(int(v)) if isinstance(v, float) else str(v) for v in row] for row in sheet_rows(path)]
    else:
        frame = pd.read_csv(io.StringIO(decode(path.read_bytes())), header=None, dtype=str, keep_default_na=False)
        rows = frame.values.tolist()
    assert rows[0][0] == "渝快社区注册用户明细"
    assert rows[1][0].startswith("导出时间：")
    header = [h.replace("(", "（").replace(")", "）") for h in rows[2][:8]]
    assert header == EXPORT_COLUMNS
    total, footnote = rows[-2], rows[-1]
    data = pd.DataFrame([r[:8] for r in rows[3:-2]], columns=header)
    assert total[0] == "合计" and total[1] == f"共{len(data)}人"
    assert footnote[0] == "制表人：系统导出"
    return data


def canonical_township(text: pd.Series) -> pd.Series:
    aliases = pd.read_csv(settings.assets_dir() / "township_aliases.csv")
    text = text.str.replace(r"\s", "", regex=True).str.removeprefix("酉阳县")
    return text.replace(dict(zip(aliases["alias"], aliases["township"])))


def short_village(text: pd.Series) -> pd.Series:
    return text.str.replace(r"\s", "", regex=True).str.replace(r"(村民|居民)委员会$", "", regex=True)


def approved_by_township(data: pd.DataFrame) -> pd.Series:
    approved = data[data["审核状态"] == "已通过"]
    return canonical_township(approved["乡镇（街道）"]).value_counts()


def known_village(data: pd.DataFrame) -> pd.Series:
    registry = demo_township_villages()
    known = set(zip(registry["township"], short_village(registry["village"])))
    pairs = zip(canonical_township(data["乡镇（街道）"]), short_village(data["村（社区）"]))
    return pd.Series([pair in known for pair in pairs], index=data.index)


# ---------------------------------------------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------------------------------------------


def test_file_names(landing):
    expected = {
        "社区基本信息_2023-02-17.xlsx",
        "乡镇注册汇总_2023-02-17.xlsx",
        "基层队伍信息_2023-02-17.xlsx",
        "平台应用情况_2023-02-17.xlsx",
        "社区社会组织信息_2023-02-17.xlsx",
        "注册用户明细_2023-02-17.xlsx",
        "注册用户明细_2023-02-24.xlsx",
    }
    expected |= {f"渝快社区注册用户_202302{17 + day}.csv" for day in range(1, 7)}
    assert {p.name for p in landing.iterdir()} == expected


def test_csv_encodings(landing):
    for day in range(1, 7):
        raw = export_path(landing, day).read_bytes()
        if day == 3:
            raw.decode("gbk")
            with pytest.raises(UnicodeDecodeError):
                raw.decode("utf-8")
        elif day == 5:
            assert not raw.startswith(b"\xef\xbb\xbf")
            raw.decode("utf-8")
        else:
            assert raw.startswith(b"\xef\xbb\xbf")
        header = decode(raw).splitlines()[2]
        brackets = "乡镇(街道),村(社区)" if day % 2 == 0 else "乡镇（街道）,村（社区）"
        assert brackets in header


def test_same_seed_gives_identical_files(landing, tmp_path):
    generate_demo_data(tmp_path, days=DAYS)
    for path in landing.iterdir():
        assert (tmp_path / path.name).read_bytes() == path.read_bytes(), path.name


def test_another_seed_gives_other_data(landing, tmp_path):
    generate_demo_data(tmp_path, days=2, seed=7)
    name = "渝快社区注册用户_20230218.csv"
    assert (tmp_path / name).read_bytes() != (landing / name).read_bytes()


# ---------------------------------------------------------------------------------------------------------------
# Registry and summary
# ---------------------------------------------------------------------------------------------------------------


def test_registry_populations_sum_to_attachment(landing, attachment):
    rows = sheet_rows(landing / "社区基本信息_2023-02-17.xlsx")
    assert rows[0][0] == "酉阳县村（社区）基本信息表"
    assert rows[1][0] == "统计截止：2023-02-17"
    assert rows[2] == [
        "序号",
        "社区编码",
        "乡镇（街道）",
        "村（社区）名称",
        "类型",
        "常住人口（人）",
        "户数",
        "村（居）民小组数",
        "办公地址",
        "联系电话",
        "负责人",
    ]
    assert rows[-1][0] == "注：数据来源于重庆市智慧社区智慧养老云平台"
    total = rows[-2]
    villages = pd.DataFrame(rows[3:-2], columns=rows[2])
    as_text = villages["常住人口（人）"].map(lambda v: isinstance(v, str))
    assert as_text.any() and villages.loc[as_text, "常住人口（人）"].str.contains(",").all()
    villages["population"] = villages["常住人口（人）"].map(
        lambda v: int(str(v).replace(",", "")) if isinstance(v, str) else int(v)
    )
    by_township = villages.groupby("乡镇（街道）", sort=False)["population"].sum()
    assert by_township.to_dict() == dict(zip(attachment["township"], attachment["resident_population"]))
    assert total[0] == "合计" and int(total[5]) == 853_945

    registry = demo_township_villages()
    assert registry["village"].tolist() == villages["村（社区）名称"].tolist()
    assert registry["resident_population"].tolist() == villages["population"].tolist()
    assert int(total[6]) == registry["households"].sum() and int(total[7]) == registry["group_count"].sum()


def test_registry_shape():
    registry = demo_township_villages()
    assert list(registry.columns) == [
        "township",
        "village",
        "village_code",
        "committee_type",
        "resident_population",
        "households",
        "group_count",
    ]
    assert 250 <= len(registry) <= 300
    assert registry.groupby("township").size().between(4, 12).all()
    assert registry["village"].is_unique and registry["village_code"].is_unique
    assert registry["village_code"].str.fullmatch(r"500242(00[12]|1\d\d|2\d\d)(0\d\d|[23]\d\d)").all()
    is_community = registry["village"].str.endswith("社区居民委员会")
    assert (registry.loc[is_community, "committee_type"] == "居委会").all()
    assert (registry.loc[~is_community, "village"].str.endswith("村村民委员会")).all()
    assert (registry.loc[~is_community, "committee_type"] == "村委会").all()
    assert registry["village_code"].str[6:9].tolist()[0] == "001"
    assert registry.loc[registry["township"] == "龙潭镇", "village_code"].str[6:9].eq("101").all()
    # the township digits are the statistics bureau's (assets/campaigns/500242/township_codes.csv, NBS 2023)
    listed = settings.assets_root() / "campaigns" / "500242" / "township_codes.csv"
    reference = pd.read_csv(listed, dtype="str").set_index("name")["code"]
    assert (registry["village_code"].str[:9] == registry["township"].map(reference)).all()
    assert registry.loc[registry["township"] == "可大乡", "village_code"].str[6:9].eq("204").all()
    assert (registry["households"] > 0).all() and (registry["group_count"] >= 1).all()


def test_summary_workbook_is_the_attachment(landing, attachment):
    ws = openpyxl.load_workbook(landing / "乡镇注册汇总_2023-02-17.xlsx").active
    assert ws["A1"].value == "2023年全县“渝快社区”小程序注册使用目标任务安排表"
    assert ws["A2"].value == "统计截止：2023年2月17日"
    merged = {str(r) for r in ws.merged_cells.ranges}
    assert {"A1:G1", "E3:F3", "A3:A4", "B3:B4", "C3:C4", "D3:D4", "G3:G4"} <= merged
    assert [c.value for c in ws[3]] == [
        "序号",
        "乡镇（街道）",
        "常住人口数（人）",
        "任务数（人）",
        "注册情况",
        None,
        "备注",
    ]
    assert [c.value for c in ws[4]][4:6] == ["完成数", "尚差任务数"]
    body = [[c.value for c in row] for row in ws.iter_rows(min_row=5, max_row=43)]
    assert [r[1] for r in body] == attachment["township"].tolist()
    assert [r[2] for r in body] == [f"{v:,}" for v in attachment["resident_population"]]
    assert [r[4] for r in body] == attachment["completed_20230217"].tolist()
    assert [c.value for c in ws[44]][:6] == ["合计", None, "853,945", "102,476", 28_632, 73_844]


# ---------------------------------------------------------------------------------------------------------------
# Registration exports
# ---------------------------------------------------------------------------------------------------------------


def test_day0_approved_equals_attachment_completed(exports, attachment):
    day0 = exports[0]
    registered_by_baseline = day0[day0["注册时间"] <= "2023-02-17 23:59:59"]
    assert len(registered_by_baseline) == len(day0)
    counts = approved_by_township(registered_by_baseline)
    assert counts.to_dict() == dict(zip(attachment["township"], attachment["completed_20230217"]))
    assert counts.sum() == 28_632
    assert set(day0["审核状态"]) == {"已通过", "待审核", "已驳回"}


def test_day0_has_only_known_townships_and_villages(exports, attachment):
    day0 = exports[0]
    assert canonical_township(day0["乡镇（街道）"]).isin(attachment["township"]).all()
    assert known_village(day0).all()


def test_approved_counts_never_fall(exports, attachment):
    counts = pd.DataFrame({day: approved_by_township(data) for day, data in exports.items()})
    counts = counts.reindex(attachment["township"]).fillna(0)
    assert (counts.diff(axis=1).iloc[:, 1:] >= 0).all().all()
    assert (counts[DAYS - 1] > counts[0]).sum() >= 35  # nearly every township grows in a week


def test_snapshots_are_full_and_users_keep_their_data(exports):
    stable = ["用户ID", "昵称", "手机号", "乡镇（街道）", "村（社区）", "注册时间"]
    for day in range(1, DAYS):
        before = exports[day - 1].set_index("用户ID")
        after = exports[day].set_index("用户ID")
        assert before.index.isin(after.index).all()
        assert before.index.is_unique
        common = after.loc[before.index]
        assert (common[stable[1:]] == before[stable[1:]]).all().all()
        new = after.drop(before.index)
        on = BASELINE + timedelta(days=day)
        assert new["注册时间"].str.startswith(f"{on:%Y-%m-%d}").all()
        assert len(new) > 100


def test_users_look_real(exports):
    data = exports[DAYS - 1]
    assert data["序号"].tolist() == [str(i) for i in range(1, len(data) + 1)]
    assert data["用户ID"].str.fullmatch(r"YK\d{8}").all()
    assert data["手机号"].str.fullmatch(r"1[35789]\d{9}").all()
    assert pd.to_datetime(data["注册时间"], format="%Y-%m-%d %H:%M:%S").min() >= pd.Timestamp("2022-06-01")
    assert set(data["审核状态"]) == {"已通过", "待审核", "已驳回"}


def test_formula_like_nicknames_stay_text(exports):
    for data in exports.values():
        assert {"=SUM(A1)", "+86用户", "-小红", "@酉阳小助手"} <= set(data["昵称"])


def test_deliberate_mess(exports, attachment):
    day0 = exports[0]
    assert day0["村（社区）"].str.contains(r"[ \u3000]").any()
    assert day0["村（社区）"].str.endswith("委员会").any()
    assert day0["乡镇（街道）"].str.startswith("酉阳县").any()
    assert day0["乡镇（街道）"].isin(["宜居镇", "庙溪镇"]).any()

    unknown_before = 0
    for day in range(1, DAYS):
        data = exports[day]
        in_township = canonical_township(data["乡镇（街道）"]).isin(attachment["township"])
        unknown = int((in_township & ~known_village(data)).sum())
        assert 5 <= unknown - unknown_before <= 20, day
        unknown_before = unknown
        unknown_township = data[~in_township]
        assert (unknown_township["乡镇（街道）"] == "未知乡").all() and len(unknown_township) <= 5
        assert unknown_township["审核状态"].isin(["待审核", "已通过"]).all()


# ---------------------------------------------------------------------------------------------------------------
# The package: imports at the top only, no cycle, no private name of another module
# ---------------------------------------------------------------------------------------------------------------

DEMO_DIR = Path(yukuai_pipeline.demo.__file__).parent


def demo_imports(path: Path) -> tuple[ast.Module, list[ast.Import | ast.ImportFrom]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return tree, [node for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))]


def test_demo_modules_import_at_the_top_and_only_public_names():
    for path in sorted(DEMO_DIR.glob("*.py")):
        tree, imports = demo_imports(path)
        assert all(node in tree.body for node in imports), f"{path.name}: an import inside a function or class"
        modules = {alias.asname or alias.name for node in imports for alias in node.names}
        for node in imports:
            if isinstance(node, ast.ImportFrom):
                assert not any(alias.name.startswith("_") for alias in node.names), f"{path.name}: {ast.unparse(node)}"
            if isinstance(node, ast.ImportFrom) and node.module == "yukuai_pipeline.demo" and path.stem != "__init__":
                # a module of the package, never a name of __init__ (which imports them all)
                assert all((DEMO_DIR / f"{alias.name}.py").exists() for alias in node.names), ast.unparse(node)
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in modules:
                assert not node.attr.startswith("_"), f"{path.name}: {node.value.id}.{node.attr}"


def test_demo_modules_form_no_cycle():
    depends = {}
    for path in DEMO_DIR.glob("*.py"):
        if path.stem == "__init__":
            continue
        _, imports = demo_imports(path)
        names = {node.module for node in imports if isinstance(node, ast.ImportFrom) and node.module}
        names |= {
            f"{node.module}.{alias.name}"
            for node in imports
            if isinstance(node, ast.ImportFrom)
            for alias in node.names
        }
        names |= {alias.name for node in imports if isinstance(node, ast.Import) for alias in node.names}
        depends[path.stem] = {n.split(".")[2] for n in names if n.startswith("yukuai_pipeline.demo.")}
    done: list[str] = []
    while len(done) < len(depends):
        ready = sorted(m for m, needs in depends.items() if m not in done and needs <= set(done))
        assert ready, f"an import cycle among {sorted(set(depends) - set(done))}"
        done += ready


def test_xlsx_files_needs_neither_dagster_nor_the_demo():
    code = (
        "import sys, yukuai_pipeline.report.xlsx_files; "
        "bad = sorted(m for m in sys.modules if m.startswith(('dagster', 'yukuai_pipeline.demo'))); "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_each_demo_module_imports_alone_in_a_fresh_interpreter():
    modules = sorted(f"yukuai_pipeline.demo.{p.stem}" for p in DEMO_DIR.glob("*.py") if p.stem != "__init__")
    runs = {
        m: subprocess.Popen([sys.executable, "-c", f"import {m}"], stderr=subprocess.PIPE, text=True) for m in modules
    }
    failed = {m: run.communicate()[1].strip().splitlines()[-1:] for m, run in runs.items() if run.wait() != 0}
    assert not failed, failed
