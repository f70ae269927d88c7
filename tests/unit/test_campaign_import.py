"""`yukuai campaign import`: the notice 酉阳民政发〔2023〕9号 read into Youyang's campaign folder (golden: 39 townships,
853,945 residents, 102,476 users by 2023-10-31, the rule 2 × round_half_up(population × 0.06)), the same table as a
.docx and as an .xlsx with other header words, and attachments that disagree with themselves refused by row."""

import dataclasses
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import openpyxl
import pytest

from yukuai_pipeline import settings
from yukuai_pipeline.campaign import parse
from yukuai_pipeline.cli import main
from yukuai_pipeline.notice.attachment import AttachmentError, find_target_table
from yukuai_pipeline.notice.documents import read_document, read_text
from yukuai_pipeline.notice.facts import read_facts, short_name

ROOT = Path(__file__).resolve().parents[2]
NOTICE = ROOT.parent / "shared" / "seed" / "notice-youyang-minzheng-2023-9.txt"
YOUYANG = ROOT / "assets" / "campaigns" / "500242"


@pytest.fixture(scope="module")
def notice() -> Path:
    if not NOTICE.is_file():
        pytest.skip(f"the notice is not beside the checkout: {NOTICE}")
    return NOTICE


def test_the_notice_gives_its_facts_and_its_table(notice):
    document = read_document(notice)
    facts = read_facts(document.lines)
    assert (facts.county_name, facts.document_number) == ("酉阳土家族苗族自治县", "酉阳民政发〔2023〕9号")
    assert (str(facts.issued_on), str(facts.deadline), facts.stated_total, facts.rate_per_10k) == (
        "2023-02-17",
        "2023-10-31",
        102476,
        1200,
    )
    assert facts.attachment_title == "2023年全县“渝快社区”小程序注册使用目标任务安排表"
    table = find_target_table(document)
    rows = table.rows
    assert len(rows) == 39 and rows["township"].is_unique
    assert (rows["resident_population"].sum(), rows["target"].sum()) == (853945, 102476)
    assert (rows["completed"].sum(), rows["gap"].sum()) == (28632, 73844)
    assert rows.iloc[-1][["township", "resident_population", "target", "completed"]].tolist() == [
        "浪坪乡",
        10530,
        1264,
        91,
    ]
    assert table.total == {"resident_population": 853945, "target": 102476, "completed": 28632, "gap": 73844}


def test_youyangs_shipped_folder_is_the_import_of_its_notice(notice, tmp_path, capsys):
    out = tmp_path / "500242"
    code = main(
        [
            "campaign",
            "import",
            str(notice),
            "--county-code",
            "500242",
            "--campaign-id",
            "youyang-2023",
            "--out",
            str(out),
        ]
    )
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert "✗" not in printed and "任务数 = 2 × 四舍五入(常住人口 × 0.06)，附件 39 行全部吻合" in printed
    assert (out / "attachment_2023.csv").read_bytes() == (YOUYANG / "attachment_2023.csv").read_bytes()
    assert (out / "campaign.yaml").read_text() == (YOUYANG / "campaign.yaml").read_text()
    imported = parse(settings.read_yaml(out / "campaign.yaml"), out)
    assert dataclasses.replace(imported, folder=YOUYANG) == settings.campaign()
    assert {p.name: oct(p.stat().st_mode & 0o777) for p in out.iterdir()}["campaign.yaml"] == "0o640"
    # a second import does not overwrite the folder unless asked
    assert main(["campaign", "import", str(notice), "--county-code", "500242", "--out", str(out)]) == 1
    assert "--force" in capsys.readouterr().out


def _docx(path: Path, paragraphs: list[str], table: list[list[str]]) -> Path:
    w = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'

    def para(text: str) -> str:
        return f"<w:p><w:r><w:t>{escape(text)}</w:t></w:r></w:p>"

    rows = "".join("<w:tr>" + "".join(f"<w:tc>{para(c)}</w:tc>" for c in row) + "</w:tr>" for row in table)
    body = "".join(map(para, paragraphs)) + f"<w:tbl>{rows}</w:tbl>"
    with zipfile.ZipFile(path, "w") as package:
        package.writestr("word/document.xml", f"<w:document {w}><w:body>{body}</w:body></w:document>")
    return path


def test_a_docx_notice_reads_the_same(notice, tmp_path):
    document = read_document(notice)
    grid = document.tables[0].astype(str).values.tolist()
    docx = _docx(tmp_path / "通知.docx", document.lines, grid)
    from_word = read_document(docx)
    assert read_facts(from_word.lines) == read_facts(document.lines)
    assert find_target_table(from_word).rows.equals(find_target_table(document).rows)


def test_an_xlsx_attachment_with_other_header_words_and_a_total_in_the_name_column(tmp_path, capsys):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["附件1"])
    sheet.append(["2024年“渝快社区”注册任务分解表"])
    sheet.append(["编号", "乡镇", "常住人口", "目标任务数", "已完成数", "尚差", "说明"])
    sheet.append([1, "城关镇", 10000, 2400, 100, 2300, None])
    sheet.append([2, "龙潭 镇", "20,001", 4800, 0, 4800, "新设"])
    sheet.append([None, "合计", 30001, 7200, 100, 7100, None])
    path = tmp_path / "附件.xlsx"
    book.save(path)
    text = tmp_path / "通知.txt"
    text.write_text(
        "某某县民政局\n某民政发〔2024〕3号\n每万人使用人数不低于2400人。\n"
        "要求12月底前，全县完成注册使用7200人。\n2024年3月1日\n",
        encoding="utf-8",
    )
    out = tmp_path / "500999"
    args = ["campaign", "import", str(text), "--attachment", str(path), "--county-code", "500999", "--out", str(out)]
    assert main(args) == 0, capsys.readouterr().out
    campaign = parse(settings.read_yaml(out / "campaign.yaml"), out)
    assert (campaign.campaign_id, campaign.county.name, campaign.county.short_name) == (
        "500999-2024",
        "某某县",
        "某某县",
    )
    assert (str(campaign.baseline_date), str(campaign.deadline), campaign.rate_per_10k) == (
        "2024-03-01",
        "2024-12-31",
        2400,
    )
    assert (campaign.target_rule.multiplier, str(campaign.target_rule.population_factor)) == (1, "0.24")
    assert (out / "attachment_2024.csv").read_text().splitlines() == [
        "seq,township,resident_population,target,completed_20240301,gap_20240301",
        "1,城关镇,10000,2400,100,2300",
        "2,龙潭镇,20001,4800,0,4800",
    ]


def test_an_attachment_that_disagrees_with_itself_is_not_written(tmp_path, capsys):
    rows = "\n".join(
        [
            "附件：2024年任务表",
            "序号\t乡镇（街道）\t常住人口数（人）\t任务数（人）\t完成数\t尚差任务数",
            "1\t城关镇\t10000\t1200\t100\t1100",
            "2\t新城街道\t20000\t2500\t0\t2400",
            "合计\t\t30000\t3600\t100\t3500",
        ]
    )
    notice = tmp_path / "通知.txt"
    notice.write_text(
        "某某县民政局\n2024年3月1日\n每万人使用人数不低于1200人。要求10月底前，全县完成注册使用3600人。\n" + rows,
        encoding="utf-8",
    )
    out = tmp_path / "county"
    assert main(["campaign", "import", str(notice), "--county-code", "500998", "--out", str(out)]) == 1
    printed = capsys.readouterr().out
    assert "✗ 附件合计行的任务数 3,600，各乡镇之和 3,700" in printed
    assert "✗ 通知正文的全县任务 3,600 人，附件任务数之和 3,700 人" in printed
    assert "不符：新城街道（第 3 行）" in printed
    assert "新城街道：附件 2500，按规则 2400" in printed
    assert not out.exists()
    assert (
        main(["campaign", "import", str(notice), "--county-code", "500998", "--out", str(out), "--accept-mismatches"])
        == 0
    )
    assert (out / "campaign.yaml").read_text().count("#   ✗") == 4


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ("序号\t乡镇（街道）\t常住人口数\t任务数\t联系人\n1\t城关镇\t100\t12\t张三", "第 5 列“联系人”"),
        ("序号\t乡镇（街道）\t常住人口数\t任务数\n1\t城关镇\t一百\t12", "第 2 行“常住人口数”不是整数：“一百”"),
        ("序号\t乡镇（街道）\t常住人口数\t任务数\t备注\n1\t城关镇\t100\t\t新设", "第 2 行（城关镇）“任务数”为空"),
        ("序号\t乡镇（街道）\t常住人口数\t任务数\n1\t城关镇\t100\t12\n2\t城关镇\t100\t12", "城关镇（第 2, 3 行）"),
        ("序号\t姓名\t电话\n1\t张三\t1", "找不到含“乡镇（街道）、常住人口数、任务数”的表头"),
    ],
)
def test_a_table_half_understood_is_refused_by_row_and_column(table, message):
    with pytest.raises(AttachmentError, match=message.replace("(", r"\(").replace(")", r"\)")):
        find_target_table(read_text("附件.txt", table))


def test_short_names_and_county_selection(monkeypatch):
    assert [short_name(n) for n in ("酉阳土家族苗族自治县", "彭水苗族土家族自治县", "巫山县", "渝中区")] == [
        "酉阳县",
        "彭水县",
        "巫山县",
        "渝中区",
    ]
    monkeypatch.delenv("YUKUAI_ASSETS_DIR", raising=False)
    monkeypatch.setenv("YUKUAI_COUNTY", "500242")
    assert settings.assets_dir() == YOUYANG
    monkeypatch.setenv("YUKUAI_COUNTY", "500999")
    with pytest.raises(FileNotFoundError, match="yukuai campaign import"):
        settings.assets_dir()
