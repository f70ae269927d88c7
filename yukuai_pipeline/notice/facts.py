"""What a notice says in its text: who issued it and when, its document number, the attachment's title, the
registration deadline and county total, and the rate per 10,000 residents. Each fact is None when the text does not
say it plainly; the importer then asks for it on the command line instead of guessing."""

import calendar
import datetime as dt
import re
from dataclasses import dataclass

_DOC_NUMBER = re.compile(r"[\u4e00-\u9fff]{2,12}[〔\[［(（]\s*(\d{4})\s*[〕\]］)）]\s*\d{1,4}\s*号")
_DATE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日")
_ISSUER = re.compile(r"^([\u4e00-\u9fff]{2,20}?(?:县|区|市))(?:民政局|人民政府|民政委员会)")
_MONTH_END = re.compile(r"(\d{1,2})\s*月\s*底前")
_DAY_BEFORE = re.compile(r"(\d{1,2})\s*月\s*(\d{1,2})\s*日\s*前")
_TOTAL = re.compile(r"注册[^，。；,;\d]{0,20}?(\d[\d,，]*)\s*人")
_RATE = re.compile(r"每万人[^。；]{0,40}?(?:不低于|达到|不少于)\s*(\d+)\s*人")
_ATTACHMENT = re.compile(r"^附件\s*\d*\s*[：:]?\s*(.*)$")
_AUTONOMOUS = re.compile(r"^(.{2,}?)(?:[\u4e00-\u9fff]{1,3}族)+自治县$")


@dataclass(frozen=True)
class NoticeFacts:
    issuer: str | None  # 酉阳土家族苗族自治县民政局
    county_name: str | None  # 酉阳土家族苗族自治县
    document_number: str | None  # 酉阳民政发〔2023〕9号
    issued_on: dt.date | None
    attachment_title: str | None
    deadline: dt.date | None
    stated_total: int | None  # 全县完成……注册使用 102476 人
    rate_per_10k: int | None


def read_facts(lines: list[str]) -> NoticeFacts:
    text = "\n".join(lines)
    number = _DOC_NUMBER.search(text)
    issuer = next((m for m in map(_ISSUER.match, lines) if m), None)
    issued_on = _issued_on(lines)
    sentence = _registration_sentence(text)
    total = _TOTAL.search(sentence) if sentence else None
    rate = _RATE.search(text)
    return NoticeFacts(
        issuer=issuer.group(0) if issuer else None,
        county_name=issuer.group(1) if issuer else None,
        document_number=re.sub(r"\s+", "", number.group(0)) if number else None,
        issued_on=issued_on,
        attachment_title=_attachment_title(lines),
        deadline=_deadline(sentence, issued_on.year) if sentence and issued_on else None,
        stated_total=int(re.sub(r"[,，]", "", total.group(1))) if total else None,
        rate_per_10k=int(rate.group(1)) if rate else None,
    )


def short_name(county_name: str) -> str:
    """酉阳土家族苗族自治县 → 酉阳县, as reports and alerts name the county; other names stay as they are."""
    autonomous = _AUTONOMOUS.match(county_name)
    return f"{autonomous.group(1)}县" if autonomous else county_name


def name_prefixes(county_name: str) -> list[str]:
    """What exports write before a township name: the city, the county's full, autonomous and short names."""
    short = short_name(county_name)
    stem = short[:-1] if short != county_name else None
    names = ["重庆市", county_name]
    if stem:
        names += [f"{stem}自治县", short, stem]
    return list(dict.fromkeys(names))


def _issued_on(lines: list[str]) -> dt.date | None:
    """The signature date: the first line that is a date and nothing else (the 印发 line comes after it)."""
    for line in lines:
        match = _DATE.fullmatch(line.strip())
        if match:
            return _date(*map(int, match.groups()))
    match = _DATE.search("\n".join(lines))
    return _date(*map(int, match.groups())) if match else None


def _registration_sentence(text: str) -> str | None:
    """The sentence that sets the registration task: it names a deadline and a number of users."""
    for sentence in re.split(r"[。；]", text):
        deadline = _MONTH_END.search(sentence) or _DAY_BEFORE.search(sentence)
        if "注册" in sentence and deadline and _TOTAL.search(sentence):
            return sentence
    return None


def _deadline(sentence: str, year: int) -> dt.date | None:
    day = _DAY_BEFORE.search(sentence)
    if day:
        return _date(year, int(day.group(1)), int(day.group(2)))
    month = _MONTH_END.search(sentence)
    if month and 1 <= int(month.group(1)) <= 12:
        m = int(month.group(1))
        return dt.date(year, m, calendar.monthrange(year, m)[1])
    return None


def _attachment_title(lines: list[str]) -> str | None:
    for i, line in enumerate(lines):
        match = _ATTACHMENT.match(line)
        if not match:
            continue
        title = match.group(1).strip() or next((x for x in lines[i + 1 :] if x.strip()), "")
        if title.endswith("表"):
            return title.strip()
    return None


def _date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None
