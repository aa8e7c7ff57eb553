"""The blocking check of every close that the published months' rated calls are as published (R-INV-2)."""

from collections.abc import Iterator

import dagster as dg
from dagster_dbt import get_asset_key_for_model

from callbill.published_calls import CHECK, ChangedMonth, changed_months, record_missing_fingerprints
from callbill.warehouse import connect, record_event
from orchestration.defs.dbt import callbill_dbt_models
from orchestration.defs.engine import CallbillEngine
from orchestration.defs.partitions import invoice_months
from orchestration.defs.usage_feeds import months_of

FCT_RATED_CALLS = get_asset_key_for_model([callbill_dbt_models], "fct_rated_calls")


@dg.asset_check(
    asset=FCT_RATED_CALLS,
    name=CHECK,
    description="The rated calls of every published month are still the ones published: their count, total "
    "cost and a hash over their ids and costs equal what publication recorded (R-INV-2). Blocks publication "
    "and names the month that changed.",
    blocking=True,
    partitions_def=invoice_months,
)
def published_calls_unchanged(
    context: dg.AssetCheckExecutionContext, engine: CallbillEngine
) -> Iterator[dg.AssetCheckResult]:
    closing = f"{months_of(context)[0]}-01"
    spark_months: tuple[list[ChangedMonth], int] | None = None
    if engine.on_spark:
        from callbill import spark_warehouse

        spark = spark_warehouse.session()
        spark_months = (
            [ChangedMonth(*row) for row in spark_warehouse.changed_months(spark)],
            spark_warehouse.rows(spark, "select count(*) from published.invoice_months")[0][0],
        )
    with connect() as con:
        if spark_months is None:
            changed = changed_months(con)
            (published,) = con.execute("select count(*) from published.invoice_months").fetchone()
        else:
            changed, published = spark_months
        # Only with nothing changed: a month that changed keeps the fingerprint that shows it. On
        # Spark every month is fingerprinted when published.
        vouched = {} if changed or spark_months is not None else record_missing_fingerprints(con)
        for reason, months in vouched.items():
            record_event(
                con,
                "fingerprints_recorded",
                {"run_id": context.run.run_id, "months": months, "reason": reason},
                closing,
            )
        for month in changed:
            record_event(
                con,
                "check_failed",
                {
                    "source": "published_calls",
                    "run_id": context.run.run_id,
                    "check": CHECK,
                    "message": month.message(),
                    **month.details(),
                },
                closing,
            )
    description = (
        "; ".join(month.message() for month in changed)
        if changed
        else f"{published} published month(s), each one's rated calls as published"
    )
    metadata = {"published_months": published, "fingerprints_recorded_now": sum(map(len, vouched.values()))}
    if changed:
        metadata["failures"] = dg.MetadataValue.json(
            [{"check": f"{CHECK}: {m.invoice_month}", "message": m.message(), **m.details()} for m in changed]
        )
    yield dg.AssetCheckResult(
        passed=not changed, severity=dg.AssetCheckSeverity.ERROR, description=description, metadata=metadata
    )
    if changed:
        # The run's page names the check and the first month that changed.
        raise dg.Failure(description=f"{CHECK} failed: {description}")
