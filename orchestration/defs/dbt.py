"""dbt models, seeds and tests as Dagster assets and checks, partitioned by invoice month."""

import json
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import dagster as dg
import duckdb
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, dbt_assets

from callbill.months import dbt_vars_for_invoice_months, invoice_month_environment
from callbill.project import callbill_project, project_version
from callbill.warehouse import connect, environment_variables, prepare_sources_for_dbt, record_event
from orchestration.defs.engine import CallbillEngine
from orchestration.defs.partitions import invoice_months
from orchestration.speedups import preload
from orchestration.speedups.dbt_in_process import CallbillDbtResource, DbtBuildInProcess

LAYER_GROUPS = {"staging": "staging", "intermediate": "intermediate", "marts": "marts"}
AREA_GROUPS = {
    "rating": "rating",
    "invoicing": "invoicing",
    "billing": "invoicing",
    "receivables": "receivables",
    "commissions": "commissions",
    "reports": "reports",
}
# Payments, receivables, commissions and reports read published invoices: they build after publication.
LEDGER_MODEL_PATHS = ("intermediate/receivables/", "marts/receivables/", "marts/commissions/", "marts/reports/")
LEDGER_SELECTION = " ".join(f"path:models/{path.rstrip('/')}" for path in LEDGER_MODEL_PATHS)
# The dbt source `published`: tables the publish_invoices step writes (orchestration/defs/publish.py).
PUBLISHED_SOURCE = "published"


def is_ledger_node(manifest: Mapping[str, Any], unique_id: str) -> bool:
    """A ledger model (built after publication), or a test attached to one."""
    node = manifest.get("nodes", {}).get(unique_id, {})
    attached = node.get("attached_node") or next(
        (parent for parent in node.get("depends_on", {}).get("nodes", []) if parent.startswith("model.")), None
    )
    if node.get("resource_type") == "test" and attached:
        node = manifest["nodes"].get(attached, {})
    return node.get("original_file_path", "").startswith(tuple(f"models/{p}" for p in LEDGER_MODEL_PATHS))


def without_published(deps: Any) -> list[Any]:
    return [dep for dep in deps if dep.asset_key.path[0] != PUBLISHED_SOURCE]


def referenced_name(expression: str) -> str:
    """ "ref('fct_invoices')" -> 'fct_invoices'; "source('published', 'invoices')" -> 'published.invoices'."""
    names = re.findall(r"""['"]([^'"]+)['"]""", expression)
    return ".".join(names) or expression


def describe_generic_test(test: Mapping[str, Any], manifest: Mapping[str, Any]) -> str:
    """A generic dbt test's own words, from its metadata: 'fct_invoices.invoice_id is unique.'"""
    metadata = test.get("test_metadata") or {}
    kwargs = metadata.get("kwargs", {})
    attached = manifest.get("nodes", {}).get(test.get("attached_node") or "", {})
    model = attached.get("name") or referenced_name(kwargs.get("model", ""))
    column = f"{model}.{kwargs['column_name']}" if kwargs.get("column_name") else model
    in_months = " in the unpublished invoice months being built"
    kind = metadata.get("name", "")
    if kind == "not_null":
        text = f"{column} is never empty."
    elif kind in ("unique", "unique_in_unpublished_invoice_months"):
        text = f"{column} is unique: no two rows share a value{in_months if 'unpublished' in kind else ''}."
    elif kind in ("accepted_values", "accepted_values_in_unpublished_invoice_months"):
        text = f"{column} is one of {', '.join(map(str, kwargs.get('values', [])))}."
    elif kind in ("relationships", "relationships_in_unpublished_invoice_months"):
        text = f"Every {column} is a {referenced_name(kwargs.get('to', ''))}.{kwargs.get('field')}."
    elif kind == "last_four_digits_only":
        text = f"{column} holds at most the last four digits of a card or bank account number (R-PAY-1, PCI DSS 3.4)."
    elif kind == "invoice_total_equals_sum_of_lines":
        text = (
            f"R-INV-3: every invoice of {model} balances: its total equals the sum of its lines to the cent, "
            "and subtotal + tax_total."
        )
    else:
        text = f"dbt test {kind} on {column}."
    return f"{text} {severity_note(test, manifest)}".strip()


def severity_note(test: Mapping[str, Any], manifest: Mapping[str, Any]) -> str:
    if (test.get("config", {}).get("severity") or "error").lower() == "warn":
        return "Warns: reported with its rows, never blocks."
    if is_ledger_node(manifest, test["unique_id"]):
        return "Checked after publication, on the ledger models."
    return "Blocks publication (R-INV-1)."


def node_description(node: Mapping[str, Any]) -> str:
    """A dbt node's own description, without dagster-dbt's raw SQL: the SQL is in the code reference."""
    description = " ".join((node.get("description") or "").split())
    return description or f"dbt {node['resource_type']} {node['name']} (no description in its YAML)"


class CallbillTranslator(DagsterDbtTranslator):
    """Groups by layer (and business area for intermediate/marts); sources stay `landing/<entity>`.

    Lineage: drafts -> publish_invoices -> published.* -> ledger models. The drafts read earlier
    months' published invoices too (corrections, late calls, credits), but Dagster's graph takes no
    cycle: their links to published.* are left out, the ledger models keep theirs."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        resource_type = dbt_resource_props["resource_type"]
        if resource_type == "seed":
            return "reference"
        if resource_type == "source":
            return dbt_resource_props["source_name"]
        fqn = dbt_resource_props["fqn"]
        layer = fqn[1] if len(fqn) > 2 else "marts"
        if layer == "staging":
            return "staging"
        return AREA_GROUPS.get(fqn[2], LAYER_GROUPS.get(layer, layer)) if len(fqn) > 3 else layer

    def get_owners(self, dbt_resource_props: Mapping[str, Any]) -> list[str]:
        return ["team:billing"]

    def get_description(self, dbt_resource_props: Mapping[str, Any]) -> str:
        return node_description(dbt_resource_props)

    def get_asset_spec(self, manifest: Mapping[str, Any], unique_id: str, project: Any) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        if is_ledger_node(manifest, unique_id) or len(without_published(spec.deps)) == len(spec.deps):
            return spec
        return spec.replace_attributes(deps=without_published(spec.deps))

    def get_asset_check_spec(
        self, asset_spec: dg.AssetSpec, manifest: Mapping[str, Any], unique_id: str, project: Any
    ) -> dg.AssetCheckSpec | None:
        spec = super().get_asset_check_spec(asset_spec, manifest, unique_id, project)
        if spec is None:
            return None
        additional_deps = list(spec.additional_deps)
        if not is_ledger_node(manifest, unique_id):
            additional_deps = without_published(additional_deps)
        # The test's description in its YAML (dagster-dbt reads only meta.description), else its own
        # words from its metadata.
        test = manifest["nodes"][unique_id]
        description = " ".join((test.get("description") or spec.description or "").split())
        return dg.AssetCheckSpec(
            name=spec.name,
            asset=spec.asset_key,
            description=description or describe_generic_test(test, manifest),
            additional_deps=additional_deps,
            blocking=spec.blocking,
            metadata=spec.metadata,
        )


# Code references: each asset links to its SQL file, which the description no longer carries.
translator = CallbillTranslator(
    settings=DagsterDbtTranslatorSettings(enable_asset_checks=True, enable_code_references=True)
)


def built(run_results: Mapping[str, Any], unique_id: str) -> bool:
    return any(r["unique_id"] == unique_id and r.get("status") == "success" for r in run_results.get("results", []))


def rating_reuse_summary(con: duckdb.DuckDBPyConnection) -> str:
    """What the build rated afresh and what it kept from the build before (int_rating_inputs)."""
    months, kept, calls = con.execute(
        "select count(*), count(kept_through), coalesce(sum(call_count), 0) from intermediate.int_rating_inputs"
    ).fetchone()
    return (
        f"rating: {calls:,} calls in {months:,} account-months of unpublished months; {kept:,} account-months "
        f"kept from the build before (only their new calls rated), {months - kept:,} rated afresh"
    )


def failed_dbt_nodes(
    run_results: Mapping[str, Any],
    statuses: tuple[str, ...] = ("fail", "error"),
    read_rows: Callable[[str], list[dict[str, str]]] | None = None,
) -> list[dict[str, Any]]:
    """Tests that failed (or, with statuses=("warn",), warned) and nodes that errored in a dbt
    run_results.json, by name; a test with its first failing rows, so the billing team sees what to
    fix without reading its SQL."""
    failures = []
    for result in run_results.get("results", []):
        if result.get("status") in statuses:
            unique_id = result["unique_id"]
            failure: dict[str, Any] = {
                "check": unique_id.split(".")[2],
                "kind": unique_id.split(".")[0],
                "status": result["status"],
                "message": error_reason(result.get("message") or ""),
            }
            if failure["kind"] == "test" and result["status"] in ("fail", "warn") and result.get("compiled_code"):
                failure["failing_rows"] = result.get("failures")
                failure["first_failing_rows"] = (read_rows or first_failing_rows)(result["compiled_code"])
            failures.append(failure)
    return failures


def first_failing_rows(test_sql: str, limit: int = 3) -> list[dict[str, str]]:
    """A failed dbt test's first rows (its SQL selects the failing rows), as text."""
    try:
        with connect() as con:
            cursor = con.execute(f"select * from ({test_sql}) as failing limit {limit}")
            columns = [d[0] for d in cursor.description]
            return [{c: str(v) for c, v in zip(columns, row, strict=True)} for row in cursor.fetchall()]
    except Exception:  # the reason is still reported without its rows
        return []


def first_failing_rows_on_spark(test_sql: str, limit: int = 3) -> list[dict[str, str]]:
    """As first_failing_rows, from the Spark tables the build wrote."""
    from callbill.spark_warehouse import session

    try:
        found = session().sql(f"select * from ({test_sql}) as failing limit {limit}").collect()
        return [{column: str(value) for column, value in row.asDict().items()} for row in found]
    except Exception:  # the reason is still reported without its rows
        return []


def spark_build_settings() -> tuple[list[str], dict[str, str]]:
    """The arguments and environment of a dbt build on Spark: the spark target, the landed tables
    registered as it starts, and its own target folder (its manifest is not the DuckDB project's)."""
    from callbill.spark import dbt_target_path, export_sources, sources_vars, spark_dir
    from callbill.spark_warehouse import session

    session()  # dbt-spark builds in this process's session, started here with Spark's logging quiet
    # The audit log is the one source that changes between landings (the ledgers read its autopay runs).
    export_sources(spark_dir() / "sources", only={("audit", "billing_events")})
    arguments = ["--target", "spark", "--vars", json.dumps(sources_vars())]
    environment = {"DBT_TARGET_PATH": str(dbt_target_path()), "CALLBILL_SPARK_DIR": str(spark_dir())}
    return arguments, environment


def describe_test_failure(failure: Mapping[str, Any]) -> str:
    rows = failure.get("first_failing_rows")
    if not rows:
        return failure["check"]
    return f"{failure['check']} ({failure['failing_rows']} failing row(s), e.g. {rows[0]})"


def describe_build_failures(failures: list[Mapping[str, Any]]) -> str:
    """The failed nodes of a build: nodes that failed with the same error (a broken macro fails
    every model that calls it) named together before it, then each failed test."""
    errors: dict[str, list[str]] = {}
    for failure in failures:
        if failure["kind"] != "test":
            errors.setdefault(failure["message"], []).append(failure["check"])
    described = [f"{', '.join(names)}: {message}" for message, names in errors.items()]
    return "; ".join(described + [describe_test_failure(f) for f in failures if f["kind"] == "test"])


def error_reason(message: str) -> str:
    """dbt wraps a database error in context lines (model, SQL excerpt): keep the error's own line.
    A compilation error has no such line: its text between dbt's heading ("Compilation Error in
    model …") and the macro trace ("> in macro …"), with the macro it arose in."""
    lines = [line.strip() for line in message.strip().splitlines() if line.strip()]
    errors = [line for line in lines if "Error:" in line]
    if errors:
        return errors[0]
    body = lines[1:] if lines and " Error in " in lines[0] else lines
    text = [line for line in body if not line.startswith(">")]
    if not text:
        return lines[-1] if lines else ""
    macro = next((line.removeprefix("> in ") for line in lines if line.startswith("> in macro ")), None)
    return " ".join(text) + (f" (in {macro})" if macro else "")


def dbt_build(context: dg.AssetExecutionContext, dbt: CallbillDbtResource, engine: CallbillEngine) -> Iterator[Any]:
    """`dbt build` of the selected models for the partition (range), with failures in the audit table."""
    key_range = context.partition_key_range
    dbt_vars = dbt_vars_for_invoice_months(key_range.start, key_range.end)
    context.log.info(f"dbt build for invoice months {key_range.start}..{key_range.end} on {engine.name}")
    # dbt unit tests check the SQL, not the month's data: CI runs them (tests/test_dbt_unit_tests.py).
    preload.wait(preload.DBT)  # never import dbt's modules on two threads at once
    # A failed or warned test's check result waits for the end of the build, when its first failing
    # rows can be read (dbt holds the warehouse until then): its description names them.
    held: list[dg.AssetCheckResult] = []
    arguments, environment, read_rows = [], {}, None
    if engine.on_spark:
        arguments, environment = spark_build_settings()
        read_rows = first_failing_rows_on_spark
    else:
        prepare_sources_for_dbt()
        # a draft re-close keeps what an earlier build rated with the same project (int_rating_inputs)
        environment = {"CALLBILL_PROJECT_VERSION": project_version()}
    with environment_variables({**invoice_month_environment(dbt_vars), **environment}):
        build = DbtBuildInProcess(context, dbt, ["build", "--exclude-resource-type", "unit_test", *arguments])
        for event in build.events():
            if isinstance(event, dg.AssetCheckResult) and not event.passed:
                held.append(event)
            else:
                yield event
    run_results = build.run_results()
    failures = failed_dbt_nodes(run_results, read_rows=read_rows)
    # A warn-severity test (R-INV-5's recipients, a partner not landed) bills the account and names
    # what it found: its rows go to the audit, the close's output, status and the Close status page.
    warnings = failed_dbt_nodes(run_results, ("warn",), read_rows=read_rows)
    found = {finding["check"]: finding for finding in [*failures, *warnings] if finding["kind"] == "test"}
    for result in held:
        finding = found.get(result.check_name or "")
        yield result._replace(description=describe_test_failure(finding)) if finding else result
    if build.error is not None:
        raise dg.Failure(description=f"dbt build failed for {key_range.start}..{key_range.end}: {build.error}")
    with connect() as con:
        if not engine.on_spark and built(run_results, "model.callbill.int_rating_inputs"):
            context.log.info(rating_reuse_summary(con))
        for event_type, findings in (("check_warned", warnings), ("check_failed", failures)):
            for finding in findings:
                record_event(
                    con,
                    event_type,
                    {"source": "dbt", "run_id": context.run.run_id, **finding},
                    dbt_vars["invoice_month_start"],
                )
    if failures:
        names = describe_build_failures(failures)
        raise dg.Failure(
            description=f"dbt build failed for {key_range.start}..{key_range.end}: {names}",
            metadata={"failures": dg.MetadataValue.json(failures)},
        )


@dbt_assets(
    manifest=callbill_project.manifest_path,
    project=callbill_project,
    exclude=LEDGER_SELECTION,
    partitions_def=invoice_months,
    dagster_dbt_translator=translator,
    # A backfill arrives as one range; the models build every month of it in one dbt run.
    backfill_policy=dg.BackfillPolicy.single_run(),
)
def callbill_dbt_models(
    context: dg.AssetExecutionContext, dbt: CallbillDbtResource, engine: CallbillEngine
) -> Iterator[Any]:
    """Staging, rating and invoicing: the draft invoices of the invoice month(s)."""
    key_range = context.partition_key_range
    with connect() as con:
        from callbill.landing.land import ensure_raw_tables

        if not engine.on_spark:
            ensure_raw_tables(con)  # a warehouse landed before an entity existed still has its (empty) source
        record_event(
            con,
            "close_started",
            {"run_id": context.run.run_id, "months": f"{key_range.start}..{key_range.end}"},
            dbt_vars_for_invoice_months(key_range.start, key_range.end)["invoice_month_start"],
        )
    yield from dbt_build(context, dbt, engine)


@dbt_assets(
    manifest=callbill_project.manifest_path,
    project=callbill_project,
    select=LEDGER_SELECTION,
    partitions_def=invoice_months,
    dagster_dbt_translator=translator,
    backfill_policy=dg.BackfillPolicy.single_run(),
)
def callbill_ledger_models(
    context: dg.AssetExecutionContext, dbt: CallbillDbtResource, engine: CallbillEngine
) -> Iterator[Any]:
    """Payments, receivables, autopay charges and commissions, over every published invoice."""
    yield from dbt_build(context, dbt, engine)
