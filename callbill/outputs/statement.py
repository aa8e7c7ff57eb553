"""`callbill statement`: a published invoice as a PDF statement (R-INV-4).

What the statement says besides the lines (the account summary, whether it is the final invoice, the
account's address) is `marts.rpt_statements`, one row per published invoice; the lines are the
published ones, in the sections and order of the line_types seed, each with its reference (the end of
its invoice_line_id, which the call detail CSV lists for each call)."""

from collections import Counter
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from fpdf import FPDF

from callbill.months import parse_invoice_month
from callbill.warehouse import connect, table_exists

# What a line's quantity and unit price are, by the line type's groups in the line_types seed:
# usage lines count minutes at a price per minute; fees and taxes (pass-through) are a rate on a base
# in USD; every other line is a number of units at a unit price. Each kind prints under its own headers.
QUANTITY_HEADERS = {
    "units": ("Quantity", "Unit price (USD)"),
    "minutes": ("Minutes", "Per minute (USD)"),
    "base": ("Charged on (USD)", "Rate (%)"),
}
RATE_DECIMALS = 4  # a prorated unit price is kept to 6 decimals; the statement shows 4


class StatementError(Exception):
    pass


@dataclass
class Line:
    ref: str  # the end of invoice_line_id: the invoice id + "-" + ref is the line's id
    section: str
    kind: str  # a key of QUANTITY_HEADERS
    description: str
    quantity: Decimal
    unit_price: Decimal | None
    amount: Decimal
    destination: str | None  # usage lines billed by destination (call_types.grouped_by_destination)


@dataclass
class Statement:
    invoice_id: str
    account_id: str
    account_name: str
    address: list[str]  # the billing address, line by line
    invoice_date: date
    due_date: date
    autopay_date: date | None
    subtotal: Decimal
    tax_total: Decimal
    total: Decimal
    tax_exempt_certificate_id: str | None
    previous_invoice_id: str | None
    previous_invoice_date: date | None
    previous_balance: Decimal
    payments_received: Decimal
    credit_applied: Decimal
    balance_forward: Decimal
    new_charges: Decimal
    total_due: Decimal
    final_reason: str | None  # why this is the final invoice; None when it is not
    lines: list[Line]  # in the statement's order (seeds/line_types.csv)
    remittance: dict[str, str]


def load_statement(account_id: str, invoice_month: str, warehouse: Path | None = None) -> Statement:
    invoice_date = parse_invoice_month(invoice_month).isoformat()
    with connect(warehouse) as con:
        invoice = con.execute(
            "select invoice_id, due_date, autopay_date, subtotal, tax_total, total, account_name, "
            "tax_exempt_certificate_id from published.invoices where account_id = ? and invoice_date = ?",
            [account_id, invoice_date],
        ).fetchone()
        if not invoice:
            raise StatementError(f"no published invoice for account {account_id} dated {invoice_date}")
        if not table_exists(con, "marts", "rpt_statements"):
            raise StatementError(
                "marts.rpt_statements is missing (a warehouse closed by an earlier callbill): close a month to build it"
            )
        summary = con.execute(
            "select previous_invoice_id, previous_invoice_date, previous_balance, payments_received, credit_applied, "
            "balance_forward, new_charges, total_due, is_final_invoice, service_end_date, cancel_requested_date, "
            "account_name, billing_street, billing_city, billing_state, billing_postal_code, "
            "tax_exempt_certificate_id "
            "from marts.rpt_statements where invoice_id = ?",
            [invoice[0]],
        ).fetchone()
        lines = con.execute(
            """
            with destinations as (
                -- the destination of each line billed by destination, from its calls
                select calls.invoice_line_id, min(calls.destination) as destination
                from published.rated_calls as calls
                inner join reference.call_types as call_types on calls.call_type = call_types.call_type
                where calls.account_id = $account and calls.invoice_date = $invoice_date
                    and call_types.grouped_by_destination
                group by calls.invoice_line_id
            )
            select
                substr(lines.invoice_line_id, length(lines.invoice_id) + 2) as ref,
                line_types.statement_section,
                case when line_types.is_usage then 'minutes' when line_types.is_pass_through then 'base'
                    else 'units' end as kind,
                lines.description, lines.quantity, lines.unit_price, lines.amount,
                destinations.destination
            from published.invoice_lines as lines
            inner join reference.line_types as line_types on lines.line_type = line_types.line_type
            left join destinations on lines.invoice_line_id = destinations.invoice_line_id
            where lines.invoice_id = $invoice_id
            -- sections in the order of their first line type; a section's lines by destination (the
            -- lines of one destination together), then line type, description and price
            order by min(line_types.statement_order) over (partition by line_types.statement_section),
                destinations.destination nulls first, line_types.statement_order, lines.description,
                lines.unit_price
            """,
            {"account": account_id, "invoice_date": invoice_date, "invoice_id": invoice[0]},
        ).fetchall()
        remittance = (
            dict(con.execute("select setting, value from reference.remittance").fetchall())
            if table_exists(con, "reference", "remittance")
            else {}
        )
    if summary is None:  # published after the view was last read? it reads published.invoices itself
        raise StatementError(f"invoice {invoice[0]} is not in marts.rpt_statements")
    (
        previous_invoice_id, previous_invoice_date, previous_balance, payments_received, credit_applied,
        balance_forward, new_charges, total_due, is_final, service_end, cancel_requested,
        account_name, street, city, state, postal_code, certificate,
    ) = summary  # fmt: skip
    final_reason = None
    if is_final:
        final_reason = f"service ended {service_end.isoformat()}" + (
            f" after cancellation requested {cancel_requested.isoformat()}" if cancel_requested else ""
        )
    # Name and certificate as published with the invoice (R-INV-2, R-TAX-2). An invoice published
    # before published.invoices kept them has no name there: it shows the account's current ones.
    if invoice[6] is not None:
        account_name, certificate = invoice[6], invoice[7]
    return Statement(
        invoice_id=invoice[0],
        account_id=account_id,
        account_name=account_name or account_id,
        address=billing_address(street, city, state, postal_code),
        invoice_date=date.fromisoformat(invoice_date),
        due_date=invoice[1],
        autopay_date=invoice[2],
        subtotal=invoice[3],
        tax_total=invoice[4],
        total=invoice[5],
        tax_exempt_certificate_id=certificate,
        previous_invoice_id=previous_invoice_id,
        previous_invoice_date=previous_invoice_date,
        previous_balance=previous_balance,
        payments_received=payments_received,
        credit_applied=credit_applied,
        balance_forward=balance_forward,
        new_charges=new_charges,
        total_due=total_due,
        final_reason=final_reason,
        lines=[Line(*row) for row in lines],
        remittance=remittance,
    )


def billing_address(street: str | None, city: str | None, state: str | None, postal_code: str | None) -> list[str]:
    """The street line (when landed), then 'City, ST 94105' (what of it is known)."""
    place = ", ".join(part for part in (city, " ".join(p for p in (state, postal_code) if p)) if part)
    return [line for line in (street, place) if line]


def latin1(text: str) -> str:
    """The PDF core fonts speak Latin-1; anything else is shown as '?'."""
    return text.encode("latin-1", "replace").decode("latin-1")


def money(amount: Decimal) -> str:
    return f"{amount:,.2f}"


def plain(number: Decimal) -> str:
    """A quantity as written: 2, 0.6, 12.5 (no trailing zeros, no exponent)."""
    text = f"{number:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def rate_as_money(rate: Decimal) -> str:
    """A price per unit or minute: at least cents, at most RATE_DECIMALS decimals (24.95, 0.039)."""
    rounded = rate.quantize(Decimal(1).scaleb(-RATE_DECIMALS), rounding=ROUND_HALF_UP)
    text = f"{rounded:,f}"
    whole, _, decimals = text.partition(".")
    return f"{whole}.{decimals.rstrip('0').ljust(2, '0')}"


def quantity_text(line: Line) -> str:
    return money(line.quantity) if line.kind == "base" else plain(line.quantity)


def rate_text(line: Line) -> str:
    if line.unit_price is None:
        return ""
    if line.kind == "base":
        return plain(line.unit_price * 100)
    return rate_as_money(line.unit_price)


# Column widths (mm) of the lines' table on a Letter page with 10 mm margins.
REF_W, DESCRIPTION_W, QUANTITY_W, RATE_W = 20, 95, 25, 27


def render(statement: Statement, out: Path) -> None:
    pdf = FPDF(format="Letter")
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.add_page()
    provider = statement.remittance.get("provider_name", "Your phone service provider")

    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 9, latin1(provider), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "B", 12)
    pdf.cell(0, 7, "Final invoice" if statement.final_reason else "Statement", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    pdf.cell(0, 6, f"Invoice {statement.invoice_id}", new_x="LMARGIN", new_y="NEXT")
    if statement.final_reason:
        pdf.set_font("Helvetica", "B", 10)
        pdf.cell(0, 6, latin1(f"Final invoice: {statement.final_reason}."), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    facts = [
        ("Account", f"{statement.account_id}  {statement.account_name}"),
        ("Billing address", statement.account_name),
        *(("", line) for line in statement.address),
        ("Invoice date", statement.invoice_date.isoformat()),
        ("Due date", statement.due_date.isoformat()),
    ]
    if statement.autopay_date:
        facts.append(("Autopay charge on", statement.autopay_date.isoformat()))
    if statement.tax_exempt_certificate_id:
        facts.append(("Tax exemption certificate", statement.tax_exempt_certificate_id))
    for label, value in facts:
        pdf.set_font("Helvetica", "B", 10)
        pdf.cell(48, 6, latin1(label))
        pdf.set_font("Helvetica", "", 10)
        pdf.cell(0, 6, latin1(value), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)

    render_account_summary(pdf, statement)
    render_lines(pdf, statement)

    pdf.set_font("Helvetica", "B", 10)
    for label, value in (("Subtotal", statement.subtotal), ("Taxes", statement.tax_total)):
        pdf.cell(160, 6, label, align="R")
        pdf.cell(0, 6, money(value), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(160, 6, "New charges (this invoice's total)", align="R")
    pdf.cell(0, 6, money(statement.total), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "B", 12)
    pdf.cell(160, 8, "Total due (USD)", align="R")
    pdf.cell(0, 8, money(statement.total_due), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)

    r = statement.remittance
    pdf.set_font("Helvetica", "B", 11)
    pdf.cell(0, 7, "How to pay", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)
    instructions = [
        "Card (Visa, Mastercard, American Express, Discover) or ACH online: "
        f"{r.get('portal_url', 'the billing portal')}.",
        "ACH needs the account holder's name, the account number and the routing number.",
        f"Checks in USD, payable to {r.get('lockbox_payee', provider)}, "
        f"{r.get('lockbox_address', '')}, {r.get('lockbox_city', '')}; write {statement.invoice_id} on the check.",
        f"Payment is due within 15 days of the invoice date, by {statement.due_date.isoformat()}.",
    ]
    if statement.autopay_date:
        instructions.append(f"Autopay is on: the open amount is charged on {statement.autopay_date.isoformat()}.")
    for text in instructions:
        pdf.multi_cell(0, 5, latin1(text), new_x="LMARGIN", new_y="NEXT")
    out.parent.mkdir(parents=True, exist_ok=True)
    pdf.output(str(out))


def render_account_summary(pdf: FPDF, statement: Statement) -> None:
    """Previous balance, payments since, balance forward, new charges, total due (rpt_statements)."""
    since = statement.previous_invoice_date
    rows = [
        (
            "Previous balance"
            + (f" (invoice {statement.previous_invoice_id} of {since.isoformat()})" if since else " (first invoice)"),
            statement.previous_balance,
        ),
        (
            f"Payments received since {since.isoformat()}" if since else "Payments received",
            -statement.payments_received,
        ),
    ]
    if statement.credit_applied:
        rows.append(("Credit applied to this invoice (its account credit line)", statement.credit_applied))
    rows += [
        ("Balance forward", statement.balance_forward),
        ("New charges", statement.new_charges),
        ("Total due", statement.total_due),
    ]
    pdf.set_font("Helvetica", "B", 11)
    pdf.cell(0, 7, "Account summary (USD)", new_x="LMARGIN", new_y="NEXT")
    for label, amount in rows:
        pdf.set_font("Helvetica", "B" if label in ("Balance forward", "Total due") else "", 10)
        pdf.cell(120, 6, latin1(label))
        pdf.cell(40, 6, money(amount), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)


def render_lines(pdf: FPDF, statement: Statement) -> None:
    """Each section with column headers (again where the kind of quantity changes); the lines of one
    destination together, under its name when there are several (rates changed, or premium and
    international)."""
    lines_of = Counter(line.destination for line in statement.lines if line.destination is not None)
    section, kind, destination = None, None, None
    for line in statement.lines:
        if line.section != section:
            if section is not None:
                pdf.ln(2)
            section, kind, destination = line.section, None, None
            pdf.set_font("Helvetica", "B", 11)
            pdf.cell(0, 7, latin1(section), new_x="LMARGIN", new_y="NEXT")
        if line.kind != kind:
            kind = line.kind
            quantity_header, rate_header = QUANTITY_HEADERS[kind]
            pdf.set_font("Helvetica", "B", 8)
            pdf.cell(REF_W, 5, "Ref")
            pdf.cell(DESCRIPTION_W, 5, "Description")
            pdf.cell(QUANTITY_W, 5, quantity_header, align="R")
            pdf.cell(RATE_W, 5, rate_header, align="R")
            pdf.cell(0, 5, "Amount (USD)", align="R", new_x="LMARGIN", new_y="NEXT")
        if line.destination != destination:
            destination = line.destination
            if lines_of[destination] > 1:
                pdf.set_font("Helvetica", "I", 9)
                pdf.cell(REF_W, 5, "")
                pdf.cell(0, 5, latin1(f"Calls to {destination}"), new_x="LMARGIN", new_y="NEXT")
        table_row(pdf, line, grouped=lines_of[line.destination] > 1)
    pdf.ln(2)
    pdf.set_font("Helvetica", "I", 8)
    pdf.multi_cell(
        0,
        4,
        latin1(
            f"Ref: the line's reference; its id is {statement.invoice_id}-<Ref>, the invoice_line_id that the call "
            f"detail (callbill calls {statement.account_id} {statement.invoice_date:%Y-%m}) lists for each call."
        ),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(3)


def table_row(pdf: FPDF, line: Line, grouped: bool) -> None:
    """One line: its reference, the description (wrapped within its column), quantity, rate, amount."""
    pdf.set_font("Helvetica", "", 9)
    indent = 4 if grouped else 0  # under its destination's name
    description = latin1(line.description)
    height = 4.5 * len(pdf.multi_cell(DESCRIPTION_W - indent, 4.5, description, dry_run=True, output="LINES"))
    if pdf.will_page_break(height):
        pdf.add_page()
    top = pdf.get_y()
    pdf.set_font("Courier", "", 8)
    pdf.cell(REF_W, 4.5, line.ref)
    pdf.set_font("Helvetica", "", 9)
    pdf.set_x(pdf.get_x() + indent)
    pdf.multi_cell(DESCRIPTION_W - indent, 4.5, description, new_x="RIGHT", new_y="TOP")
    pdf.cell(QUANTITY_W, 4.5, quantity_text(line), align="R")
    pdf.cell(RATE_W, 4.5, rate_text(line), align="R")
    pdf.cell(0, 4.5, money(line.amount), align="R")
    pdf.set_xy(pdf.l_margin, top + height)
