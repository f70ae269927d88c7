"""What was sent, where and with what result: the newest rows of `alerts` as the officer's table, recipients
masked. Shown by the alert_history asset in the UI."""

import re
from zoneinfo import ZoneInfo

import pandas as pd

from yukuai_pipeline.alerts.delivery import DIGESTED, MAX_ATTEMPTS, NO_CHANNEL
from yukuai_pipeline.quality.check_labels import check_label

SHANGHAI = ZoneInfo("Asia/Shanghai")
KINDS = {
    "digest": "检查日报",
    "failure": "检查失败",
    "recovery": "已恢复",
    "run_failure": "运行失败",
    "freshness": "数据未上传",
}
CHANNELS = {"webhook": "群机器人", "email": "邮件", NO_CHANNEL: "未配置渠道"}


def status(row: pd.Series) -> str:
    if bool(row["delivered"]):
        return "已送达"
    if row["error"] == DIGESTED:
        return "并入日报"
    if row["channel"] == NO_CHANNEL:
        return "仅记录"
    if int(row["attempts"]) >= MAX_ATTEMPTS:
        return "放弃（重试已用完）"
    return "待重试" if int(row["attempts"]) else "待发送"


def history(alerts: pd.DataFrame, limit: int = 50) -> pd.DataFrame:
    """The newest alerts first, one row per alert and channel, in Chinese."""
    if alerts.empty:
        return pd.DataFrame(columns=["时间（北京）", "类型", "渠道", "数据日期", "检查", "摘要", "状态", "尝试次数"])
    rows = alerts.sort_values(["created_at", "alert_id"], ascending=False).head(limit)
    created = pd.to_datetime(rows["created_at"]).dt.tz_localize("UTC").dt.tz_convert(SHANGHAI)
    return pd.DataFrame(
        {
            "时间（北京）": created.dt.strftime("%Y-%m-%d %H:%M"),
            "类型": rows["kind"].map(lambda k: KINDS.get(k, k)),
            "渠道": rows["channel"].map(lambda c: CHANNELS.get(c, c)),
            "数据日期": rows["partition_date"].astype("string").fillna("—"),
            "检查": rows["check"].map(lambda c: check_label(c) if isinstance(c, str) else "—"),
            "摘要": rows["summary"].fillna("").str.slice(0, 80),
            "状态": rows.apply(status, axis=1),
            "尝试次数": rows["attempts"].astype("int64"),
        }
    ).reset_index(drop=True)


def undeliverable(alerts: pd.DataFrame) -> pd.DataFrame:
    """Rows a channel refused every time (their retries are used up)."""
    if alerts.empty:
        return alerts
    given_up = ~alerts["delivered"].astype(bool) & (alerts["attempts"] >= MAX_ATTEMPTS)
    return alerts[given_up & (alerts["channel"] != NO_CHANNEL)]


def masked_recipient(address: str) -> str:
    """o***@example.org for a mail address; a webhook URL without its key or token."""
    if "@" in address and "://" not in address:
        name, _, domain = address.partition("@")
        return f"{name[:1]}***@{domain}"
    return re.sub(r"((?:key|access_token|token|secret)=)[^&]+", r"\1***", address)
