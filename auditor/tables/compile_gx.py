"""Table checks → a Great Expectations 1.x ExpectationSuite, a GX validation run, and GX results back
to failing rows.

Each TableCheck becomes one expectation on the canonical frame:

    not_null    ExpectColumnValuesToNotBeNull
    matches     ExpectColumnValuesToMatchRegex
    between     ExpectColumnValuesToBeBetween (strict_max where the check says so)
    in_set      ExpectColumnValuesToBeInSet
    not_in_set  ExpectColumnValuesToNotBeInSet

with the check's `where` as a pandas ``row_condition`` (``condition_parser="pandas"``) and
``meta = {"auditor_check": id, "rule": rule}`` so a result finds its way back to the rule. The
validation runs with ``result_format=COMPLETE`` and reads ``unexpected_index_list``.

The context is ephemeral unless a GX project folder is given (``--gx-project``): then the data
source, suite and validation definition are added (or updated) there under the name
``auditor``, and results are kept in the project's stores. ``data_docs`` builds GX's Data Docs: ""
means the project's own sites (or ``gx-data-docs/`` for an ephemeral context), a folder adds a site
there.

great_expectations is imported only here, and only when a function below runs.
"""

from __future__ import annotations

import json
import logging
import math
import os
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from ..errors import UsageError
from .plan import Cond, TableCheck

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

NAME = "auditor"
DEFAULT_DOCS_DIR = "gx-data-docs"  # Data Docs of an ephemeral run when no folder is named


def _gx():
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import great_expectations as gx
    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    return gx


def _lit(value: Any) -> str:
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, float):
        return repr(float(value))
    if isinstance(value, (tuple, list)):
        return "[" + ", ".join(_lit(v) for v in value) + "]"
    return repr(value)


def row_condition(where: Sequence[Cond]) -> str | None:
    """The check's condition as a pandas query (what GX's pandas condition parser takes)."""
    parts = []
    for c in where:
        if c.op == "in":
            parts.append(f"{c.column} in {_lit(tuple(c.value))}")
        else:
            parts.append(f"{c.column} {c.op} {_lit(c.value)}")
    return " and ".join(parts) if parts else None


def expectation(check: TableCheck):
    gx = _gx()
    E = gx.expectations
    kw: dict[str, Any] = {"column": check.column,
                          "meta": {"auditor_check": check.id, "rule": check.rule, "what": check.what}}
    cond = row_condition(check.where)
    if cond:
        kw.update(row_condition=cond, condition_parser="pandas")
    if check.test == "not_null":
        return E.ExpectColumnValuesToNotBeNull(**kw)
    if check.test == "matches":
        return E.ExpectColumnValuesToMatchRegex(regex=check.regex, **kw)
    if check.test == "between":
        return E.ExpectColumnValuesToBeBetween(min_value=check.min_value, max_value=check.max_value,
                                               strict_max=check.strict_max, **kw)
    if check.test == "in_set":
        return E.ExpectColumnValuesToBeInSet(value_set=list(check.value_set), **kw)
    if check.test == "not_in_set":
        return E.ExpectColumnValuesToNotBeInSet(value_set=list(check.value_set), **kw)
    raise ValueError(f"unknown test {check.test}")


def build_suite(checks: Sequence[TableCheck], name: str = NAME, context=None):
    """The suite; GX wants an active data context for that (an ephemeral one unless given)."""
    gx = _gx()
    if context is None:
        context = _context(None, None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        suite = gx.ExpectationSuite(name=name, meta={"generated_by": "auditor"})
        for c in checks:
            suite.add_expectation(expectation(c))
    return suite


def suite_json(checks: Sequence[TableCheck], name: str = NAME) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = build_suite(checks, name).to_json_dict()
    data.pop("id", None)
    for e in data.get("expectations", []):
        e.pop("id", None)
    return json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n"


def _context(project: str | os.PathLike | None, data_docs: str | os.PathLike | None):
    gx = _gx()
    if project is None:
        context = gx.get_context(mode="ephemeral")
    else:
        root = Path(project)
        if not root.is_dir():
            raise UsageError("--gx-project: no such folder", path=str(root))
        context = gx.get_context(mode="file", project_root_dir=str(root))
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    if _own_site(project, data_docs):
        base = Path(data_docs or DEFAULT_DOCS_DIR).resolve()
        base.mkdir(parents=True, exist_ok=True)
        context.add_data_docs_site(NAME, {
            "class_name": "SiteBuilder",
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(base)},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        })
    return context


def _own_site(project, data_docs) -> bool:
    """Whether the run adds a Data Docs site of its own: a folder was named, or the context is
    ephemeral (then ``gx-data-docs/``); a project with no folder named builds its own sites."""
    return data_docs is not None and (project is None or bool(data_docs))


def run_validation(checks: Sequence[TableCheck], frame: "pd.DataFrame", *, project=None, data_docs=None,
                   name: str = NAME) -> tuple[dict[str, list[int]], Any]:
    """Validate `frame` against the compiled suite: check id → failing row indexes, and the GX result."""
    with warnings.catch_warnings():  # GX's own deprecation noise is not the user's business
        warnings.simplefilter("ignore")
        return _run_validation(checks, frame, project, data_docs, name)


def _run_validation(checks, frame, project, data_docs, name):
    gx = _gx()
    context = _context(project, data_docs)
    if not checks:
        return {}, None
    source = context.data_sources.add_or_update_pandas(name)
    asset = next((a for a in source.assets if a.name == name), None) or source.add_dataframe_asset(name)
    batch_def = next((b for b in asset.batch_definitions if b.name == name), None) \
        or asset.add_batch_definition_whole_dataframe(name)
    suite = context.suites.add_or_update(build_suite(checks, name, context))
    definition = context.validation_definitions.add_or_update(
        gx.ValidationDefinition(data=batch_def, suite=suite, name=name))
    result = definition.run(batch_parameters={"dataframe": frame}, result_format={"result_format": "COMPLETE"})
    if data_docs is not None:
        # Only the site asked for: an ephemeral context also has a default site in a temporary
        # folder of its own, which building every site filled (4 MB) and left behind on each run.
        context.build_data_docs(site_names=[NAME] if _own_site(project, data_docs) else None)
    failing: dict[str, list[int]] = {}
    for r in result.results:
        meta = r.expectation_config.meta or {}
        check_id = meta.get("auditor_check")
        if check_id is None:
            continue
        if r.exception_info and r.exception_info.get("raised_exception"):
            raise RuntimeError(f"GX could not run {check_id}: {r.exception_info.get('exception_message')}")
        if r.success:
            continue
        indexes = (r.result or {}).get("unexpected_index_list") or []
        rows = sorted({int(i) for i in indexes if not (isinstance(i, float) and math.isnan(i))})
        if rows:
            failing[check_id] = rows
    return failing, result
