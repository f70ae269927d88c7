"""yukuai-pipeline: 渝快社区注册推广与基层队伍信息数据管道."""
