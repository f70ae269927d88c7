"""Dagster wiring only: assets, checks, jobs, schedules, sensors and resources call the plain-Python steps."""
