import pandas as pd
import pytest

from support.leaks import leaks as _leaks
from yukuai_pipeline.contracts import TABLES


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_no_unmasked_id_or_phone_in_tables_events_or_logs(runner, landing, caplog, capsys, monkeypatch):
    # every table of the warehouse, with a person key set so that the keyed tokens are written too (and scanned)
    monkeypatch.setenv("YUKUAI_PERSON_KEY", "a-privacy-test-key-of-enough-length")
    result = runner.run("2023-02-17")
    assert result.success
    roster = runner.table("roster_completeness")
    assert (
        len(roster) and (roster["status"] != "完整").any()
    )  # the demo plants roster errors: there is something to leak
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


def test_the_scan_finds_numbers_and_passes_over_digests():
    assert _leaks("联系电话13812345678，身份证500242199001011234") == ["500242199001011234", "13812345678"]
    assert _leaks("'dagster/data_version': '655bfb90f464ab88a80c72b91780a8ea2c08ecdfef02cc4c6b4f18811142272f'") == []
    assert _leaks("run 13cc1c2a-1a02-4a85-a9ff-218455682131 masked 138****5678") == []


def test_registration_phone_and_nickname_are_dropped_at_ingest(tmp_path):
    """schemas/inputs/registrations.yaml dropped_at_ingest: the columns are recognised, then never kept."""
    from support.bad_inputs import HEADER, ROWS, write_csv
    from yukuai_pipeline.intake.loading import load

    path = tmp_path / "注册用户_20230217.csv"
    write_csv(path, ROWS)
    loaded = load(path)
    assert {"phone", "name"} <= set(loaded.header.columns)  # found in the header: not reported as unknown
    assert not {"phone", "name"} & set(loaded.accepted.columns)
    assert "phone_token" not in loaded.accepted.columns  # no person key: nothing of the number is kept
    assert loaded.accepted["user_id"].tolist() == [r[HEADER.index("用户ID")] for r in ROWS]


def test_the_leak_scan_ignores_embedded_images_but_not_a_number_beside_one():
    import base64

    from support.leaks import leaks

    blob = base64.b64encode(bytes(range(256)) * 4).decode() + "13812345678" + "QUJD" * 60  # digits by chance
    assert leaks(blob.replace("13812345678", "")) == [] and leaks("13812345678") == ["13812345678"]
    assert leaks(f"![进度图](data:image/png;base64,{blob})") == [] and leaks(blob) == []
    assert leaks(f"![进度图](data:image/png;base64,{blob}) 联系人 13987654321") == ["13987654321"]
    assert leaks(f"{blob} 500242199001011234") == ["500242199001011234"]


def test_a_decimal_fraction_is_not_a_phone_number():
    from support.leaks import leaks

    assert leaks('"duration_ms": 91.15966599893') == []
    assert leaks("联系电话 13987654321。") == ["13987654321"]


@pytest.mark.parametrize(
    ("typed", "masked"),
    [
        ("电话13812345678，身份证110101199003077777", "电话138****5678，身份证110101********7777"),
        ("１３８１２３４５６７８", "１３８****５６７８"),  # full-width, as a Chinese input method types it
        ("１号楼 联系：１３８１２３４５６７８ 好", "１号楼 联系：１３８****５６７８ 好"),  # other digits as typed
        ("身份证５００２４２１９９００１０１１２３４", "身份证５００２４２********１２３４"),
        ("x110101199003077777", "x110101********7777"),
        ("1381234567", "1381234567"),  # ten digits: neither
        ("王小明", "王小明"),
    ],
)
def test_free_text_is_scrubbed_of_numbers_in_any_digits(typed, masked):
    from yukuai_pipeline.intake.privacy import scrub_column, scrub_text

    assert scrub_text(typed) == masked
    column = pd.Series(["张三", typed, None], dtype="str")  # the cheap first look (Arrow) must find it too
    assert scrub_column(column).tolist()[:2] == ["张三", masked]
