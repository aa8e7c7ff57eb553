"""The bad-input corpus (tests/fixtures/bad_input): every file lands what is valid, quarantines the
rest with a reason a user understands, landed = accepted + quarantined, and a file whose columns do
not match the contract is refused whole. Landing it all again adds nothing."""

from click.testing import CliRunner
from helpers import FIXTURES, query

from callbill.cli import main
from callbill.landing.land import land_folder

CORPUS = FIXTURES / "bad_input"

# file: (status, landed, accepted, quarantined)
EXPECTED_FILES = {
    "accounts/14_quoting.csv": ("landed", 3, 3, 0),
    "cdrs/01_timestamps.csv": ("landed", 5, 2, 3),
    "cdrs/02_end_before_start.csv": ("landed", 1, 0, 1),
    "cdrs/03_durations.csv": ("landed", 3, 1, 2),
    "cdrs/04_numbers.csv": ("landed", 4, 1, 3),
    "cdrs/05_unknown_account.csv": ("landed", 1, 0, 1),
    "cdrs/06_duplicates_a.csv": ("landed", 3, 2, 1),
    "cdrs/07_duplicates_b.csv": ("landed", 2, 1, 1),
    "cdrs/08_invalid_utf8.csv": ("landed", 3, 2, 1),
    "cdrs/09_missing_column.csv": ("failed", 0, 0, 0),
    "cdrs/10_extra_column.csv": ("failed", 0, 0, 0),
    "cdrs/11_header_only.csv": ("landed", 0, 0, 0),
    "cdrs/12_empty.csv": ("failed", 0, 0, 0),
    "cdrs/13_zero_bytes.csv": ("failed", 0, 0, 0),
    "payments/15_amounts.csv": ("landed", 3, 1, 2),
    "payments/16_card_number.csv": ("landed", 1, 0, 1),
    "subscription_items/17_quantities.csv": ("landed", 4, 1, 3),
    "accounts/19_bounds.csv": ("landed", 1, 0, 1),
    "partners/20_partner_rates.csv": ("landed", 3, 1, 2),
    "cdrs/18_padded_ids.csv": ("landed", 5, 1, 4),
    "cdrs/21_semicolons.csv": ("failed", 0, 0, 0),
    "cdrs/22_open_quote.csv": ("landed", 2, 1, 1),
}

TIMESTAMP = "is not an ISO 8601 UTC timestamp (YYYY-MM-DDTHH:MM:SSZ)"
AMOUNT = "is not an amount like 1234.56 (a dot, at most 2 decimals, no thousands separator)"
EXPECTED_REASONS = [
    (
        "19_bounds.csv",
        2,
        "free_months: -2 is below 0; contract_term_months: -12 is below 0; low_usage_allowance: -1 is below 0",
    ),
    ("01_timestamps.csv", 4, f"start_time_utc: 03/04/2026 14:05 {TIMESTAMP}"),
    (
        "01_timestamps.csv",
        5,
        "start_time_utc: 2026-04-03T14:05:09+02:00 has a UTC offset; timestamps are in UTC (YYYY-MM-DDTHH:MM:SSZ)",
    ),
    ("01_timestamps.csv", 6, f"start_time_utc: 2026-04-03 {TIMESTAMP}"),
    ("02_end_before_start.csv", 2, "end_time_utc: 2026-04-03T14:00:00Z is before start_time_utc"),
    ("03_durations.csv", 2, "duration_sec: negative duration"),
    ("03_durations.csv", 3, "duration_sec: 90000 s is more than 24 hours"),
    ("04_numbers.csv", 2, "source_number: 5125550100 is not an E.164 number or an extension"),
    ("04_numbers.csv", 3, "destination_number: +1 512 555 0100 is not an E.164 number or an extension"),
    ("04_numbers.csv", 4, "destination_number: ext-12 is not an E.164 number or an extension"),
    (
        "05_unknown_account.csv",
        2,
        "account_id: ACC-404 is not a landed account (land the account, then these rows again in a new file)",
    ),
    ("06_duplicates_a.csv", 4, "call_id: DUP-1 repeats line 2 of this file"),
    ("07_duplicates_b.csv", 2, f"call_id: DUP-2 was already landed from {CORPUS / 'cdrs' / '06_duplicates_a.csv'}"),
    ("08_invalid_utf8.csv", 3, "malformed CSV line: not UTF-8 text"),
    ("18_padded_ids.csv", 3, 'call_id: "P100 " has blanks around it (ids are compared exactly)'),
    ("18_padded_ids.csv", 4, 'call_id: " P101" has blanks around it (ids are compared exactly)'),
    # any blank, not only a space: a tab after the id, a no-break space before it
    ("18_padded_ids.csv", 5, 'call_id: "P102\t" has blanks around it (ids are compared exactly)'),
    ("18_padded_ids.csv", 6, 'call_id: "\u00a0P103" has blanks around it (ids are compared exactly)'),
    (
        "22_open_quote.csv",
        3,
        "malformed CSV line: unquoted value; lines 3 to 5 were read as this one row (is a quote left open?)",
    ),
    ("20_partner_rates.csv", 3, "residual_rate: 1.5 is above 1"),
    ("20_partner_rates.csv", 4, "spiff_amount: -10.00 is below 0"),
    ("15_amounts.csv", 2, f"amount: 1,234.56 {AMOUNT}"),
    ("15_amounts.csv", 3, f"amount: 1234.567 {AMOUNT}"),
    (
        "16_card_number.csv",
        2,
        "a full card number was landed (never stored: PCI DSS 3.4); send the brand and last four digits only",
    ),
    ("17_quantities.csv", 3, "quantity: -3 is not a number of units (1 or more)"),
    ("17_quantities.csv", 4, "quantity: 0 is not a number of units (1 or more)"),
    ("17_quantities.csv", 5, "end_date: 2026-03-01 is before start_date 2026-04-01"),
]

EXPECTED_REFUSALS = {
    "09_missing_column.csv": "missing column(s) duration_sec in header",
    "10_extra_column.csv": "unexpected column(s) note in header: cdrs files have exactly call_id, account_id, "
    "direction, source_number, destination_number, start_time_utc, end_time_utc, duration_sec",
    "12_empty.csv": "empty file: no header row",
    "13_zero_bytes.csv": "0-byte file: nothing in it (was the transfer cut short?); send it again",
    "21_semicolons.csv": "missing column(s) call_id, account_id, direction, source_number, destination_number, "
    "start_time_utc, end_time_utc, duration_sec in header; the file is read comma-separated, and its header has "
    "semicolons",
}


def test_every_corpus_file_lands_what_is_valid_and_quarantines_the_rest(warehouse):
    land_folder(FIXTURES / "landing_small")
    report = land_folder(CORPUS)

    outcome = {str(f.path.relative_to(CORPUS)): (f.status, f.landed, f.accepted, f.quarantined) for f in report.files}
    assert outcome == EXPECTED_FILES
    assert {f.path.name: f.message for f in report.failed} == EXPECTED_REFUSALS
    reasons = query(warehouse, "select file_path, line_number, reason from raw.quarantine order by file_path, 2")
    assert [(p.rsplit("/", 1)[1], line, reason) for p, line, reason in reasons] == EXPECTED_REASONS

    # landed = accepted + quarantined, per file, against the rows actually stored
    manifest = query(
        warehouse,
        """
        select m.file_path, m.rows_landed, m.rows_accepted, m.rows_quarantined,
               (select count(*) from raw.quarantine q where q.file_path = m.file_path),
               (select count(*) from raw.cdrs c where c._file = m.file_path)
                 + (select count(*) from raw.payments p where p._file = m.file_path)
                 + (select count(*) from raw.accounts a where a._file = m.file_path)
                 + (select count(*) from raw.subscription_items i where i._file = m.file_path)
                 + (select count(*) from raw.partners pa where pa._file = m.file_path)
        from raw.landed_files m where m.file_path like '%bad_input%'
        """,
    )
    for path, landed, accepted, quarantined, in_quarantine, stored in manifest:
        assert landed == accepted + quarantined == in_quarantine + stored, path
    # a refused file lands nothing at all
    refused = [str(CORPUS / "cdrs" / name) for name in EXPECTED_REFUSALS]
    assert query(warehouse, f"select count(*) from raw.cdrs where _file in {tuple(refused)}") == [(0,)]
    # names with commas, quotes and line breaks survive the CSV round trip
    assert query(warehouse, "select account_name from raw.accounts where account_id like 'ACC-Q%' order by 1") == [
        ("Line one\nLine two",),
        ("Smith, Jones & Co",),
        ('The "Best" Co',),
    ]
    assert query(warehouse, "select count(*), count(distinct call_id) from raw.cdrs where call_id like 'DUP-%'") == [
        (3, 3)
    ]


def test_the_cli_reports_every_file_and_landing_again_adds_nothing(warehouse):
    land_folder(FIXTURES / "landing_small")
    first = CliRunner().invoke(main, ["land", str(CORPUS)])
    assert first.exit_code == 1
    assert "cdrs/06_duplicates_a.csv" in first.output
    assert first.stderr.startswith("callbill: 5 file(s) could not be landed: 09_missing_column.csv: missing column")
    assert first.stderr.count("\n") == 1  # one line
    before = query(warehouse, "select (select count(*) from raw.cdrs), (select count(*) from raw.quarantine)")

    again = land_folder(CORPUS)
    assert {f.status for f in again.files} == {"already landed", "failed"}
    assert again.totals() == (0, 0, 0)
    assert query(warehouse, "select (select count(*) from raw.cdrs), (select count(*) from raw.quarantine)") == before
