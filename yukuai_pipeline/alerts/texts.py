"""Alert texts: short Chinese markdown for a phone screen, never an unmasked ID or phone number."""

import datetime as dt
from dataclasses import dataclass

from yukuai_pipeline import settings
from yukuai_pipeline.intake.privacy import scrub_text
from yukuai_pipeline.quality.check_labels import check_label

SHOWN_NAMES = 5


def _app() -> str:
    """The sender's name in every alert title: the campaign's county (campaign.yaml), then the product."""
    return f"{settings.campaign().county.short_name}·渝快社区数据管道"


@dataclass(frozen=True)
class Alert:
    kind: str  # failure / recovery / run_failure / freshness
    alert_key: str
    severity: str
    title: str
    summary: str
    message: str
    check: str | None = None
    asset: str | None = None
    partition_date: dt.date | None = None
    run_id: str | None = None


def shorten(names_text: str | None, total: int | None) -> str:
    """ "A、B、C、D、E、F" -> "A、B、C、D、E 等 6 个" (at most SHOWN_NAMES names)."""
    if not names_text:
        return ""
    names = [n for n in names_text.replace(" 等", "、").split("、") if n and not n.strip().endswith("个")]
    count = max(total or 0, len(names))
    shown = "、".join(names[:SHOWN_NAMES])
    return shown + (f" 等 {count} 个" if count > SHOWN_NAMES else "")


def _link(base_url: str, asset: str | None) -> str:
    return f"{base_url.rstrip('/')}/assets/{asset}?view=checks" if asset else f"{base_url.rstrip('/')}/runs"


def check_failed(
    asset: str,
    check: str,
    partition: dt.date | None,
    severity: str,
    description: str,
    townships: str | None,
    villages: str | None,
    village_count: int | None,
    base_url: str,
) -> Alert:
    when = f"（{partition}）" if partition else ""
    label = check_label(check)
    lines = [
        f"### {'❌' if severity == 'ERROR' else '⚠️'} 数据检查未通过{when}",
        f"**检查**：{label}（{check}，{asset}，{severity}）",
        f"**说明**：{description}",
    ]
    if townships:
        lines.append(f"**乡镇（街道）**：{shorten(townships, None)}")
    if villages:
        lines.append(f"**村（社区）**：{shorten(villages, village_count)}")
    lines.append(f"[在界面中查看]({_link(base_url, asset)})")
    return Alert(
        "failure",
        f"{asset}/{check}/{partition or '-'}",
        severity,
        f"{_app()}：{label} 未通过{when}",
        scrub_text(description)[:200],
        scrub_text("\n\n".join(lines)),
        check,
        asset,
        partition,
    )


def check_recovered(asset: str, check: str, partition: dt.date | None, base_url: str) -> Alert:
    when = f"（{partition}）" if partition else ""
    label = check_label(check)
    link = _link(base_url, asset)
    text = f"### ✅ 已恢复{when}\n\n**检查**：{label}（{check}，{asset}）已通过。\n\n[在界面中查看]({link})"
    return Alert(
        "recovery",
        f"{asset}/{check}/{partition or '-'}",
        "WARN",
        f"{_app()}：{label} 已恢复{when}",
        f"{label} 已恢复",
        text,
        check,
        asset,
        partition,
    )


def run_failed(
    run_id: str, job: str, partition: str | None, steps: list[str], messages: list[str], base_url: str
) -> Alert:
    detail = "\n".join(f"- {m[:300]}" for m in messages[:3]) or "- 详见运行日志"
    text = (
        f"### ❌ 运行失败：{job}{f'（{partition}）' if partition else ''}\n\n**运行**：{run_id[:8]}\n\n"
        f"**步骤**：{'、'.join(steps) or '—'}\n\n**原因**：\n{detail}\n\n"
        f"[查看运行]({base_url.rstrip('/')}/runs/{run_id})"
    )
    summary = messages[0][:200] if messages else "运行失败"
    return Alert(
        "run_failure",
        f"run/{run_id}",
        "ERROR",
        f"{_app()}：运行失败 {job} {partition or ''}".strip(),
        scrub_text(summary),
        scrub_text(text),
        run_id=run_id,
        partition_date=dt.date.fromisoformat(partition) if partition else None,
    )


def export_missing(day: dt.date, deadline: str, landing_dir: str) -> Alert:
    text = (
        f"### ⏰ 今日注册数据未上传（{day}）\n\n截至北京时间 {deadline}，落地目录中还没有 {day} 的注册用户导出。"
        f"\n\n请从平台导出后放入：`{landing_dir}`"
    )
    return Alert(
        "freshness",
        f"freshness/{day}",
        "WARN",
        f"{_app()}：今日注册数据未上传（{day}）",
        f"{day} 的注册数据截至 {deadline} 未上传",
        text,
        partition_date=day,
    )


@dataclass(frozen=True)
class DigestLine:
    asset: str
    check: str
    severity: str  # ERROR or WARN
    summary: str  # the check's own words (new failures), or "" (still failing, recovered)
    since: dt.date | None = None  # still failing: the first day of the run of failing days


def digest(
    day: dt.date | None,
    run_id: str,
    new: list[DigestLine],
    still: list[DigestLine],
    recovered: list[DigestLine],
    base_url: str,
) -> Alert:
    """The day's one message: what newly failed, what still fails and since when, what recovered, and a link to the
    run's checks (digest mode, the default)."""
    when = str(day) if day else f"运行 {run_id[:8]}"  # a run without a day (the target table) is named by itself
    lines = [f"### 📋 数据检查日报（{when}）"]
    if new:
        lines.append(f"**新出现的问题（{len(new)}）**：")
        lines += [f"- {'❌' if d.severity == 'ERROR' else '⚠️'} {check_label(d.check)}：{d.summary[:150]}" for d in new]
    if still:
        lines.append(f"**仍未解决（{len(still)}）**：")
        lines += [f"- {check_label(d.check)}（自 {d.since} 起）" for d in still]
    if recovered:
        lines.append(f"**已恢复（{len(recovered)}）**：" + "、".join(check_label(d.check) for d in recovered))
    lines.append(f"[查看当天的运行和检查]({base_url.rstrip('/')}/runs/{run_id})")
    worst = "ERROR" if any(d.severity == "ERROR" for d in new + still) else "WARN"
    title = f"{_app()}：{when} 检查日报 新问题 {len(new)}，仍未解决 {len(still)}，已恢复 {len(recovered)}"
    summary = "；".join(check_label(d.check) for d in new + still)[:200] or "全部恢复"
    return Alert(
        "digest",
        f"digest/{day or '-'}/{run_id}",
        worst,
        title,
        scrub_text(summary),
        scrub_text("\n\n".join(lines)),
        partition_date=day,
        run_id=run_id,
    )
