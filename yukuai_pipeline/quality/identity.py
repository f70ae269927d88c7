"""Checks of personal identifiers on rosters: 身份证号 (GB 11643-1999) and mainland mobile numbers.

Each function returns a Chinese reason when the value is wrong and None when it is fine, so a caller can turn
the reasons into data-quality issues without ever printing the value itself.
"""

import datetime as dt
import re

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"
_ID_SHAPE = re.compile(r"^\d{17}[\dX]$")
_MOBILE = re.compile(r"^1[3-9]\d{9}$")


def normalise_id(value: str | None) -> str:
    return (value or "").strip().upper().replace(" ", "")


def id_check_char(first17: str) -> str:
    return _CHECK_CHARS[sum(int(d) * w for d, w in zip(first17, WEIGHTS)) % 11]


def id_birth_date(id_number: str) -> dt.date | None:
    try:
        return dt.date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
    except ValueError:
        return None


def id_gender(id_number: str) -> str:
    """GB 11643: the 17th digit is odd for men, even for women."""
    return "男" if int(id_number[16]) % 2 else "女"


def id_problem(value: str | None, on: dt.date, min_age: int = 18) -> str | None:
    number = normalise_id(value)
    if not number:
        return "身份证号为空"
    if not _ID_SHAPE.match(number):
        return f"身份证号应为 18 位（17 位数字加 1 位数字或 X），实际 {len(number)} 位"
    if id_check_char(number[:17]) != number[17]:
        return "身份证号校验位不正确（GB 11643）"
    born = id_birth_date(number)
    if born is None or born > on or born.year < 1900:
        return "身份证号中的出生日期不存在"
    age = on.year - born.year - ((on.month, on.day) < (born.month, born.day))
    if age < min_age:
        return f"按身份证号计算未满 {min_age} 周岁（{age} 岁）"
    return None


def gender_problem(gender: str | None, id_number: str | None) -> str | None:
    number = normalise_id(id_number)
    if not gender or not _ID_SHAPE.match(number):
        return None
    expected = id_gender(number)
    return None if gender == expected else f"性别“{gender}”与身份证号（第 17 位）不符"


def phone_problem(value: str | None) -> str | None:
    if not value:
        return "手机号为空"
    return None if _MOBILE.match(value) else "手机号应为 11 位、1 开头的大陆手机号"
