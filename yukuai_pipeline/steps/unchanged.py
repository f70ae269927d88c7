"""Steps not redone when nothing they read changed (issue: a year of a whole city).

The registry, roster, activity and organisation steps compute from a reference file that holds for weeks, and from
tables of the same day that change as rarely. Each such step names what it reads (`inputs`: the file in force, the
content of the day's upstream tables, the law revision in force); with the code and the campaign folder that is
the day's *inputs version*. A day computed in full records its version (table `step_runs`) and, once per version,
what it is made of, the tables it wrote and what it showed (`step_versions`). A later day of the same version takes
those rows instead — a stored-once table's day points at the same content, other rows are copied under its own
date, in one transaction with its record — and shows the same checks, saying since when they are unchanged. A
backfill reuses the same way, in either direction.

What is never reused: a day that wrote nothing (no input yet: cheap, and its texts name the day), a day a blocking
check stopped, and outputs that are no longer what their record says (rows missing: the step computes instead).
YUKUAI_RECOMPUTE=1 switches all of it off.
"""

import dataclasses
import datetime as dt
import functools
import hashlib
import json
from collections.abc import Callable, Iterable
from pathlib import Path

import pandas as pd

from yukuai_pipeline import settings
from yukuai_pipeline.contracts import conform_output, load_contract
from yukuai_pipeline.quality.checks import Checks
from yukuai_pipeline.steps import result_codec
from yukuai_pipeline.steps.context import StepContext, StepResult
from yukuai_pipeline.warehouse import Replacement
from yukuai_pipeline.warehouse.replacement import SameAs
from yukuai_pipeline.warehouse.stored_once import ContentGone

STEP_RUNS, STEP_VERSIONS = "step_runs", "step_versions"
DAY = "snapshot_date"  # the daily tables' partition column, which a copy rewrites
Step = Callable[[StepContext, dt.date], StepResult]
Inputs = Callable[[StepContext, dt.date], dict]


def _digest(parts: Iterable[tuple[str, bytes]]) -> str:
    digest = hashlib.sha256()
    for name, data in parts:
        digest.update(name.encode() + b"\x1f" + hashlib.sha256(data).digest())
    return digest.hexdigest()


def _files(folder: Path, pattern: str = "*") -> list[tuple[str, bytes]]:
    return [(str(p.relative_to(folder)), p.read_bytes()) for p in sorted(folder.rglob(pattern)) if p.is_file()]


@functools.cache
def code_version() -> str:
    """The package's source and the shipped schemas: a new release computes every day afresh."""
    package = Path(__file__).resolve().parents[1]
    return _digest(_files(package, "*.py") + _files(settings.schemas_dir()))


def folder_version(folder: Path) -> str:
    """Every file of the campaign folder (targets, codes, aliases, rules, campaign.yaml): edited, recomputed."""
    return _digest(_files(folder))


def frame_version(frame: pd.DataFrame) -> str:
    hashed = pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes()
    return _digest([("columns", "\x1f".join(map(str, frame.columns)).encode()), ("rows", hashed)])


def table_version(ctx: StepContext, table: str, day: dt.date) -> str:
    """What a step read of an upstream table's day: its content id when stored once, else the rows' hash."""
    stored = ctx.warehouse.day_content(table, day)
    if stored is not None:
        return stored[0]
    return frame_version(ctx.warehouse.read(table, {DAY: day}).drop(columns=[DAY]))


def file_version(identity) -> str | None:
    """A reference file in force, as its rows carry it: content, name and own date (None: there is none)."""
    return None if identity is None else f"{identity.sha256}|{identity.name}|{identity.snapshot_date}"


class _Recording:
    """The step's warehouse, remembering what the step writes for the day: (table, the rest of its filter)."""

    def __init__(self, warehouse, day: dt.date):
        self._warehouse, self._day = warehouse, day
        self.outputs: dict[tuple[str, str], int] = {}  # the rows written (the last write of a filter holds)
        self.reusable = True

    def replace(self, replacements):
        replacements = list(replacements)
        for item in replacements:
            if item.upsert or load_contract(item.table).partition_column != DAY or DAY not in item.where:
                continue  # keyed by file, not by day (ingest log, header cells, the stored input file)
            rest = {k: v for k, v in item.where.items() if k != DAY}
            if item.where[DAY] != self._day or "check" in rest:
                self.reusable = False  # another day's rows, or a refusal's
            self.outputs[(item.table, json.dumps(rest, sort_keys=True, default=str))] = len(item.frame)
        return self._warehouse.replace(replacements)

    def __getattr__(self, name):
        return getattr(self._warehouse, name)


def reused_when_unchanged(checks: Checks, inputs: Inputs) -> Callable[[Step], Step]:
    """Decorates the step of `checks`' asset, of (ctx, day): computed only when no other day of the same inputs
    version can be reused."""
    name = checks.asset

    def decorate(compute: Step) -> Step:
        @functools.wraps(compute)
        def step(ctx: StepContext, day: dt.date) -> StepResult:
            if not settings.reuse_unchanged():
                ctx.warehouse.forget_step_run(name, day)  # rows about to change: no later day may take them as-is
                return compute(ctx, day)
            parts = {**inputs(ctx, day), "code": code_version(), "campaign": folder_version(ctx.campaign.folder)}
            version = _digest((k, json.dumps(v, default=str).encode()) for k, v in sorted(parts.items()))
            earlier = ctx.warehouse.step_run_like(name, version, day)
            reused = _reuse(ctx, name, day, earlier) if earlier else None
            if reused is not None:
                return reused
            # the day's record goes before its rows change, so that a crash between the two leaves no record
            # claiming rows they no longer are
            ctx.warehouse.forget_step_run(name, day)
            recording = _Recording(ctx.warehouse, day)
            ctx.warehouse = recording  # type: ignore[assignment]  # forwards every call
            try:
                result = compute(ctx, day)
            finally:
                ctx.warehouse = recording._warehouse
            blocked = any(not c.passed and checks[c.name].blocking for c in result.checks)
            if recording.reusable and recording.outputs and result.rows and not blocked:
                outputs = [[table, json.loads(rest), rows] for (table, rest), rows in recording.outputs.items()]
                ctx.warehouse.replace(_record(name, day, version, day, (parts, outputs, result)))
            return dataclasses.replace(result, inputs_version=version)

        return step

    return decorate


def _record(name: str, day: dt.date, version: str, computed_on: dt.date, what: tuple | None) -> list[Replacement]:
    """The day's row of step_runs; and the version's row of step_versions when `what` (inputs, outputs, result)
    is given — a reused day's version has one already."""
    run = {"step": name, "snapshot_date": day, "inputs_version": version, "computed_on": computed_on}
    frame = conform_output(pd.DataFrame([run]), load_contract(STEP_RUNS))
    records = [Replacement(STEP_RUNS, frame, {"step": name, "snapshot_date": day})]
    if what is not None:
        parts, outputs, result = what
        row = {
            "step": name,
            "inputs_version": version,
            "inputs": json.dumps(parts, ensure_ascii=False, sort_keys=True, default=str),
            "outputs": json.dumps(outputs, ensure_ascii=False),
            "outcome": result_codec.encode(result),
            "recorded_at": dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0),
        }
        frame = conform_output(pd.DataFrame([row]), load_contract(STEP_VERSIONS))
        records.append(Replacement(STEP_VERSIONS, frame, upsert=True))
    return records


def _copy(ctx: StepContext, table: str, rest: dict, source: dt.date, day: dt.date, written: int):
    """The replacements giving `day` the rows `source` has of a table and filter (none when the day is the source:
    a rerun); None when they are not `written` rows any more. A stored-once table's day shares the source's content
    (no row copied)."""
    if table in ctx.warehouse.stored_once and not rest:
        content = ctx.warehouse.day_content(table, source)
        if content is None or content[1] != written:
            return None
        same = Replacement(table, pd.DataFrame(), {DAY: day}, same_as=SameAs(source, content[0]))
        return [] if source == day else [same]
    rows = ctx.warehouse.read(table, {DAY: source, **rest})
    if len(rows) != written:
        return None
    copied = conform_output(rows.assign(**{DAY: day}), load_contract(table))
    return [] if source == day else [Replacement(table, copied, {DAY: day, **rest}, same_as=SameAs(source))]


def _reuse(ctx: StepContext, name: str, day: dt.date, earlier: dict) -> StepResult | None:
    """The earlier day's rows under this day's date, with this day's record, in one transaction; None when they
    are not there any more as recorded (then the step computes)."""
    source = pd.Timestamp(earlier["snapshot_date"]).date()
    outputs = json.loads(earlier["outputs"])
    result = result_codec.decode(earlier["outcome"])
    copies = []
    for table, rest, written in outputs:
        copy = _copy(ctx, table, rest, source, day, written)
        if copy is None:
            return None
        copies += copy
    computed_on = pd.Timestamp(earlier["computed_on"]).date()
    try:
        ctx.warehouse.replace([*copies, *_record(name, day, earlier["inputs_version"], computed_on, None)])
    except ContentGone:  # a concurrent run rewrote the source day since it was read: compute instead
        return None
    return dataclasses.replace(result, inputs_version=earlier["inputs_version"], unchanged_since=computed_on)
