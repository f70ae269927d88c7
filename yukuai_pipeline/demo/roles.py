"""How villages write posts and groups in their rosters: each village uses one family of spellings for its party
branch, its committee, its supervisors, its group leaders and representatives (every spelling is in
schemas/inputs/roster.yaml), and writes group numbers in one style, with another style typed in now and then.
"""

# Role spellings, each a family used together in one village; every part is in schemas/inputs/roster.yaml.
PARTY = {  # (书记, 副书记, 委员)
    "村委会": [
        ("党支部书记", "党支部副书记", "党支部委员"),
        ("村党支部书记", "党支部副书记", "支委"),
        ("党组织书记", "党组织副书记", "党组织委员"),
        ("支部书记", "副书记", "支部委员"),
        ("党总支书记", "党总支副书记", "党总支委员"),
    ],
    "居委会": [
        ("社区党委书记", "党委副书记", "党委委员"),
        ("社区党支部书记", "党支部副书记", "党支部委员"),
        ("社区党组织书记", "党组织副书记", "党组织委员"),
        ("党总支书记", "党总支副书记", "党总支委员"),
    ],
}
COMMITTEE = {  # (主任, 副主任, 委员)
    "村委会": [
        ("村委会主任", "村委会副主任", "村委会委员"),
        ("村委主任", "村委副主任", "村委委员"),
        ("村民委员会主任", "村民委员会副主任", "村民委员会委员"),
        ("村（居）委会主任", "村（居）委会副主任", "村（居）委会委员"),
        ("村(居)委会主任", "村(居)委会副主任", "村(居)委会委员"),
        ("村主任", "副主任", "委员"),
    ],
    "居委会": [
        ("居委会主任", "居委会副主任", "居委会委员"),
        ("居委主任", "居委副主任", "居委委员"),
        ("居民委员会主任", "居民委员会副主任", "居民委员会委员"),
        ("村（居）委会主任", "村（居）委会副主任", "村（居）委会委员"),
        ("村(居)委会主任", "村(居)委会副主任", "村(居)委会委员"),
        ("社区主任", "副主任", "委员"),
    ],
}
SUPERVISOR = {  # (主任, 委员)
    "村委会": [
        ("村务监督委员会主任", "村务监督委员会委员"),
        ("监委会主任", "监委会委员"),
        ("监委主任", "监委委员"),
        ("监督委员会主任", "村务监督委员"),
        ("村（居）务监督委员会主任", "村（居）务监督委员会委员"),
    ],
    "居委会": [
        ("居务监督委员会主任", "居务监督委员会委员"),
        ("监委会主任", "监委会委员"),
        ("居务监督委员会主任", "居务监督委员"),
        ("村(居)务监督委员会主任", "村(居)务监督委员会委员"),
    ],
}
GROUP_LEADER = {
    "村委会": ["村民小组长", "组长", "小组长", "村民组长", "村（居）民小组长"],
    "居委会": ["居民小组长", "组长", "小组长", "居民组长", "村(居)民小组长"],
}
REPRESENTATIVE = {
    "村委会": ["村民代表", "代表", "村（居）民代表", "村(居)民代表"],
    "居委会": ["居民代表", "代表", "村（居）民代表"],
}
WORKER = ["社区专职工作者", "专职工作者", "社区工作者", "社区专干", "专职社区工作者"]
GROUP_STYLES = ["第{cn}{kind}小组", "{n}组", "第{n}组", "{cn}组", "第{n}{kind}小组"]


def chinese_number(n: int) -> str:
    """1 -> 一, 10 -> 十, 12 -> 十二, 20 -> 二十, 45 -> 四十五 (group numbers as people write them)."""
    digits = "零一二三四五六七八九"
    if n < 10:
        return digits[n]
    tens, units = divmod(n, 10)
    return ("" if tens == 1 else digits[tens]) + "十" + (digits[units] if units else "")
