"""`callbill statement`: a published invoice as a PDF statement (R-INV-4)."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from itertools import groupby
from pathlib import Path

from fpdf import FPDF

from callbill.months import parse_invoice_month
from callbill.warehouse import connect, table_exists


class StatementError(Exception):
    pass


@dataclass
class Statement:
    invoice_id: str
    account_id: str
    account_name: str
    billing_state: str
    billing_postal_code: str
    invoice_date: date
    due_date: date
    autopay_date: date | None
    subtotal: Decimal
    tax_total: Decimal
    total: Decimal
    tax_exempt_certificate_id: str | None
    # statement section, description, qty, unit, amount; in the statement's order (seeds/line_types.csv)
    lines: list[tuple[str, str, Decimal, Decimal | None, Decimal]]
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
        # The sections, and their order, are the line_types seed's: a line type is printed where it says.
        lines = con.execute(
            "select line_types.statement_section, lines.description, lines.quantity, lines.unit_price, lines.amount "
            "from published.invoice_lines as lines "
            "inner join reference.line_types as line_types on lines.line_type = line_types.line_type "
            "where lines.invoice_id = ? order by line_types.statement_order, lines.description",
            [invoice[0]],
        ).fetchall()
        account = con.execute(
            "select account_name, billing_state, billing_postal_code, tax_exempt_certificate_id "
            "from staging.stg_landing__accounts where account_id = ?",
            [account_id],
        ).fetchone() or ("", "", "", None)
        remittance = (
            dict(con.execute("select setting, value from reference.remittance").fetchall())
            if table_exists(con, "reference", "remittance")
            else {}
        )
    # Name and certificate as published with the invoice (R-INV-2, R-TAX-2). An invoice published
    # before published.invoices kept them has no name there: it shows the account's current ones.
    published_with_account = invoice[6] is not None
    return Statement(
        invoice_id=invoice[0],
        account_id=account_id,
        account_name=(invoice[6] if published_with_account else account[0]) or account_id,
        billing_state=account[1] or "",
        billing_postal_code=account[2] or "",
        invoice_date=date.fromisoformat(invoice_date),
        due_date=invoice[1],
        autopay_date=invoice[2],
        subtotal=invoice[3],
        tax_total=invoice[4],
        total=invoice[5],
        tax_exempt_certificate_id=invoice[7] if published_with_account else account[3],
        lines=lines,
        remittance=remittance,
    )


def latin1(text: str) -> str:
    """The PDF core fonts speak Latin-1; anything else is shown as '?'."""
    return text.encode("latin-1", "replace").decode("latin-1")


def money(amount: Decimal) -> str:
    return f"{amount:,.2f}"


def render(statement: Statement, out: Path) -> None:
    pdf = FPDF(format="Letter")
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.add_page()
    provider = statement.remittance.get("provider_name", "Your phone service provider")

    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 9, latin1(provider), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    pdf.cell(0, 6, f"Invoice {statement.invoice_id}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    facts = [
        ("Account", f"{statement.account_id}  {statement.account_name}"),
        ("Billing address", f"{statement.billing_state} {statement.billing_postal_code}".strip()),
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
    pdf.ln(4)

    for title, section in groupby(statement.lines, key=lambda line: line[0]):
        pdf.set_font("Helvetica", "B", 11)
        pdf.cell(0, 7, title, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 9)
        for _, description, quantity, unit_price, amount in section:
            pdf.cell(112, 5, latin1(description)[:80])
            pdf.cell(22, 5, f"{quantity.normalize():f}", align="R")
            pdf.cell(26, 5, "" if unit_price is None else f"{unit_price.normalize():f}", align="R")
            pdf.cell(0, 5, money(amount), align="R", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)

    pdf.set_font("Helvetica", "B", 10)
    for label, value in (("Subtotal", statement.subtotal), ("Taxes", statement.tax_total)):
        pdf.cell(160, 6, label, align="R")
        pdf.cell(0, 6, money(value), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "B", 12)
    pdf.cell(160, 8, "Total due (USD)", align="R")
    pdf.cell(0, 8, money(statement.total), align="R", new_x="LMARGIN", new_y="NEXT")
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
