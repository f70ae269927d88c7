"""The columns of the report's tables, sheet by sheet: (header, key of the frame, cell kind) for each. Sheet 1's
columns are the notice's attachment table (without its empty 备注) with 完成率 and 排名; the 乡镇分析 sheet holds the
rates, pace and activity; the activity kinds are the notice's six other assessed functions.
"""

from yukuai_pipeline.report.cells import DATE, INT, ONE_DECIMAL, PCT, SERIAL, TEXT, YES_NO

ATTACHMENT_COLUMNS = [
    ("序号", "seq", SERIAL),
    ("乡镇（街道）", "township", TEXT),
    ("常住人口数（人）", "resident_population", INT),
    ("任务数（人）", "target", INT),
    ("完成数", "completed", INT),
    ("尚差任务数", "gap", INT),
]
TOWNSHIP_COLUMNS = [*ATTACHMENT_COLUMNS, ("完成率", "completion_rate", PCT), ("排名", "rank", INT)]
# characters per column of sheet 1: wide enough for 11 pt text and 6-digit counts without wrapping, and together
# narrow enough that the table fills an A4 landscape page at the scale its height needs (print_setup.notice_page)
TOWNSHIP_WIDTHS = [7, 18, 19, 16, 14, 15, 12, 9]
PACE_COLUMNS = [
    ("日均新增(近7日)", "new_7d_avg", ONE_DECIMAL),
    ("所需日均", "required_daily", ONE_DECIMAL),
    ("预计完成日期", "projected_date", DATE),
    ("状态", "status", TEXT),
]
ANALYSIS_COLUMNS = [
    ("序号", "seq", SERIAL),
    ("乡镇（街道）", "township", TEXT),
    ("完成率", "completion_rate", PCT),
    ("每万人用户数", "users_per_10k", ONE_DECIMAL),
    *PACE_COLUMNS,
    ("备注", "remark", TEXT),
]
VILLAGE_COLUMNS = [
    ("乡镇（街道）", "township", TEXT),
    ("村（社区）", "village", TEXT),
    ("社区编码", "village_code", TEXT),
    ("常住人口", "resident_population", INT),
    ("任务数", "target", INT),
    ("完成数", "completed", INT),
    ("待审核", "pending", INT),
    ("尚差任务数", "gap", INT),
    ("完成率", "completion_rate", PCT),
    ("每万人用户数", "users_per_10k", ONE_DECIMAL),
    ("乡镇内排名", "rank", INT),
    *PACE_COLUMNS,
]
ROSTER_SUMMARY_COLUMNS = [
    ("乡镇（街道）", "township", TEXT),
    ("村（社区）数", "villages_total", INT),
    ("完整村数", "villages_complete", INT),
    ("完整率", "completeness", PCT),
]
ROSTER_GAP_COLUMNS = [
    ("乡镇（街道）", "township", TEXT),
    ("村（社区）", "village", TEXT),
    ("队伍类别", "role_group_label", TEXT),
    ("应有人数下限", "required_min", INT),
    ("应有人数上限", "required_max", INT),
    ("实有人数", "actual", INT),
    ("有误记录数", "invalid_records", INT),
    ("状态", "status", TEXT),
    ("原因", "reasons", TEXT),
]
ISSUE_COLUMNS = [
    ("环节", "stage", TEXT),
    ("来源文件", "source_file", TEXT),
    ("检查项", "check", TEXT),
    ("严重程度", "severity", TEXT),
    ("乡镇（街道）", "township", TEXT),
    ("村（社区）", "village", TEXT),
    ("行号", "row_number", SERIAL),
    ("字段", "field", TEXT),
    ("原值（已脱敏）", "value_masked", TEXT),
    ("说明", "message", TEXT),
    ("是否隔离", "quarantined", YES_NO),
]
QUOTA_COLUMNS = [
    ("乡镇（街道）", "township", TEXT),
    ("村（社区）", "village", TEXT),
    ("姓名", "cadre_name", TEXT),
    ("职务", "roles", TEXT),
    ("村任务数", "village_target", INT),
    ("分配任务数（按任务数）", "quota", INT),
    ("村尚差任务数", "village_gap", INT),
    ("分配任务数（按尚差）", "gap_quota", INT),
    ("本人已注册", "registered", YES_NO),
    ("本人已通过审核", "approved", YES_NO),
    ("推荐注册人数", "referred_users", INT),
]
ACTIVITY_KINDS = [
    ("居民诉求", "request"),
    ("信息发布", "notice"),
    ("村（居）务公开", "disclosure"),
    ("在线协商", "consultation"),
    ("民主决策", "decision"),
    ("民主评议", "review"),
]
ROLE_GROUP_ORDER = ["committee", "supervisor", "worker", "group_leader", "representative"]
