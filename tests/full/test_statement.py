"""R-INV-4: a published invoice as a PDF statement; the text of the PDF is read back with pypdf."""

from click.testing import CliRunner
from helpers import ACCOUNT_HEADER, FIXTURES, land_small_with
from pypdf import PdfReader

from callbill.cli import main


def test_statement_pdf_carries_the_published_total_due_date_and_payment_instructions(closed_may, tmp_path):
    out = tmp_path / "ACC-2-2026-05.pdf"

    result = CliRunner().invoke(main, ["statement", "ACC-2", "2026-05", "--out", str(out)])

    assert result.exit_code == 0, result.output + result.stderr
    text = "\n".join(page.extract_text() for page in PdfReader(out).pages)
    assert "Invoice INV-202605-ACC-2" in text
    assert "Due date 2026-05-16" in text.replace("\n", " ")
    assert "274.70" in text  # the published total (test_close_small derives it from the rules)
    assert "Desk phone × 2, 20 days of April 2026" in text
    assert "Universal Service Fund fee" in text
    assert "PO Box 412252" in text
    assert "ACH" in text and "Discover" in text


def test_statement_shows_the_name_and_exemption_certificate_the_invoice_was_published_with(closed_may, tmp_path):
    """R-TAX-2, R-INV-2: ACC-3 was exempt (TX-EX-1) when May was published. A later version of the
    account, renamed and without a certificate, does not change May's statement."""
    renamed = (
        "ACC-3,Gamma Holdings,US,OR,97201,unlimited,,2025-06-01,2025-06-01,0,12,,0,false,"
        "c@x.example,c@x.example,,2026-06-01T00:00:00Z"
    )
    land_small_with(closed_may, {"accounts/renamed.csv": f"{ACCOUNT_HEADER}\n{renamed}"})
    out = tmp_path / "ACC-3-2026-05.pdf"

    result = CliRunner().invoke(main, ["statement", "ACC-3", "2026-05", "--out", str(out)])

    assert result.exit_code == 0, result.output + result.stderr
    text = " ".join(page.extract_text() for page in PdfReader(out).pages).replace("\n", " ")
    assert "Account ACC-3  Gamma Billing" in text and "Holdings" not in text
    assert "Tax exemption certificate TX-EX-1" in text


def test_statement_of_an_unpublished_invoice_is_refused(warehouse, tmp_path):
    assert CliRunner().invoke(main, ["land", str(FIXTURES / "landing_small")]).exit_code == 0
    assert CliRunner().invoke(main, ["close", "2026-05", "--no-publish"]).exit_code == 0
    result = CliRunner().invoke(main, ["statement", "ACC-2", "2026-05", "--out", str(tmp_path / "x.pdf")])
    assert result.exit_code == 1
    assert "no published invoice for account ACC-2 dated 2026-05-01" in result.stderr
    assert not (tmp_path / "x.pdf").exists()
