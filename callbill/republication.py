"""What the re-close of a published month compares (R-INV-2), in SQL both engines run: the month's
rebuilt drafts against what was published, invoice by invoice and line by line."""

# The columns compared; invoice_date is not among them (both sides are read for one date), and the
# account's name and certificate, copied at publication, are not compared: a renamed account does
# not change a published invoice.
COMPARED_INVOICE_COLUMNS = "invoice_id, account_id, due_date, autopay_date, subtotal, tax_total, total"
COMPARED_LINE_COLUMNS = (
    "invoice_line_id, invoice_id, account_id, line_type, product_code, description, quantity, unit_price, "
    "amount, service_period_start, service_period_end, item_ids, line_key"
)


def drafts_differing_sql(day: str) -> str:
    """One row: how many invoices of the month `day` (the engine's date expression or parameter)
    differ, in the invoice or any of its lines, between the drafts and the published, and the
    first of them."""
    invoices, lines = COMPARED_INVOICE_COLUMNS, COMPARED_LINE_COLUMNS
    return f"""
        with drafts as (select {lines} from marts.fct_invoice_lines where invoice_date = {day}),
        published as (select {lines} from published.invoice_lines where invoice_date = {day}),
        differing_lines as (
            (select * from drafts except select * from published)
            union all
            (select * from published except select * from drafts)
        ),
        differing_invoices as (
            (select {invoices} from marts.fct_invoices where invoice_date = {day}
             except select {invoices} from published.invoices where invoice_date = {day})
            union all
            (select {invoices} from published.invoices where invoice_date = {day}
             except select {invoices} from marts.fct_invoices where invoice_date = {day})
        )
        select count(distinct invoice_id), min(invoice_id) from (
            select invoice_id from differing_lines union all select invoice_id from differing_invoices
        )
    """
