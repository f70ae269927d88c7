"""`yukuai campaign import`: a county's notice (or its attachment alone) read into a campaign folder, with every
check printed. Nothing is written when the attachment disagrees with itself or with the notice's text, unless the
officer says the table stands as it is (--accept-mismatches)."""

from pathlib import Path

from yukuai_pipeline import settings
from yukuai_pipeline.intake.readers import InputFileError
from yukuai_pipeline.notice.attachment import AttachmentError, find_target_table
from yukuai_pipeline.notice.campaign_folder import CountyChoice, check, rule_misses, write_folder
from yukuai_pipeline.notice.documents import read_document
from yukuai_pipeline.notice.facts import read_facts


def campaigns_dir() -> Path:
    """assets/campaigns: one folder per county, named by its statistical code."""
    return settings.assets_root() / "campaigns"


def cmd_campaign_import(args) -> int:
    try:
        notice = read_document(args.notice)
        document = read_document(args.attachment) if args.attachment else notice
        table = find_target_table(document)
    except (InputFileError, AttachmentError) as err:
        print(f"✗ {err}")
        return 1
    facts = read_facts(notice.lines + ([] if document is notice else document.lines))
    county = CountyChoice(args.county_code, args.campaign_id, args.county_name, args.deadline, args.baseline_date)
    result = check(facts, table, county)
    print(
        f"《{document.name}》第 {table.table_number} 个表格，表头在第 {table.header_row} 行：{' | '.join(table.header)}"
    )
    for label, value in (
        ("发文单位", facts.issuer),
        ("文号", facts.document_number),
        ("发文日期", facts.issued_on),
        ("附件标题", facts.attachment_title),
        ("截止日期", facts.deadline),
        ("每万人", facts.rate_per_10k),
    ):
        print(f"  {label}：{value if value is not None else '（正文未写明）'}")
    for finding in result.findings:
        print(f"  {'✓' if finding.ok else '✗'} {finding.text}")
    if result.rule is None:
        for line in rule_misses(result)[:20]:
            print(f"    {line}")
    if result.problems and not args.accept_mismatches:
        print("✗ 未写入：附件与自身或通知正文不符（见 ✗ 行）。核对原件后，确认以附件为准时加 --accept-mismatches")
        return 1
    folder = Path(args.out) if args.out else campaigns_dir() / args.county_code
    try:
        written = write_folder(folder, result, settings.campaign(), notice.name, force=args.force)
    except (FileExistsError, ValueError) as err:
        print(f"✗ {err}")
        return 1
    print(f"已写入 {folder}：" + "、".join(p.name for p in written))
    print(f"使用它：YUKUAI_ASSETS_DIR={folder}（或 YUKUAI_COUNTY={args.county_code}）")
    return 0
