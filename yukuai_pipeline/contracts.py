"""Data contracts: the YAML files in schemas/ (pandera schema + header aliases + vocabularies), loaded at run time.

Input contracts say how a file is recognised (header aliases, required columns), how each cell is parsed and what
a valid row is; output contracts say what each SQL table holds, with a Chinese comment per column.
"""

import re
import unicodedata
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Any

import pandas as pd
import pandera.pandas as pa
from pandera.io.pandas_io import deserialize_schema

from yukuai_pipeline import settings
from yukuai_pipeline.intake.column_mapping import Decorations, HeaderMatcher

_HEADER_NOISE = re.compile(r"[\s*:：＊\u200b\ufeff]+")
_BRACKETS = str.maketrans(
    {
        "【": "(",
        "】": ")",
        "[": "(",
        "]": ")",
        "〔": "(",
        "〕": ")",
        "〖": "(",
        "〗": ")",
        "{": "(",
        "}": ")",
        "<": "(",
        ">": ")",
        "《": "(",
        "》": ")",
        "〈": "(",
        "〉": ")",
        "「": "(",
        "」": ")",
        "『": "(",
        "』": ")",
    }
)


def header_key(text: object) -> str:
    """A header cell reduced to what identifies it: NFKC, no spaces, one bracket style, no * or colon, lower case."""
    if text is None or (isinstance(text, float) and pd.isna(text)):
        return ""
    key = unicodedata.normalize("NFKC", str(text)).translate(_BRACKETS)
    key = _HEADER_NOISE.sub("", key)
    return key.replace("(必填)", "").replace("(选填)", "").replace("(可选)", "").lower()


@dataclass(frozen=True)
class Contract:
    kind: str
    role: str
    title: str
    schema: pa.DataFrameSchema
    header_aliases: dict[str, tuple[str, ...]] = field(default_factory=dict)
    required_columns: tuple[str, ...] = ()
    parse: dict[str, str] = field(default_factory=dict)
    vocabularies: dict[str, dict[str, str]] = field(default_factory=dict)
    vocabulary_labels: dict[str, dict[str, str]] = field(default_factory=dict)  # canonical -> Chinese word
    sensitive: dict[str, str] = field(default_factory=dict)
    quarantine_fields: tuple[str, ...] = ()  # optional fields whose unreadable value still makes the row unusable
    table: str | None = None
    comment: str = ""
    primary_key: tuple[str, ...] = ()
    partition_column: str | None = None
    # each distinct day's rows kept once, days pointing at them (warehouse/stored_once.py)
    stored_once: bool = False
    # `as: ranges`: each distinct row kept once per month with the first and last day it was seen
    # (warehouse/stored_as_ranges.py): `per`, the columns every write names (its scope); `day_columns`, columns most
    # of a day's rows share a new value of every day (a file name, a data date), kept with the day; `order`, the
    # order of a day's rows
    stored_once_as: str = "contents"
    stored_once_per: tuple[str, ...] = ()
    stored_once_day_columns: tuple[str, ...] = ()
    stored_once_order: tuple[str, ...] = ()
    # the file's own further sections (e.g. a roster's role vocabulary)
    sections: dict[str, Any] = field(default_factory=dict)
    key_terms: dict[str, tuple[str, ...]] = field(default_factory=dict)  # field -> words a decorated header may hold
    noise_headers: tuple[str, ...] = ()  # known columns that carry nothing the pipeline uses (序号, 备注 …)
    if_missing: dict[str, dict[str, Any]] = field(default_factory=dict)  # optional field -> what its absence means

    @property
    def stored_as_ranges(self) -> bool:
        return self.stored_once and self.stored_once_as == "ranges"

    @property
    def columns(self) -> list[str]:
        return list(self.schema.columns)

    def column_title(self, column: str) -> str:
        return self.schema.columns[column].title or column

    def nullable(self, column: str) -> bool:
        return bool(self.schema.columns[column].nullable)

    def quarantines(self, column: str) -> bool:
        """A row whose value here is missing or unreadable cannot be used at all."""
        return not self.nullable(column) or column in self.quarantine_fields

    def matcher(self) -> HeaderMatcher:
        """The contract's header vocabulary (aliases, key terms, noise) with the shared decorations; built once per
        contract (header finding asks for it for every candidate row). An alias or key term listed for two
        columns is a contract error."""
        if "_matcher" not in self.__dict__:
            self.__dict__["_matcher"] = HeaderMatcher(
                self.kind, self.header_aliases, self.key_terms, self.noise_headers, decorations(), header_key
            )
        matcher: HeaderMatcher = self.__dict__["_matcher"]
        return matcher

    @property
    def dropped_at_ingest(self) -> tuple[str, ...]:
        return tuple(self.sections.get("dropped_at_ingest") or ())

    @property
    def keyed(self) -> dict[str, str]:
        """Columns turned into keyed tokens at ingest when a person key is configured (intake/keyed_hash.py):
        column -> the kind of number it holds (phone, id_number); the token is column `<column>_token`."""
        return dict(self.sections.get("keyed") or {})


@lru_cache(maxsize=1)
def decorations() -> Decorations:
    """schemas/header_matching.yaml: the prefixes, suffixes and equivalent words every contract's headers share."""
    return Decorations.from_doc(settings.read_yaml(settings.schemas_dir() / "header_matching.yaml"), header_key)


@cache
def load_contract(kind: str, role: str = "table") -> Contract:
    """schemas/inputs/<kind>.yaml (role "input") or schemas/tables/<kind>.yaml (role "table")."""
    folder = {"input": "inputs", "table": "tables"}[role]
    path = settings.schemas_dir() / folder / f"{kind}.yaml"
    doc = settings.read_yaml(path)
    # what DataFrameSchema.from_yaml does after parsing the YAML; pandera leaves deserialize_schema unannotated
    schema = deserialize_schema(doc["pandera"])  # type: ignore[no-untyped-call]
    vocabularies = {
        column: {header_key(word): canonical for canonical, words in vocab.items() for word in (canonical, *words)}
        for column, vocab in (doc.get("vocabularies") or {}).items()
    }
    contract = Contract(
        kind=doc["kind"],
        role=doc["role"],
        title=doc.get("title") or doc.get("comment", ""),
        schema=schema,
        header_aliases={k: tuple(v) for k, v in (doc.get("header_aliases") or {}).items()},
        required_columns=tuple(doc.get("required_columns") or ()),
        parse=dict(doc.get("parse") or {}),
        vocabularies=vocabularies,
        vocabulary_labels={
            column: {canonical: (words or [canonical])[0] for canonical, words in vocab.items()}
            for column, vocab in (doc.get("vocabularies") or {}).items()
        },
        sensitive=dict(doc.get("sensitive") or {}),
        quarantine_fields=tuple(doc.get("quarantine_fields") or ()),
        table=doc.get("table"),
        comment=doc.get("comment", ""),
        primary_key=tuple(doc.get("primary_key") or ()),
        partition_column=doc.get("partition_column"),
        stored_once=bool(doc.get("stored_once", False)),
        stored_once_per=tuple(_stored_once(doc).get("per") or ()),
        stored_once_day_columns=tuple(_stored_once(doc).get("day_columns") or ()),
        stored_once_as=str(_stored_once(doc).get("as", "contents")),
        stored_once_order=tuple(_stored_once(doc).get("order") or ()),
        sections={k: v for k, v in doc.items() if k not in _KNOWN_KEYS},
        key_terms={k: tuple(v) for k, v in (doc.get("key_terms") or {}).items()},
        noise_headers=tuple(doc.get("noise_headers") or ()),
        if_missing={k: dict(v) for k, v in (doc.get("if_missing") or {}).items()},
    )
    _check_consistent(contract, path.name)
    return contract


_KNOWN_KEYS = {
    "kind",
    "role",
    "title",
    "comment",
    "pandera",
    "header_aliases",
    "required_columns",
    "parse",
    "vocabularies",
    "sensitive",
    "quarantine_fields",
    "table",
    "primary_key",
    "partition_column",
    "stored_once",
    "key_terms",
    "noise_headers",
    "if_missing",
}


def _stored_once(doc: dict[str, Any]) -> dict[str, Any]:
    """`stored_once: true`, or its detailed form `stored_once: {per: [...], day_columns: [...]}`."""
    value = doc.get("stored_once")
    return value if isinstance(value, dict) else {}


def _check_consistent(contract: Contract, file_name: str) -> None:
    named = set(contract.header_aliases) | set(contract.parse) | set(contract.quarantine_fields)
    named |= set(contract.dropped_at_ingest) | set(contract.key_terms) | set(contract.if_missing)
    named |= set(contract.keyed)
    unknown = named - set(contract.columns)
    if unknown:
        raise ValueError(f"schemas/{file_name}: columns {sorted(unknown)} are not in its pandera schema")
    required_but_defaulted = set(contract.if_missing) & set(contract.required_columns)
    if required_but_defaulted:
        raise ValueError(f"schemas/{file_name}: if_missing names required columns {sorted(required_but_defaulted)}")
    if contract.role == "input":
        contract.matcher()
    _check_stored_once(contract, file_name)


def _check_stored_once(contract: Contract, file_name: str) -> None:
    """Stored as ranges: the scope is made of required columns, a day column is another column, the order names
    columns. Stored by content: none of these (a day's rows are one content)."""
    per, day_columns, columns = contract.stored_once_per, contract.stored_once_day_columns, set(contract.columns)
    if contract.stored_once_as not in ("contents", "ranges"):
        raise ValueError(
            f"schemas/{file_name}: stored_once.as 只能是 contents 或 ranges（收到 {contract.stored_once_as}）"
        )
    if contract.stored_as_ranges:
        problems = [
            *(f"stored_once.per 的 {c} 不是必填的列" for c in per if c not in columns or contract.nullable(c)),
            *(f"stored_once.day_columns 的 {c} 不是范围之外的列" for c in day_columns if c not in columns or c in per),
            *(f"stored_once.order 的 {c} 不是列" for c in contract.stored_once_order if c not in columns),
        ]
    else:
        named = [*per, *day_columns, *contract.stored_once_order]
        problems = ["stored_once 的 per、day_columns、order 只用于 as: ranges"] if named else []
    if problems:
        raise ValueError(f"schemas/{file_name}: {'；'.join(problems)}")


# The one list of input kinds (schemas/inputs/<kind>.yaml). A registration export is the day's full snapshot of users;
# a reference input (registry, roster, activity, community organisations) holds from its date until a newer one
# lands (SPEC §4).
USER_LEVEL, SUMMARY = "registrations", "registration_summary"
REGISTRY, ROSTER, ACTIVITY = "community_registry", "roster", "platform_activity"
ORGS = "community_orgs"
REGISTRATION_KINDS = (USER_LEVEL, SUMMARY)
REFERENCE_KINDS = (REGISTRY, ROSTER, ACTIVITY, ORGS)
INPUT_KINDS = REGISTRATION_KINDS + REFERENCE_KINDS
TABLES = (
    "township_targets",
    "community_registry",
    "village_targets",
    "registration_counts",
    "township_progress",
    "village_progress",
    "data_quality_issues",
    "ingest_log",
    "roster_completeness",
    "roster_township_summary",
    "roster_members",
    "cadre_quotas",
    "alerts",
    "alert_state",
    "platform_activity",
    "platform_activity_rollup",
    "file_columns",
    "input_snapshots",
    "registry_input",
    "roster_input",
    "activity_input",
    "input_issues",
    "county_campaigns",
    "city_progress",
    "cadre_registration",
    "cadre_registration_summary",
    "township_scores",
    "community_orgs",
    "community_orgs_rollup",
    "community_orgs_input",
    "snapshot_contents",
    "step_runs",
    "step_versions",
    # after every other table: their column titles name the metadata columns first (defs/outcomes._column_titles)
    "registry_completeness",
    "registry_township_summary",
)


def input_contracts() -> list[Contract]:
    return [load_contract(kind, "input") for kind in INPUT_KINDS]


_CHECK_MESSAGES = {
    "not_nullable": "必填字段为空",
    "str_length": "不能为空",
    "isin": "取值不在允许范围内",
    "greater_than_or_equal_to": "不能为负数",
    "str_matches": "格式不正确",
}


def validate(frame: pd.DataFrame, contract: Contract) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Lazy pandera validation: (the frame, coerced where the contract coerces; one row per failing (index,
    column) with a Chinese reason). Columns absent from the frame are skipped (optional columns of an input);
    a whole-column failure would be a bug in the parser or the step, not bad input, so it raises."""
    present = [c for c in contract.columns if c in frame.columns]
    schema = contract.schema.select_columns(present)
    try:
        return schema.validate(frame[present], lazy=True), _no_failures()
    except pa.errors.SchemaErrors as err:
        cases = err.failure_cases
        row_level = cases[cases["index"].notna()]
        if len(row_level) < len(cases):
            raise ValueError(
                f"{contract.kind}: schema-level failure {cases[cases['index'].isna()].to_dict('records')}"
            ) from err
        reasons = row_level["check"].astype(str).map(_reason)
        failures = pd.DataFrame(
            {
                "index": row_level["index"].to_numpy(),
                "field": row_level["column"].to_numpy(),
                "message": reasons.to_numpy(),
            }
        ).drop_duplicates(["index", "field"])
        return frame, failures


def _no_failures() -> pd.DataFrame:
    return pd.DataFrame(
        {"index": pd.Series(dtype="int64"), "field": pd.Series(dtype="str"), "message": pd.Series(dtype="str")}
    )


def _reason(check: str) -> str:
    name = check.split("(")[0]
    return _CHECK_MESSAGES.get(name, f"未通过检查 {check}")


# Every table's first key column. A step's frame need not carry it: the county-scoped warehouse stamps it on every
# row it writes and filters every read by it (warehouse/tables.py), so no step can mix two counties' rows.
COUNTY_COLUMN = "county_code"


def conform_output(frame: pd.DataFrame, contract: Contract) -> pd.DataFrame:
    """Order the columns as the contract says (absent nullable ones as empty) and validate them; a failure here is
    a pipeline bug, not bad input, so it raises. The county column is left to the warehouse when absent."""
    wanted = [c for c in contract.columns if c != COUNTY_COLUMN or c in frame.columns]
    frame = frame.assign(**{c: None for c in wanted if c not in frame.columns and contract.nullable(c)})
    missing = [c for c in wanted if c not in frame.columns]
    if missing:
        raise ValueError(f"{contract.kind}: output is missing columns {missing}")
    out, failures = validate(frame[wanted].reset_index(drop=True), contract)
    if len(failures):
        sample = failures.head(5).to_dict("records")
        raise ValueError(f"{contract.kind}: {len(failures)} output values break the contract, e.g. {sample}")
    return out
