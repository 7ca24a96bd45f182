"""Great Expectations suites generated from the contract, run on bounded batches.

Every row-level rule is one expectation whose `meta` carries the rule id and column,
so a failed row can be traced to the rule that rejected it. GX has no polars engine:
each table is validated in slices of at most `batch_rows` rows converted to pandas, and
slices are cut on key boundaries so the uniqueness expectation stays exact.
"""

from __future__ import annotations

import itertools
import logging
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import great_expectations as gx
import great_expectations.expectations as gxe
import polars as pl
from great_expectations.data_context.types.base import ProgressBarsConfig

from regua.contract import Table
from regua.ingest.checks import (
    CUSTOMER_MATCHES_INVOICE,
    WITHIN_INVOICE_AMOUNT,
    compared_columns,
    reference_flag,
)
from regua.ingest.coerce import DOCUMENT_VALID, ambiguity_flag
from regua.ingest.read import SOURCE_LINE

log = logging.getLogger(__name__)
# GX forces INFO on this logger and announces every ephemeral context; keep our logs readable.
for _noisy in ("great_expectations", "great_expectations.data_context.types.base"):
    logging.getLogger(_noisy).setLevel(logging.WARNING)

SITE_NAME = "regua"
_CHUNK = "_chunk"
# pandas holds datetime64[ns]: 1677-09-21 to 2262-04-11. Dates beyond are clipped into it
# before GX sees them; every column's date range lies inside, so they still fail it.
_NS_FIRST, _NS_LAST = datetime(1678, 1, 1), datetime(2262, 1, 1)


@dataclass(frozen=True)
class Rule:
    """One row-level rule: its id, the column it is about, and a sentence for people."""

    id: str
    column: str
    description: str


def _expectation(kind: type, rule: Rule, **kwargs: Any) -> Any:
    return kind(
        **kwargs,
        meta={"rule": rule.id, "column": rule.column},
        description=rule.description,
    )


def build_suite(contract: Table) -> gx.ExpectationSuite:
    """The expectation suite of a canonical table, derived from the contract."""
    return gx.ExpectationSuite(name=f"regua.{contract.name}", expectations=expectations(contract))


def expectations(contract: Table) -> list[Any]:
    """Every row-level rule of a canonical table as a GX expectation (needs no context)."""
    suite: list[Any] = []
    key = list(contract.key)
    key_rule = Rule("unique_key", "+".join(key), f"{'+'.join(key)} is unique in the file")
    if len(key) == 1:
        suite.append(_expectation(gxe.ExpectColumnValuesToBeUnique, key_rule, column=key[0]))
    else:
        suite.append(_expectation(gxe.ExpectCompoundColumnsToBeUnique, key_rule, column_list=key))
    for c in contract.columns:
        if c.dtype.is_numeric():
            rule = Rule(
                "ambiguous_number",
                c.name,
                f"{c.name}'s separators do not fit the file's decimal mark (e.g. 1234.56 or "
                "1.234 with a decimal comma): not read at a guessed scale",
            )
            suite.append(
                _expectation(
                    gxe.ExpectColumnValuesToBeInSet,
                    rule,
                    column=ambiguity_flag(c.name),
                    value_set=[True],
                )
            )
        if not c.nullable:
            rule = Rule("not_null", c.name, f"{c.name} is present")
            suite.append(_expectation(gxe.ExpectColumnValuesToNotBeNull, rule, column=c.name))
        if c.allowed is not None:
            rule = Rule("allowed_values", c.name, f"{c.name} is one of {', '.join(c.allowed)}")
            suite.append(
                _expectation(
                    gxe.ExpectColumnValuesToBeInSet, rule, column=c.name, value_set=list(c.allowed)
                )
            )
        if c.min_value is not None or c.max_value is not None:
            bounds = (
                f"{'>' if c.strict_min else '>='} {c.min_value}" if c.min_value is not None else ""
            )
            if c.max_value is not None:
                bounds += f"{' and ' if bounds else ''}<= {c.max_value}"
            rule = Rule("range", c.name, f"{c.name} {bounds}")
            suite.append(
                _expectation(
                    gxe.ExpectColumnValuesToBeBetween,
                    rule,
                    column=c.name,
                    min_value=c.min_value,
                    max_value=c.max_value,
                    strict_min=c.strict_min,
                )
            )
        if c.dtype.is_temporal():
            rule = Rule("date_range", c.name, f"{c.name} between {c.min_date} and {c.max_date}")
            suite.append(
                _expectation(
                    gxe.ExpectColumnValuesToBeBetween,
                    rule,
                    column=c.name,
                    min_value=datetime.fromisoformat(c.min_date),
                    # the whole last day, for datetimes
                    max_value=datetime.fromisoformat(c.max_date).replace(hour=23, minute=59),
                )
            )
    for order in contract.date_orders:
        later, earlier = compared_columns(contract, order)
        where = f"the {order.via[:-1]}'s " if order.via else ""
        rule = Rule("date_order", order.later, f"{order.later} on or after {where}{order.earlier}")
        suite.append(
            _expectation(
                gxe.ExpectColumnPairValuesAToBeGreaterThanB,
                rule,
                column_A=later,
                column_B=earlier,
                or_equal=True,
                ignore_row_if="either_value_is_missing",
            )
        )
    for ref in contract.references:
        rule = Rule("reference", ref.column, f"{ref.column} exists in {ref.table}")
        suite.append(
            _expectation(
                gxe.ExpectColumnValuesToBeInSet,
                rule,
                column=reference_flag(ref.column),
                value_set=[True],
            )
        )
    if contract.name == "customers":
        rule = Rule("document_check_digits", "document", "CPF (PF) / CNPJ (PJ) check digits valid")
        suite.append(
            _expectation(
                gxe.ExpectColumnValuesToBeInSet, rule, column=DOCUMENT_VALID, value_set=[True]
            )
        )
    if contract.name == "payments":
        rule = Rule("reference_consistency", "customer_id", "customer_id is the invoice's customer")
        suite.append(
            _expectation(
                gxe.ExpectColumnValuesToBeInSet,
                rule,
                column=CUSTOMER_MATCHES_INVOICE,
                value_set=[True],
            )
        )
        rule = Rule(
            "overpayment",
            "amount",
            "payments of the invoice (invoice_id) add up to more than its amount plus the "
            "overpayment tolerance (config/ingest.yaml)",
        )
        suite.append(
            _expectation(
                gxe.ExpectColumnValuesToBeInSet,
                rule,
                column=WITHIN_INVOICE_AMOUNT,
                value_set=[True],
            )
        )
    return suite


def _for_pandas(frame: pl.DataFrame) -> pl.DataFrame:
    """Cast to the dtypes GX compares vectorised (datetime64[ns], int64, float64).

    With datetime64[ms] or int32 columns GX's range check falls back to a Python call
    per value, which is 20x slower. Dates pandas cannot hold (year 1 or 9999) are clipped
    to the edge of its range, still outside every date_range rule.
    """
    return frame.with_columns(
        pl.col(pl.Date).clip(_NS_FIRST.date(), _NS_LAST.date()).cast(pl.Datetime("ns")),
        pl.col(pl.Datetime).clip(_NS_FIRST, _NS_LAST).cast(pl.Datetime("ns")),
        pl.col(pl.Int8, pl.Int16, pl.Int32, pl.UInt8, pl.UInt16, pl.UInt32).cast(pl.Int64),
    )


def _raised(info: dict[str, Any] | None) -> str | None:
    """The message of an exception GX caught while computing a metric, if any.

    GX reports it either flat or keyed by metric id, and marks the expectation failed
    without unexpected rows: treating that as "no bad rows" would let data through.
    """
    if not info:
        return None
    if info.get("raised_exception"):
        return str(info.get("exception_message"))
    for value in info.values():
        if isinstance(value, dict) and value.get("raised_exception"):
            return str(value.get("exception_message"))
    return None


def rule_messages(contract: Table) -> pl.DataFrame:
    """Sentence per (rule, column) for the rejects, from the suite and the coercion rule."""
    rows = [
        {
            "rule": "type",
            "column": c.name,
            "message": f"{c.name} does not parse as "
            + ("a finite number" if c.dtype.is_numeric() else str(c.dtype).lower()),
        }
        for c in contract.columns
    ]
    for expectation in expectations(contract):
        meta = expectation.meta or {}
        if "rule" in meta:
            rows.append(
                {"rule": meta["rule"], "column": meta["column"], "message": expectation.description}
            )
    return pl.DataFrame(rows).unique(["rule", "column"], keep="first", maintain_order=True)


def validated_columns(suite: gx.ExpectationSuite) -> list[str]:
    """Columns the suite reads, so only those are converted to pandas."""
    columns: set[str] = set()
    for expectation in suite.expectations:
        config = expectation.configuration.kwargs
        for name in ("column", "column_A", "column_B"):
            if name in config:
                columns.add(config[name])
        columns.update(config.get("column_list", []))
    return sorted(columns)


@dataclass
class Validator:
    """A GX ephemeral context holding the regua suites and a Data Docs site."""

    docs_dir: Path | None = None
    batch_rows: int = 1_000_000
    _context: Any = field(init=False, repr=False)
    _definitions: dict[str, Any] = field(init=False, default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
        self._context = gx.get_context(mode="ephemeral")
        self._context.variables.progress_bars = ProgressBarsConfig(globally=False)
        if self.docs_dir is not None:
            self._context.add_data_docs_site(
                SITE_NAME,
                {
                    "class_name": "SiteBuilder",
                    "store_backend": {
                        "class_name": "TupleFilesystemStoreBackend",
                        "base_directory": str(self.docs_dir),
                    },
                    "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
                },
            )
        self._source = self._context.data_sources.add_pandas("regua_exports")

    def _definition(self, contract: Table) -> Any:
        if contract.name not in self._definitions:
            asset = self._source.add_dataframe_asset(contract.name)
            batch = asset.add_batch_definition_whole_dataframe(f"{contract.name}_batch")
            suite = self._context.suites.add(build_suite(contract))
            self._definitions[contract.name] = self._context.validation_definitions.add(
                gx.ValidationDefinition(name=f"validate_{contract.name}", data=batch, suite=suite)
            )
        return self._definitions[contract.name]

    def failures(self, frame: pl.DataFrame, contract: Table) -> pl.DataFrame:
        """Rows that break a rule: one row per (`_source_line`, rule, column)."""
        definition = self._definition(contract)
        columns = [c for c in validated_columns(definition.suite) if c in frame.columns]
        missing = set(validated_columns(definition.suite)) - set(frame.columns)
        if missing:
            raise ValueError(f"frame for {contract.name} lacks checked columns {sorted(missing)}")
        key = list(contract.key)
        ordered = (
            frame.select(*columns, SOURCE_LINE)
            .sort(key, nulls_last=True)
            .with_columns((pl.int_range(pl.len()) // self.batch_rows).alias(_CHUNK))
            .with_columns(pl.col(_CHUNK).min().over(key))
        )
        found: list[dict[str, Any]] = []
        # Sorted by key, so each chunk is a contiguous slice: no copy of the whole frame.
        starts = ordered.select(
            pl.arg_where(pl.col(_CHUNK) != pl.col(_CHUNK).shift(1).fill_null(-1))
        ).to_series()
        bounds = [*starts.to_list(), ordered.height]
        for chunk_id, (start, stop) in enumerate(itertools.pairwise(bounds)):
            chunk = ordered.slice(start, stop - start).drop(_CHUNK)
            batch = _for_pandas(chunk).to_pandas()
            del chunk
            result = definition.run(
                batch_parameters={"dataframe": batch},
                result_format={
                    "result_format": "COMPLETE",
                    "unexpected_index_column_names": [SOURCE_LINE],
                    "return_unexpected_index_query": False,
                },
            )
            log.debug("validated %s chunk %s: %d rows", contract.name, chunk_id, len(batch))
            for outcome in result.results:
                meta = outcome.expectation_config.meta or {}
                error = _raised(outcome.exception_info)
                if error:
                    raise RuntimeError(
                        f"rule {meta.get('rule')} on {contract.name}.{meta.get('column')} "
                        f"could not run: {error}"
                    )
                if outcome.success:
                    continue
                unexpected = outcome.result.get("unexpected_index_list")
                if not unexpected:
                    raise RuntimeError(
                        f"rule {meta.get('rule')} on {contract.name}.{meta.get('column')} failed "
                        "without naming rows"
                    )
                for item in unexpected:
                    line = int(item[SOURCE_LINE])
                    found.append(
                        {SOURCE_LINE: line, "rule": meta["rule"], "column": meta["column"]}
                    )
        return pl.DataFrame(
            found, schema={SOURCE_LINE: pl.Int64, "rule": pl.String, "column": pl.String}
        )

    def build_docs(self) -> Path | None:
        """Render the suites and this run's validation results to HTML."""
        if self.docs_dir is None:
            return None
        self._context.build_data_docs(site_names=[SITE_NAME])
        return self.docs_dir / "index.html"
