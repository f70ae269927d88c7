import re

import pytest

ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
PHONE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
TABLES = ["community_registry", "registration_counts", "township_progress", "village_progress", "data_quality_issues",
          "ingest_log", "roster_completeness", "roster_township_summary", "village_targets", "township_targets"]


def _leaks(text: str) -> list[str]:
    return ID_NUMBER.findall(text) + PHONE.findall(text)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_no_unmasked_id_or_phone_in_tables_events_or_logs(runner, landing, caplog, capsys):
    result = runner.run("2023-02-17")
    assert result.success
    roster = runner.table("roster_completeness")
    assert len(roster) and (roster["status"] != "完整").any()  # the demo plants roster errors: there is something to leak
    issues = runner.table("data_quality_issues")
    assert issues["field"].isin(["id_number", "phone"]).any()
    for table in TABLES:
        frame = runner.table(table)
        assert _leaks(frame.to_csv(index=False)) == [], table
    events = "\n".join(str(event) for event in result.all_events)
    assert "roster_complete" in events
    assert _leaks(events) == []
    captured = capsys.readouterr()
    assert _leaks(caplog.text + captured.out + captured.err) == []
    masked = issues.loc[issues["field"] == "id_number", "value_masked"].dropna()
    assert masked.str.fullmatch(r"\d{6}\*+[\dX]{4}").all()
