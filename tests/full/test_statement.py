"""R-INV-4: a published invoice as a PDF statement; the text of the PDF is read back with pypdf."""

from click.testing import CliRunner
from helpers import FIXTURES
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


def test_statement_of_an_unpublished_invoice_is_refused(warehouse, tmp_path):
    assert CliRunner().invoke(main, ["land", str(FIXTURES / "landing_small")]).exit_code == 0
    assert CliRunner().invoke(main, ["close", "2026-05", "--no-publish"]).exit_code == 0
    result = CliRunner().invoke(main, ["statement", "ACC-2", "2026-05", "--out", str(tmp_path / "x.pdf")])
    assert result.exit_code == 1
    assert "no published invoice for account ACC-2 dated 2026-05-01" in result.stderr
    assert not (tmp_path / "x.pdf").exists()
