"""callbill dashboards for finance: revenue, USF liability, receivables, commissions, close status.

Run with `callbill dashboards` (or `make dashboards`). Reads the readers' snapshot read-only, so it
never blocks a close and never shows half a published month.
"""

import json

import altair as alt
import pandas as pd
import streamlit as st

from callbill.dashboards.data import NoSnapshot, frame, last_close, row, scalar
from callbill.outputs.snapshot import snapshot_path

PAGES = ("Revenue", "USF liability", "Receivables", "Commissions", "Close status")


def usd(value: object) -> str:
    return f"USD {value:,.2f}"


def findings_table(findings: pd.DataFrame) -> pd.DataFrame:
    """Checks as rows, their first failing row as "field = value" text that wraps in a table cell."""
    shown = findings.set_index("check").dropna(axis="columns", how="all")
    shown["first_failing_row"] = shown["first_failing_row"].map(
        lambda text: ", ".join(f"{field} = {value}" for field, value in json.loads(text).items()) if text else ""
    )
    return shown


def revenue_page() -> None:
    st.header("Revenue")
    st.caption(
        "Revenue is service revenue: what was sold. Taxes and the regulatory fees (USF, RRF, SLRRF) are "
        "collected from customers and passed on, and account credit applies earlier payments: both are "
        "billed, neither is revenue. The billed total is the sum of the published invoices."
    )
    months = frame("select distinct invoice_month from marts.rpt_revenue_monthly order by 1")["invoice_month"].tolist()
    if not months:
        st.info("Nothing published yet.")
        return
    plans = frame("select distinct plan_id from marts.rpt_revenue_monthly order by 1")["plan_id"].tolist()
    first, last = st.select_slider("Invoice months", options=months, value=(months[0], months[-1]))
    chosen_plans = st.multiselect("Plans", plans, default=plans)
    where = "invoice_month between $first and $last and list_contains($plans, plan_id)"
    service = f"{where} and revenue_class = 'service revenue'"
    params = {"first": first, "last": last, "plans": chosen_plans}

    # Revenue is service revenue: taxes and regulatory fees are passed through, account credit
    # applies earlier payments (rpt_revenue_monthly.revenue_class). Billed totals are shown apart.
    service_revenue, pass_through, account_credit, billed_total, invoices = row(
        "select coalesce(sum(amount) filter (where revenue_class = 'service revenue'), 0), "
        "coalesce(sum(amount) filter (where revenue_class = 'pass-through'), 0), "
        "coalesce(sum(amount) filter (where revenue_class = 'account credit'), 0), "
        "coalesce(sum(amount), 0), count(distinct invoice_id) "
        f"from marts.rpt_revenue_monthly where {where}",
        params,
    )
    mrr = scalar(
        "select coalesce(sum(mrr), 0) from marts.rpt_mrr_movement "
        "where invoice_month = $last and list_contains($plans, plan_id)",
        {"last": last, "plans": chosen_plans},
    )
    left, middle, right = st.columns(3)
    left.metric("Service revenue", usd(service_revenue))
    middle.metric(f"MRR {last}", usd(mrr))
    right.metric("Invoices", f"{invoices:,}")
    left, middle, right = st.columns(3)
    left.metric("Billed total (invoice totals)", usd(billed_total))
    middle.metric("Taxes and regulatory fees passed through (not revenue)", usd(pass_through))
    right.metric("Account credit applied (not revenue)", usd(account_credit))

    by_category = frame(
        f"select invoice_month, revenue_category, sum(amount) as amount from marts.rpt_revenue_monthly "
        f"where {service} group by all order by all",
        params,
    )
    st.subheader("Service revenue by month and category")
    st.altair_chart(
        alt.Chart(by_category)
        .mark_bar()
        .encode(x="invoice_month:N", y="amount:Q", color="revenue_category:N", tooltip=["revenue_category", "amount"]),
        width="stretch",
    )

    st.subheader("Billed by month: service revenue, pass-throughs, account credit")
    st.dataframe(
        frame(
            "select invoice_month, "
            "sum(amount) filter (where revenue_class = 'service revenue') as service_revenue, "
            "sum(amount) filter (where revenue_class = 'pass-through') as taxes_and_regulatory_fees, "
            "sum(amount) filter (where revenue_class = 'account credit') as account_credit, "
            f"sum(amount) as billed_total from marts.rpt_revenue_monthly where {where} group by all order by all",
            params,
        ),
        hide_index=True,
        key="billed_by_month",
    )
    st.subheader("Taxes and regulatory fees passed through (not revenue)")
    st.dataframe(
        frame(
            "select report.line_type, any_value(line_types.description) as passed_through, "
            "sum(report.amount) as amount from marts.rpt_revenue_monthly as report "
            "inner join reference.line_types as line_types on report.line_type = line_types.line_type "
            f"where {where} and report.revenue_class = 'pass-through' group by all order by amount desc",
            params,
        ),
        hide_index=True,
        key="pass_throughs",
    )

    st.subheader("MRR movement")
    movement = frame(
        "select invoice_month, movement, count(*) as accounts, sum(mrr - previous_mrr) as mrr_change "
        "from marts.rpt_mrr_movement where invoice_month between $first and $last "
        "and list_contains($plans, plan_id) and movement <> 'unchanged' group by all order by all",
        params,
    )
    st.altair_chart(
        alt.Chart(movement).mark_bar().encode(x="invoice_month:N", y="mrr_change:Q", color="movement:N"),
        width="stretch",
    )
    st.dataframe(movement, hide_index=True, key="mrr_movement")

    st.subheader("Top accounts by service revenue")
    st.dataframe(
        frame(
            "select account_id, any_value(account_name) as account_name, sum(amount) as service_revenue "
            f"from marts.rpt_revenue_monthly where {service} "
            "group by account_id order by service_revenue desc, account_id limit 10",
            params,
        ),
        hide_index=True,
        key="top_accounts",
    )
    by_state, by_partner = st.columns(2)
    by_state.subheader("Service revenue by state")
    by_state.dataframe(
        frame(
            f"select billing_state, sum(amount) as service_revenue from marts.rpt_revenue_monthly where {service} "
            "group by all order by service_revenue desc",
            params,
        ),
        hide_index=True,
        key="by_state",
    )
    by_partner.subheader("Service revenue by partner")
    by_partner.dataframe(
        frame(
            "select coalesce(partner_id, 'direct') as partner, sum(amount) as service_revenue "
            f"from marts.rpt_revenue_monthly where {service} group by all order by service_revenue desc",
            params,
        ),
        hide_index=True,
        key="by_partner",
    )


def usf_page() -> None:
    st.header("USF liability")
    st.caption(
        "By quarter, what FCC Form 499-Q/A reporting needs: the contribution factor, the assessable voice "
        "base, the interstate share (safe harbor), USF billed to customers and the contribution to remit."
    )
    quarters = frame(
        "select * replace (strftime(quarter_start, '%Y-%m-%d') as quarter_start) "
        "from marts.rpt_usf_liability order by quarter_start"
    )
    if quarters.empty:
        st.info("Nothing published yet.")
        return
    latest = quarters.iloc[-1]["quarter"]
    billed, liability = (
        scalar("select usf_billed from marts.rpt_usf_liability where quarter = $q", {"q": latest}),
        scalar("select usf_liability from marts.rpt_usf_liability where quarter = $q", {"q": latest}),
    )
    left, right = st.columns(2)
    left.metric(f"USF billed {latest}", usd(billed))
    right.metric(f"Liability to remit {latest}", usd(liability))
    st.altair_chart(
        alt.Chart(quarters.melt(id_vars="quarter", value_vars=["usf_billed", "usf_liability"]))
        .mark_bar()
        .encode(x="quarter:N", xOffset="variable:N", y="value:Q", color="variable:N"),
        width="stretch",
    )
    st.dataframe(quarters, hide_index=True, key="usf_quarters")
    st.download_button(
        "Download CSV", quarters.to_csv(index=False), file_name="usf_liability.csv", mime="text/csv", key="usf_csv"
    )


def receivables_page() -> None:
    st.header("Receivables")
    as_of = scalar("select max(as_of_date) from marts.fct_receivables")
    open_total = scalar("select coalesce(sum(open_amount), 0) from marts.fct_receivables")
    past_due = scalar("select coalesce(sum(open_amount), 0) from marts.fct_receivables where days_past_due > 0")
    left, right = st.columns(2)
    left.metric(f"Open as of {as_of}", usd(open_total))
    right.metric("Past due", usd(past_due))
    aging = frame(
        "select * replace (strftime(month_end, '%Y-%m-%d') as month_end) "
        "from marts.rpt_receivables_aging order by month_end, aging_bucket"
    )
    st.subheader("Open amount by aging bucket, at each month end")
    st.altair_chart(
        alt.Chart(aging).mark_bar().encode(x="month_end:N", y="open_amount:Q", color="aging_bucket:N"),
        width="stretch",
    )
    st.subheader("Dunning list")
    st.dataframe(frame("select * from marts.rpt_dunning_list"), hide_index=True, key="dunning")


def commissions_page() -> None:
    st.header("Commissions")
    payouts = frame(
        "select * replace (strftime(payout_date, '%Y-%m-%d') as payout_date) "
        "from marts.rpt_commission_payouts order by payout_date, partner_id, commission_type"
    )
    total = scalar("select coalesce(sum(amount), 0) from marts.fct_commissions")
    residual = scalar("select coalesce(sum(amount), 0) from marts.fct_commissions where commission_type = 'residual'")
    paid = scalar("select coalesce(sum(amount), 0) from published.commission_payouts")
    left, middle, right = st.columns(3)
    left.metric("Commissions due, all dates", usd(total))
    middle.metric("of which residuals", usd(residual))
    right.metric("Paid by payout runs", usd(paid))
    st.altair_chart(
        alt.Chart(payouts).mark_bar().encode(x="payout_date:N", y="amount:Q", color="commission_type:N"),
        width="stretch",
    )
    st.dataframe(payouts, hide_index=True, key="payouts")


def close_status_page() -> None:
    st.header("Close status")
    months, latest = frame(
        "select count(*) as months, strftime(max(invoice_date), '%Y-%m') as latest from published.invoice_months"
    ).iloc[0]
    left, right = st.columns(2)
    left.metric("Months published", f"{months:,}")
    right.metric("Last month published", latest or "none")
    st.subheader("Published months")
    st.dataframe(
        frame(
            "select strftime(invoice_date, '%Y-%m') as invoice_month, invoices, total, published_at "
            "from published.invoice_months order by invoice_date"
        ),
        hide_index=True,
        key="published_months",
    )
    st.subheader("Last close")
    close = last_close()
    if close is None:
        st.info("No close has run yet.")
    else:
        said = f"The close of {close.months} ({close.actor}, {close.at:%Y-%m-%d %H:%M} UTC)"
        if close.outcome == "running":
            st.warning(f"{said} has not recorded its end: it is running, or it stopped (see Dagster's Runs page).")
        elif close.outcome == "published":
            st.success(f"{said} published its invoices.")
        elif close.outcome == "drafts":
            st.info(f"{said} built the drafts; nothing published (--no-publish).")
        else:
            st.error(f"{said} failed: nothing published.")
            for error in close.errors:
                st.text(error)
    st.subheader("Failing checks")
    if close is None or close.failing_checks.empty:
        st.success("No failing checks.")
    else:
        # a static table: a grid cuts the first failing row to its column's width
        st.table(findings_table(close.failing_checks))
    if close is not None and not close.warnings.empty:
        st.subheader("Warnings (billed, for review)")
        st.table(findings_table(close.warnings))


def main() -> None:
    st.set_page_config(page_title="callbill", layout="wide")
    requested = st.query_params.get("page", PAGES[0])
    page = st.sidebar.radio("Page", PAGES, index=PAGES.index(requested) if requested in PAGES else 0)
    st.sidebar.caption(f"Snapshot: {snapshot_path()}")
    try:
        {
            "Revenue": revenue_page,
            "USF liability": usf_page,
            "Receivables": receivables_page,
            "Commissions": commissions_page,
            "Close status": close_status_page,
        }[page]()
    except NoSnapshot as missing:
        st.warning(str(missing))


main()
