"""统一社会信用代码 (GB 32100-2015) of a registered community social organisation: is it a well-formed code, and was
it issued by civil affairs (民政)?

An 18-character code is: 登记管理部门码 (1), 机构类别码 (1), 登记管理机关行政区划码 (6 digits), 主体标识码 (9: the
organisation code of GB 11714, whose 9th character is its own check character) and the code's check character (1).
Every character is one of the 31 of CHARSET (0-9 and capitals without I, O, S, V, Z). The check character is
31 − (Σ value × weight mod 31), 31 read as 0, over the first 17 with weights 3^(i) mod 31.

A code that breaks the standard has a `fault` (the registration cannot be verified: the row is not counted as
registered). A well-formed code not issued by civil affairs (登记管理部门码 other than 5), or of a civil-affairs
category other than 社会团体/民办非企业单位/基金会, gets a WARN-level `note`: it may be the organisation's business
licence rather than its social-organisation registration. Pure Python, no I/O.
"""

import unicodedata
from dataclasses import dataclass

CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
VALUE = {c: i for i, c in enumerate(CHARSET)}
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)  # 3^i mod 31
ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)  # GB 11714 over the first 8 characters of the 主体标识码
LENGTH = 18
CIVIL_AFFAIRS = "5"
# 机构类别码 under 民政 (GB 32100-2015 附录 A)
CIVIL_AFFAIRS_CATEGORIES = {"1": "社会团体", "2": "民办非企业单位（社会服务机构）", "3": "基金会", "9": "其他"}
DEPARTMENTS = {
    "1": "机构编制",
    "2": "外交",
    "3": "司法行政",
    "4": "文化",
    "5": "民政",
    "6": "旅游",
    "7": "宗教",
    "8": "工会",
    "9": "工商（市场监管）",
    "A": "中央军委改革和编制办公室",
    "N": "农业",
    "Y": "其他",
}


@dataclass(frozen=True)
class CreditCodeVerdict:
    code: str  # as checked: NFKC, spaces removed, capitals
    fault: str | None = None  # why it is no valid GB 32100 code (None: valid)
    note: str | None = None  # a WARN-level remark on a valid code

    @property
    def valid(self) -> bool:
        return self.fault is None


def normalise(value: object) -> str:
    """The code as typed, NFKC (full-width letters and digits), without spaces, in capitals."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return "".join(unicodedata.normalize("NFKC", str(value)).split()).upper()


def credit_check_char(first17: str) -> str:
    """The 18th character of a code whose first 17 are given (all of CHARSET)."""
    total = sum(VALUE[c] * w for c, w in zip(first17, WEIGHTS))
    return CHARSET[(31 - total % 31) % 31]


def organisation_check_char(first8: str) -> str:
    """GB 11714's check character of an organisation code's first 8 characters (digits, or capitals A=10 …)."""
    total = sum((int(c) if c.isdigit() else ord(c) - 55) * w for c, w in zip(first8, ORG_WEIGHTS))
    rest = 11 - total % 11
    return {10: "X", 11: "0"}.get(rest, str(rest))


def check_credit_code(value: object) -> CreditCodeVerdict:
    """The verdict on one code; the first fault found, in the order the officer can fix them."""
    code = normalise(value)
    if not code:
        return CreditCodeVerdict(code, "统一社会信用代码为空")
    if len(code) != LENGTH:
        return CreditCodeVerdict(code, f"统一社会信用代码应为 18 位，实为 {len(code)} 位")
    illegal = [c for c in dict.fromkeys(code) if c not in VALUE]
    if illegal:
        shown = "、".join(f"“{c}”" for c in illegal)
        return CreditCodeVerdict(
            code, f"统一社会信用代码含不允许的字符 {shown}（只用数字和除 I、O、S、V、Z 外的大写字母）"
        )
    if not code[2:8].isdigit():
        return CreditCodeVerdict(code, f"第 3–8 位登记管理机关行政区划码应为 6 位数字，实为“{code[2:8]}”")
    org_check = organisation_check_char(code[8:16])
    if code[16] != org_check:
        return CreditCodeVerdict(
            code,
            f"主体标识码（第 9–17 位，组织机构代码）校验不符：按第 9–16 位第 17 位应为“{org_check}”，实为“{code[16]}”"
            "，代码中有字符录错，请核对登记证书",
        )
    check = credit_check_char(code[:17])
    if code[17] != check:
        return CreditCodeVerdict(
            code, f"校验码不符：按前 17 位第 18 位应为“{check}”，实为“{code[17]}”，代码中有字符录错，请核对登记证书"
        )
    return CreditCodeVerdict(code, None, _note(code))


def _note(code: str) -> str | None:
    department, category = code[0], code[1]
    if department != CIVIL_AFFAIRS:
        issuer = DEPARTMENTS.get(department, "未知部门")
        return (
            f"登记管理部门码为“{department}”（{issuer}），不是民政（5）：社区社会组织应在民政部门登记，"
            "请核对是否填成了营业执照等其他证照的代码"
        )
    if category not in CIVIL_AFFAIRS_CATEGORIES:
        return f"机构类别码“{category}”不是民政登记的类别（1 社会团体、2 民办非企业单位、3 基金会、9 其他）"
    return None
