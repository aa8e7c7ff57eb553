"""Publication: the only writer of published.*, downstream of every check (R-INV-1, R-INV-2)."""

import os
import time
from collections.abc import Callable, Iterator
from contextlib import nullcontext

import dagster as dg
import duckdb
from dagster_dbt import get_asset_key_for_model
from dagster_dbt.asset_utils import get_manifest_and_translator_from_dbt_assets

from callbill.months import parse_invoice_month
from callbill.published_calls import record_fingerprints
from callbill.republication import drafts_differing_sql
from callbill.warehouse import connect, record_event, utc_now
from orchestration.defs.dbt import PUBLISHED_SOURCE, callbill_dbt_models
from orchestration.defs.engine import CallbillEngine
from orchestration.defs.partitions import PARTITIONS_MEAN, invoice_months

INVOICE_COLUMNS = "invoice_id, account_id, invoice_date, due_date, autopay_date, subtotal, tax_total, total"
# What the invoice records about its account when it is published. Copied, but not compared on a
# re-close: a renamed account does not change a published invoice, and invoices published before
# these columns existed have them empty.
INVOICE_ACCOUNT_COLUMNS = "account_name, tax_exempt_certificate_id"
LINE_COLUMNS = (
    "invoice_line_id, invoice_id, account_id, invoice_date, line_type, product_code, description, "
    "quantity, unit_price, amount, service_period_start, service_period_end, item_ids, line_key"
)
DRAFT_ASSETS = [
    get_asset_key_for_model([callbill_dbt_models], model)
    for model in ("fct_invoices", "fct_invoice_lines", "fct_rated_calls")
]
PUBLICATION = dg.AssetKey("publish_invoices")
# The tables publication appends to, in the order it writes them; each the dbt source published.<table>.
PUBLISHED_TABLES = ("invoices", "invoice_lines", "rated_calls", "invoice_months")
# What each month's publication appended to each table (the keys of publish_month's details).
APPENDED = {"invoices": "invoices", "invoice_lines": "lines", "rated_calls": "calls", "invoice_months": "months"}


class PublicationError(Exception):
    """A month whose drafts cannot be published as they are (the transaction is rolled back)."""


class PublicationRefused(Exception):
    """A published month whose rebuilt drafts differ from what was published."""


def drafts_differing_from_published(con: duckdb.DuckDBPyConnection, invoice_date: str) -> tuple[int, str | None]:
    """Invoices of the month whose rebuilt draft (or any line of it) differs from the published one:
    how many, and the first of them."""
    return con.execute(drafts_differing_sql("$d"), {"d": invoice_date}).fetchone()


def first_difference(total_and_lines: Callable[[str, str], tuple], invoice_id: str) -> str:
    """What differs in one invoice, for the refusal: its published and rebuilt totals and line counts
    (total_and_lines(invoices table, lines table) reads them on the engine)."""
    published, rebuilt = (
        total_and_lines(invoices, lines)
        for invoices, lines in (
            ("published.invoices", "published.invoice_lines"),
            ("marts.fct_invoices", "marts.fct_invoice_lines"),
        )
    )
    return (
        f"e.g. {invoice_id}: published total {published[0]} in {published[1]} line(s), "
        f"rebuilt {rebuilt[0]} in {rebuilt[1]} line(s)"
    )


def reproduced_or_refused(invoice_month: str, details: dict[str, object]) -> dict[str, object]:
    """A published month closed again: the outcome if its rebuilt drafts reproduce it, else refused."""
    if details["differing_invoices"]:
        raise PublicationRefused(
            f"{invoice_month} is already published and {details['differing_invoices']} rebuilt invoice(s) differ "
            f"from it ({details['first_difference']}); published invoices never change: corrections go on the "
            "next invoice (R-INV-2)"
        )
    return {"status": "already published, reproduced unchanged", **details}


def record_adjustments_applied(con: duckdb.DuckDBPyConnection, adjustments: list[tuple], invoice_date: str) -> None:
    """R-AUDIT-1: each adjustment (credit, correction, account credit) that reached a customer."""
    for invoice_id, key, description, amount in adjustments:
        record_event(
            con,
            "adjustment_applied",
            {"invoice_id": invoice_id, "adjustment": key, "description": description, "amount": str(amount)},
            invoice_date,
        )


def publication_pause() -> None:
    """Fault injection for the crash tests: hold the publication with half the month written."""
    time.sleep(float(os.environ.get("CALLBILL_PUBLICATION_PAUSE_SECONDS", "0")))


def publish_month_on_spark(invoice_month: str) -> dict[str, object]:
    """publish_month on Spark: the month's partitions written, then its invoice_months row appended,
    which publishes it (callbill/spark_warehouse.py); a published month is only compared."""
    from callbill import spark_warehouse

    spark = spark_warehouse.session()
    invoice_date = parse_invoice_month(invoice_month).isoformat()
    if spark_warehouse.is_published(spark, invoice_date):
        (already,) = spark_warehouse.rows(
            spark, f"select count(*) from published.invoices where invoice_date = {spark_warehouse.day(invoice_date)}"
        )[0]
        differing, first = spark_warehouse.drafts_differing_from_published(spark, invoice_date)
        details: dict[str, object] = {"published_invoices": already, "differing_invoices": differing}
        if differing:
            details["first_difference"] = first_difference(
                lambda invoices, lines: spark_warehouse.invoice_total_and_lines(spark, invoices, lines, first), first
            )
        with connect() as con:
            record_event(con, "publication_refused" if differing else "publication_reproduced", details, invoice_date)
        return reproduced_or_refused(invoice_month, details)
    published_at = utc_now()
    spark_warehouse.write_month(spark, invoice_date, published_at)
    publication_pause()
    first_call, republished = spark_warehouse.calls_published_before(spark, invoice_date)
    if republished:
        raise PublicationError(
            f"{republished} rated call(s) of {invoice_month} are already published (e.g. {first_call})"
        )
    details = spark_warehouse.commit_month(spark, invoice_date, published_at)
    spark_warehouse.mark_drafts_published(spark, invoice_date, published_at)
    details["published_at"] = published_at.isoformat()
    with connect() as con:
        record_event(con, "publication", details, invoice_date)
        record_adjustments_applied(con, spark_warehouse.adjustments_of(spark, invoice_date), invoice_date)
    return {"status": "published", **details}


def publish_month(con: duckdb.DuckDBPyConnection, invoice_month: str) -> dict[str, object]:
    """Append one month's drafts to published.* in one transaction; a published month is only compared."""
    invoice_date = parse_invoice_month(invoice_month).isoformat()
    con.execute("begin transaction")
    try:
        # A month published with no invoices is published too: its invoice_months row records it.
        recorded, already = con.execute(
            "select exists (select 1 from published.invoice_months where invoice_date = $d), "
            "(select count(*) from published.invoices where invoice_date = $d)",
            {"d": invoice_date},
        ).fetchone()
        if recorded or already:
            differing, first = drafts_differing_from_published(con, invoice_date)
            details = {"published_invoices": already, "differing_invoices": differing}
            if differing:
                details["first_difference"] = first_difference(
                    lambda invoices, lines: con.execute(
                        f"select (select total from {invoices} where invoice_id = $id), "
                        f"(select count(*) from {lines} where invoice_id = $id)",
                        {"id": first},
                    ).fetchone(),
                    first,
                )
            record_event(con, "publication_refused" if differing else "publication_reproduced", details, invoice_date)
            con.execute("commit")
            return reproduced_or_refused(invoice_month, details)
        published_at = utc_now()
        con.execute(
            f"insert into published.invoices ({INVOICE_COLUMNS}, {INVOICE_ACCOUNT_COLUMNS}, status, published_at) "
            f"select {INVOICE_COLUMNS}, {INVOICE_ACCOUNT_COLUMNS}, 'published', ? "
            "from marts.fct_invoices where invoice_date = ? order by invoice_id",
            [published_at, invoice_date],
        )
        con.execute(
            f"insert into published.invoice_lines ({LINE_COLUMNS}) select {LINE_COLUMNS} "
            "from marts.fct_invoice_lines where invoice_date = ? order by invoice_id, invoice_line_id",
            [invoice_date],
        )
        publication_pause()
        # The month's calls are published by reference: they stay in marts.fct_rated_calls, and the
        # invoice_months row below puts them in published.rated_calls (callbill/warehouse.py).
        # A call is published once: one hash join of the month's calls against the published ones.
        # A call id is one landed call (R-RATE-7), so a published one has the same start time: only
        # the published calls that started within the month's range are read (zone maps skip the
        # other months), and the check does not grow with the history.
        first_start, last_start = con.execute(
            "select min(start_time_utc), max(start_time_utc) from marts.fct_rated_calls where invoice_date = ?",
            [invoice_date],
        ).fetchone()
        republished = con.execute(
            "select min(call_id), count(*) from marts.fct_rated_calls as drafts "
            "where drafts.invoice_date = ? "
            "and drafts.call_id in (select call_id from published.rated_calls where start_time_utc between ? and ?)",
            [invoice_date, first_start, last_start],
        ).fetchone()
        if republished[1]:
            raise PublicationError(
                f"{republished[1]} rated call(s) of {invoice_month} are already published (e.g. {republished[0]})"
            )
        con.execute(
            "update marts.fct_invoices set status = 'published', published_at = ? where invoice_date = ?",
            [published_at, invoice_date],
        )
        count, total, usf = con.execute(
            "select count(*), coalesce(sum(total), 0), "
            "(select coalesce(sum(amount), 0) from published.invoice_lines where invoice_date = $d "
            " and line_type = 'usf') from published.invoices where invoice_date = $d",
            {"d": invoice_date},
        ).fetchone()
        # Calls landed after this are late for the month (R-LATE-1): the close saw every call up to it.
        con.execute(
            "insert into published.invoice_months (invoice_date, published_at, calls_landed_through, invoices, total) "
            "select ?, ?, "
            "(select calls_landed_through from intermediate.int_calls_landed_through), ?, ?",
            [invoice_date, published_at, count, total],
        )
        # The month's calls as published, for every later close to compare (R-INV-2).
        record_fingerprints(con, "invoice_date = $d", {"d": invoice_date})
        lines, calls = con.execute(
            "select (select count(*) from published.invoice_lines where invoice_date = $d), "
            "(select rated_calls from published.invoice_months where invoice_date = $d)",
            {"d": invoice_date},
        ).fetchone()
        details = {
            "invoices": count,
            "lines": lines,
            "calls": calls,
            "months": 1,
            "total": str(total),
            "usf": str(usf),
            "published_at": published_at.isoformat(),
        }
        record_event(con, "publication", details, invoice_date)
        adjustments = con.execute(
            "select invoice_id, line_key, description, amount from published.invoice_lines "
            "where invoice_date = ? and line_type = 'adjustment' order by invoice_id, line_key",
            [invoice_date],
        ).fetchall()
        record_adjustments_applied(con, adjustments, invoice_date)
        con.execute("commit")
    except PublicationRefused:
        raise
    except Exception:
        con.execute("rollback")
        raise
    return {"status": "published", **details}


def source_spec(source_name: str, table: str, **attributes: object) -> dg.AssetSpec:
    """A dbt source as an asset: its key and its description from the dbt project."""
    manifest, translator, _ = get_manifest_and_translator_from_dbt_assets([callbill_dbt_models])
    source = manifest["sources"][f"source.callbill.{source_name}.{table}"]
    return dg.AssetSpec(
        key=translator.get_asset_key(source),
        owners=["team:billing"],
        kinds={"duckdb"},
        description=f"{source_name}.{table}: {' '.join(source['description'].split())}",
        **attributes,
    )


# published.<table> as assets of the publication group, written by the publish_invoices step; the
# ledger models read them (their dbt sources).
PUBLISHED_TABLE_SPECS = [
    source_spec(PUBLISHED_SOURCE, table, deps=[PUBLICATION], group_name="publication") for table in PUBLISHED_TABLES
]
# audit.billing_events, which callbill writes at every landing, close, publication and export (not a
# Dagster step: an external asset); the dunning list reads the autopay runs from it.
AUDIT_LOG = source_spec("audit", "billing_events", group_name="audit")
PUBLICATION_KEYS = [PUBLICATION, *(spec.key for spec in PUBLISHED_TABLE_SPECS)]


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            key=PUBLICATION,
            deps=DRAFT_ASSETS,
            group_name="publication",
            owners=["team:billing"],
            description="Publication: appends the month's draft invoices and their lines to published.* and "
            "publishes its rated calls where they are (published.rated_calls, a view of marts.fct_rated_calls) "
            "in one transaction, once every blocking check of the month has passed (R-INV-1). A published month "
            "never changes (R-INV-2): closed again, its rebuilt drafts are compared and either reproduce it or "
            "the step fails naming the first invoice that differs. " + PARTITIONS_MEAN,
        ),
        *PUBLISHED_TABLE_SPECS,
    ],
    partitions_def=invoice_months,
    backfill_policy=dg.BackfillPolicy.single_run(),
    can_subset=False,
)
def publish_invoices(context: dg.AssetExecutionContext, engine: CallbillEngine) -> Iterator[dg.MaterializeResult]:
    outcomes = {}
    with nullcontext() if engine.on_spark else connect() as con:
        for month in context.partition_keys:
            try:
                outcomes[month] = publish_month_on_spark(month) if engine.on_spark else publish_month(con, month)
            except PublicationRefused as refused:
                raise dg.Failure(description=str(refused)) from None
            context.log.info(f"{month}: {outcomes[month]['status']}")
    yield dg.MaterializeResult(asset_key=PUBLICATION, metadata={"months": dg.MetadataValue.json(outcomes)})
    # A month closed again appends nothing: its tables are materialized with 0 rows appended.
    for table, spec in zip(PUBLISHED_TABLES, PUBLISHED_TABLE_SPECS, strict=True):
        appended = {month: outcome.get(APPENDED[table], 0) for month, outcome in outcomes.items()}
        yield dg.MaterializeResult(
            asset_key=spec.key,
            metadata={"rows_appended": sum(appended.values()), "by_month": dg.MetadataValue.json(appended)},
        )
