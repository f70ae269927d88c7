"""The words of the synthetic activity export: id prefixes, the spellings of kinds and statuses the platform writes,
the 三事分流 channels, satisfaction ratings and the topics of requests, notices, consultations and decisions."""

ID_PREFIX = {
    "request": "SQ",
    "notice": "XX",
    "disclosure": "GK",
    "consultation": "XS",
    "decision": "JC",
    "review": "PY",
}
# Spellings of each kind as the platform's menus write them: (label, weight).
KIND_SPELLINGS = {
    "request": [("居民诉求", 0.85), ("诉求办理", 0.1), ("居民诉求办理", 0.05)],
    "notice": [("社区信息发布", 0.8), ("通知公告", 0.12), ("社区动态", 0.08)],
    "consultation": [("社区事务在线协商", 0.8), ("协商议事", 0.2)],
    "decision": [("民主决策", 1.0)],
    "review": [("民主评议", 1.0)],
}
STATUS_SPELLINGS = {
    "done": [("已办结", 0.9), ("已完成", 0.1)],
    "in_progress": [("办理中", 0.85), ("处理中", 0.15)],
    "pending": [("未处理", 0.8), ("待处理", 0.2)],
}
CHANNELS = [
    ("社区", 0.58),
    ("乡镇（街道）", 0.14),
    ("志愿者", 0.11),
    ("社会工作者", 0.08),
    ("社会组织", 0.06),
    ("慈善组织", 0.03),
]
RATINGS = [("满意", 0.72), ("基本满意", 0.2), ("不满意", 0.08)]

REQUEST_TOPICS = [
    "路灯不亮",
    "道路破损",
    "垃圾清运不及时",
    "饮水管道漏水",
    "噪音扰民",
    "低保政策咨询",
    "医保缴费咨询",
    "邻里纠纷调解",
    "排水沟堵塞",
    "活动场地协调",
    "高龄津贴申领",
    "危房改造咨询",
    "网络信号差",
    "公交站点设置建议",
    "犬只扰民",
    "河道垃圾清理",
]
NOTICE_TOPICS = [
    "春节走访慰问",
    "城乡居民医保集中缴费",
    "森林防火宣传",
    "人居环境整治",
    "志愿服务活动",
    "防汛应急演练",
    "反电信诈骗宣传",
    "渝快社区注册使用",
    "高龄津贴年审",
    "农村饮水安全排查",
]
CONSULTATION_TOPICS = [
    "{g}组道路硬化",
    "公共区域照明改造",
    "集体经济收益分配",
    "人行便道修缮",
    "停车位划定",
    "{g}组饮水池维修",
    "文化广场使用管理",
]
DECISION_TOPICS = ["村集体经济项目", "产业路建设项目", "人居环境整治项目", "村规民约修订", "集体资产发包"]
