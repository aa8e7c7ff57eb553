"""`callbill status`: what has landed, which months are drafted / published, open check failures."""

from pathlib import Path

from callbill.published_calls import ChangedMonth, changed_months
from callbill.warehouse import connect, table_exists


def warehouse_status(warehouse: Path | None = None, on_spark: bool = False) -> dict[str, list[tuple]]:
    """On Spark, the invoice months and the published calls' fingerprints are the Spark tables';
    the landing and the checks' findings are the DuckDB file's either way."""
    report = duckdb_status(warehouse)
    if on_spark:
        from callbill import spark_warehouse

        spark = spark_warehouse.session()
        report["months"] = spark_warehouse.invoice_months(spark)
        # Every month a Spark close published has its calls' fingerprint.
        published = (
            spark_warehouse.rows(spark, "select count(*) from published.invoice_months")[0][0]
            if report["months"]
            else 0
        )
        report["fingerprinted"] = published
        report["changed"] = [ChangedMonth(*row) for row in spark_warehouse.changed_months(spark)] if published else []
    return report


def invoice_months_sql(month: str, drafted: bool) -> str:
    """Each invoice month's drafts and published invoices (DuckDB and Spark SQL alike; `month` is
    the engine's expression for YYYY-MM): month, drafts, draft total, published, published total,
    published at."""
    drafts = (
        "select invoice_date, count(*) as drafts, sum(total) as drafted_total from marts.fct_invoices group by 1"
        if drafted
        else "select cast(null as date) as invoice_date, 0 as drafts, 0 as drafted_total where false"
    )
    return f"""
        with drafts as ({drafts}),
        published as (
            select invoice_date, count(*) as published, sum(total) as published_total,
                max(published_at) as published_at
            from published.invoices group by 1
            union all
            -- a month published with no invoices (closed before any account was in service)
            select invoice_date, 0, 0, published_at from published.invoice_months
            where invoice_date not in (select invoice_date from published.invoices)
        )
        select {month}, coalesce(drafts, 0), drafted_total, coalesce(published, 0), published_total, published_at
        from drafts full outer join published using (invoice_date)
        order by invoice_date
    """


def duckdb_status(warehouse: Path | None = None) -> dict[str, list[tuple]]:
    with connect(warehouse) as con:
        landed = con.execute(
            """
            select entity, count(*), sum(rows_accepted), sum(rows_quarantined), max(landed_at)
            from raw.landed_files group by entity order by entity
            """
        ).fetchall()
        months = con.execute(
            invoice_months_sql("strftime(invoice_date, '%Y-%m')", table_exists(con, "marts", "fct_invoices"))
        ).fetchall()
        # What the checks of each month's latest close run found: failures (a later passing run
        # clears them) and warnings, with the rows each names.
        findings = con.execute(
            """
            with latest_run as (
                select invoice_month, arg_max(details->>'run_id', event_id) as run_id
                from audit.billing_events where event_type = 'close_started' group by invoice_month
            )
            select e.event_type, strftime(e.invoice_month, '%Y-%m'), e.details->>'check', e.details->>'source',
                e.event_at, e.details
            from audit.billing_events as e
            join latest_run
                on e.invoice_month = latest_run.invoice_month and e.details->>'run_id' = latest_run.run_id
            where e.event_type in ('check_failed', 'check_warned')
            -- by check, not by when each was recorded: dbt's tests finish in any order on two threads
            order by e.invoice_month, e.details->>'check', e.event_id
            """
        ).fetchall()
        failures = [
            (month, check, source, at) for kind, month, check, source, at, _ in findings if kind == "check_failed"
        ]
        warnings = [
            (month, source, at, details) for kind, month, _, source, at, details in findings if kind == "check_warned"
        ]
        switches = switch_feeds(con)
        # R-INV-2: each published month's calls against the fingerprint publication recorded.
        fingerprinted = con.execute(
            "select count(*) from published.invoice_months where rated_calls is not null"
        ).fetchone()[0]
        changed = changed_months(con)
    return {
        "landed": landed,
        "months": months,
        "failures": failures,
        "warnings": warnings,
        "switches": switches,
        "fingerprinted": fingerprinted,
        "changed": changed,
    }


def switch_feeds(con) -> list[tuple]:
    """Per registered switch: files, records landed = answered + unanswered + quarantined, repeated, last landed."""
    from callbill.landing.land import ensure_raw_tables
    from callbill.landing.switch_formats import SWITCH_FORMATS

    ensure_raw_tables(con)
    records = " union all ".join(f"select switch_id, answered from raw.{platform}_cdrs" for platform in SWITCH_FORMATS)
    return con.execute(
        f"""
        with files as (
            select regexp_extract(file_path, '/switch_cdrs/([^/]+)/[^/]+$', 1) as switch_id,
                count(*) as files, sum(rows_quarantined) as quarantined, sum(rows_repeated) as repeated,
                max(landed_at) as last_landed
            from raw.landed_files where entity = 'switch_cdrs' group by 1
        ),
        records as (
            select switch_id, count(*) filter (where answered) as answered,
                count(*) filter (where not answered) as unanswered
            from ({records}) group by 1
        ),
        switches as (
            select switch_id, arg_max(platform, updated_at) as platform from raw.switches group by 1
        )
        select switches.switch_id, switches.platform, coalesce(files.files, 0),
            coalesce(records.answered, 0) + coalesce(records.unanswered, 0) + coalesce(files.quarantined, 0),
            coalesce(records.answered, 0), coalesce(records.unanswered, 0), coalesce(files.quarantined, 0),
            coalesce(files.repeated, 0), files.last_landed
        from switches
        left join files using (switch_id)
        left join records using (switch_id)
        order by switches.switch_id
        """
    ).fetchall()
