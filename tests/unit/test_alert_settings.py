"""Alert settings are read in settings.py, once; the Dagster resource keeps their secrets as EnvVar."""

import dagster as dg

from yukuai_pipeline import settings
from yukuai_pipeline.defs.alerting import AlertingResource


def test_alert_settings_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("YUKUAI_ALERT_WEBHOOK_URL", "http://127.0.0.1:9/robot")
    monkeypatch.setenv("YUKUAI_ALERT_WEBHOOK_SECRET", "s3cret")
    monkeypatch.setenv("YUKUAI_SMTP_PORT", "2525")
    monkeypatch.setenv("YUKUAI_SMTP_STARTTLS", "no")
    monkeypatch.setenv("YUKUAI_FRESHNESS_DEADLINE", "09:30")
    monkeypatch.setenv("YUKUAI_ALERT_MAX_PER_TICK", "7")
    alert = settings.AlertSettings.from_env()
    assert (alert.webhook_url, alert.webhook_secret, alert.smtp_port, alert.smtp_starttls) == (
        "http://127.0.0.1:9/robot",
        "s3cret",
        2525,
        False,
    )
    assert (alert.freshness_deadline, alert.max_per_tick, alert.timeout_seconds) == ("09:30", 7, 5.0)
    assert settings.AlertSettings.from_env({}).webhook_url is None


def test_the_resource_keeps_secrets_out_of_its_config(monkeypatch):
    monkeypatch.setenv("YUKUAI_ALERT_WEBHOOK_URL", "http://127.0.0.1:9/robot")
    monkeypatch.setenv("YUKUAI_SMTP_PASSWORD", "pw")
    monkeypatch.delenv("YUKUAI_ALERT_WEBHOOK_SECRET", raising=False)
    for_dagster = AlertingResource.from_env()
    assert isinstance(for_dagster.smtp_password, dg.EnvVar) and for_dagster.webhook_secret is None
    assert AlertingResource.from_env(secrets_as_env_var=False).smtp_password == "pw"
