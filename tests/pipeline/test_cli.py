import dagster as dg
import pytest

from yukuai_pipeline.cli import main


@pytest.fixture
def cli_env(tmp_path, landing, monkeypatch):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    monkeypatch.setenv("YUKUAI_LANDING_DIR", str(landing))
    monkeypatch.setenv("YUKUAI_DATABASE_URL", f"sqlite:///{tmp_path}/warehouse.db")
    return tmp_path


def test_materialize_a_range_records_runs_in_the_instance_and_prints_the_county_row(cli_env, capsys):
    assert main(["materialize", "--from", "2023-02-17", "--to", "2023-02-18"]) == 0
    out = capsys.readouterr().out
    assert "2023-02-17 全县合计：常住人口 853,945，任务数 102,476，完成数 28,632，尚差任务数 73,844" in out
    assert "2/2" in out  # the progress bar reached the end
    with dg.DagsterInstance.from_config(str(cli_env / "dagster_home")) as instance:
        runs = instance.get_runs()
        assert sorted(r.tags["dagster/partition"] for r in runs) == ["2023-02-17", "2023-02-18"]
        assert all(r.is_success for r in runs)
        # selected as the UI's job Runs tab and Overview timeline select the daily job's runs
        ui_filter = dg.RunsFilter(
            job_name="daily_refresh", tags={".dagster/repository": "__repository__@yukuai_pipeline"}
        )
        assert len(instance.get_runs(filters=ui_filter)) == 2


def test_a_failing_day_exits_non_zero_with_the_readers_message(cli_env, landing, capsys):
    (landing / "注册用户_20230218_坏.csv").write_text(
        "序号,用户ID,乡镇（街道）,村（社区）\r\n1,U1,龙潭镇,某村\r\n", encoding="utf-8"
    )
    assert main(["materialize", "--date", "2023-02-18"]) == 1
    err = capsys.readouterr().err
    assert "注册用户_20230218_坏.csv" in err and "缺少必需的列：注册时间" in err
    summary = err[err.index("✗ 2023-02-18") :]  # what the CLI itself says, after Dagster's own log lines
    assert "registration_files_usable: 文件《注册用户_20230218_坏.csv》无法使用" in summary
    assert "DagsterAssetCheckFailedError" not in summary


def test_dates_outside_the_partitions_are_refused(cli_env, capsys):
    assert main(["materialize", "--date", "2022-01-01"]) == 2
    assert "不在分区范围内" in capsys.readouterr().err


def test_instance_config_turns_off_the_community_popup_also_in_an_older_one(tmp_path, monkeypatch):
    from yukuai_pipeline.cli.instance import DAGSTER_YAML

    home = tmp_path / "dagster_home"
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    assert main(["instance"]) == 0
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert instance.nux_enabled is False
    older = DAGSTER_YAML.replace("nux:\n  enabled: false\n", "")
    (home / "dagster.yaml").write_text(older, encoding="utf-8")
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert instance.nux_enabled is True  # Dagster's default: the pop-up on the first visit
    assert main(["instance"]) == 0
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert instance.nux_enabled is False
        assert instance.get_concurrency_config().run_queue_config.max_concurrent_runs == 2  # the rest is kept
