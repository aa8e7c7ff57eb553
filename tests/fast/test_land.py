"""`callbill land`: a file lands once, bad rows are quarantined with reasons, counts reconcile."""

import shutil
from datetime import datetime

import duckdb
import pandas as pd
from click.testing import CliRunner
from helpers import FIXTURES

from callbill.cli import main
from callbill.landing.contract import ENTITIES, SQL_TYPES
from callbill.landing.land import land_folder

REQUIRED_CALL_FIELDS = [column.name for column in ENTITIES["cdrs"] if column.required]


def test_landing_the_same_folder_twice_adds_nothing_the_second_time(warehouse):
    first = land_folder(FIXTURES / "landing_small")
    assert first.totals() == (20, 20, 0)
    second = land_folder(FIXTURES / "landing_small")
    assert [f.status for f in second.files] == ["already landed"] * 4
    assert second.totals() == (0, 0, 0)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select count(*) from raw.cdrs").fetchone()[0] == 8
        assert con.execute("select count(*) from raw.landed_files").fetchone()[0] == 4


def test_same_content_under_another_name_is_not_landed_twice(warehouse, tmp_path):
    folder = tmp_path / "landing"
    shutil.copytree(FIXTURES / "landing_small", folder)
    land_folder(folder)
    shutil.copy(folder / "cdrs" / "c.csv", folder / "cdrs" / "c_resent.csv")
    report = land_folder(folder)
    resent = [f for f in report.files if f.path.name == "c_resent.csv"][0]
    assert resent.status == "already landed"
    assert resent.message.endswith("cdrs/c.csv")


def test_broken_rows_are_quarantined_with_line_and_reason(warehouse):
    report = land_folder(FIXTURES / "landing_broken")
    cdrs = [f for f in report.files if f.entity == "cdrs"][0]
    assert (cdrs.landed, cdrs.accepted, cdrs.quarantined) == (7, 2, 5)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        accepted = con.execute("select call_id, _line from raw.cdrs order by _line").fetchall()
        quarantined = con.execute(
            "select line_number, reason, raw_text from raw.quarantine order by line_number"
        ).fetchall()
    assert accepted == [("C100", 2), ("C106", 8)]
    assert [(line, reason) for line, reason, _ in quarantined] == [
        (3, "direction: sideways is not one of inbound/outbound/internal"),
        (4, "malformed CSV line: missing columns"),
        (5, "start_time_utc: 2026-04-31T10:00:00Z is not an ISO 8601 UTC timestamp (YYYY-MM-DDTHH:MM:SSZ)"),
        (6, "missing required field call_id"),
        (
            7,
            "destination_number: 555-0100 is not an E.164 number or an extension; duration_sec: negative duration",
        ),
    ]
    assert quarantined[1][2] == "C102,ACC-1,outbound"


def test_a_file_missing_a_required_column_lands_nothing_and_says_which(warehouse):
    report = land_folder(FIXTURES / "landing_broken")
    payments = [f for f in report.files if f.entity == "payments"][0]
    assert payments.status == "failed"
    assert payments.message == "missing column(s) status in header"
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select count(*) from raw.payments").fetchone()[0] == 0
        assert con.execute("select count(*) from raw.landed_files where entity = 'payments'").fetchone()[0] == 0


def test_counts_reconcile_per_file_between_manifest_raw_and_quarantine(warehouse):
    land_folder(FIXTURES / "landing_small")
    land_folder(FIXTURES / "landing_broken")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        mismatches = con.execute(
            """
            select m.file_path
            from raw.landed_files as m
            where m.rows_landed <> m.rows_accepted + m.rows_quarantined
               or m.rows_quarantined <> (select count(*) from raw.quarantine as q where q.file_path = m.file_path)
               or (m.entity = 'cdrs'
                   and m.rows_accepted <> (select count(*) from raw.cdrs as c where c._file = m.file_path))
            """
        ).fetchall()
        events = con.execute("select count(*) from audit.billing_events where event_type = 'file_landed'").fetchone()[0]
    assert mismatches == []
    assert events == 5


def test_cli_reports_counts_and_exits_1_when_a_file_cannot_land(warehouse):
    result = CliRunner().invoke(main, ["land", str(FIXTURES / "landing_broken")])
    assert result.exit_code == 1
    assert "cdrs/cdrs_broken.csv" in result.output
    assert "1 file(s) could not be landed: payments_no_status.csv: missing column(s) status in header" in (
        result.stderr
    )


def test_dates_and_whole_numbers_are_checked_and_blank_padded_values_are_typed(warehouse, tmp_path):
    folder = tmp_path / "landing"
    shutil.copytree(FIXTURES / "landing_small", folder)
    header = (FIXTURES / "landing_small" / "accounts" / "a.csv").read_text().splitlines()[0]
    (folder / "accounts" / "z_bad.csv").write_text(
        f"{header}\n"
        "ACC-8,Echo,US,NY,10001,standard,,2026-02-30,2026-03-01,two,12,,0,false,e@x.example,,,2026-01-01T00:00:00Z\n"
    )
    (folder / "cdrs" / "z_durations.csv").write_text(
        "call_id,account_id,direction,source_number,destination_number,start_time_utc,end_time_utc,duration_sec\n"
        "W1,ACC-1,outbound,+15125550100,+15125550199,2026-04-03T14:05:09Z,,12.5\n"
        "W2,ACC-1,outbound,+15125550100,+15125550199, 2026-04-03T14:05:09Z ,, 60 \n"
        "W3,ACC-1,outbound,+15125550100,+15125550199,2026-04-03T14:05:09Z,,1e3\n"
    )
    land_folder(folder)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        reasons = con.execute(
            "select entity, line_number, reason from raw.quarantine "
            "where ends_with(file_path, 'z_bad.csv') or ends_with(file_path, 'z_durations.csv') "
            "order by entity, line_number"
        ).fetchall()
        typed = con.execute("select start_time_utc, duration_sec from raw.cdrs where call_id = 'W2'").fetchall()
    assert reasons == [
        (
            "accounts",
            2,
            "service_start_date: 2026-02-30 is not a date YYYY-MM-DD; free_months: two is not a whole number",
        ),
        ("cdrs", 2, "duration_sec: 12.5 is not a whole number"),
        ("cdrs", 4, "duration_sec: 1e3 is not a whole number"),
    ]
    assert typed == [(datetime(2026, 4, 3, 14, 5, 9), 60)]


def test_parquet_timestamps_with_a_time_zone_land_as_their_utc_time(warehouse, tmp_path):
    folder = tmp_path / "landing"
    shutil.copytree(FIXTURES / "landing_small", folder)
    with duckdb.connect() as con:
        # what pandas and Spark write for UTC times: TIMESTAMP WITH TIME ZONE, an instant
        con.execute(
            "copy (select * from (values "
            "('Z1', timestamptz '2026-04-10 10:00:00+00', timestamptz '2026-04-10 10:01:00+00', 60), "
            "('Z2', timestamptz '2026-04-10 12:00:00.5+02', null, 30)) "
            "as calls(call_id, start_time_utc, end_time_utc, duration_sec)) to '{}' (format parquet)".format(
                tmp_path / "instants.parquet"
            )
        )
        con.execute(
            f"copy (select call_id, 'ACC-1' as account_id, 'outbound' as direction, '+15125550100' as source_number, "
            f"'+15125550199' as destination_number, start_time_utc, end_time_utc, duration_sec "
            f"from '{tmp_path / 'instants.parquet'}') to '{folder / 'cdrs' / 'z_instants.parquet'}' (format parquet)"
        )
    # and as pandas writes them: nanoseconds, TIMESTAMPTZ_NS
    pd.DataFrame(
        {
            "call_id": ["Z3"],
            "account_id": ["ACC-1"],
            "direction": ["outbound"],
            "source_number": ["+15125550100"],
            "destination_number": ["+15125550199"],
            "start_time_utc": pd.to_datetime(["2026-04-10T08:00:00.250000001-02:00"], utc=True).as_unit("ns"),
            "end_time_utc": pd.to_datetime([None], utc=True).as_unit("ns"),
            "duration_sec": [30],
        }
    ).to_parquet(folder / "cdrs" / "z_pandas.parquet")
    report = land_folder(folder)
    landed = {f.path.name: (f.landed, f.accepted, f.quarantined) for f in report.files if f.path.name.startswith("z_")}
    assert landed == {"z_instants.parquet": (2, 2, 0), "z_pandas.parquet": (1, 1, 0)}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        calls = con.execute(
            "select call_id, start_time_utc, end_time_utc from raw.cdrs where call_id like 'Z%' order by 1"
        ).fetchall()
    assert calls == [
        ("Z1", datetime(2026, 4, 10, 10, 0), datetime(2026, 4, 10, 10, 1)),
        ("Z2", datetime(2026, 4, 10, 10, 0, 0, 500000), None),  # 12:00:00.5 at +02:00
        ("Z3", datetime(2026, 4, 10, 10, 0, 0, 250000), None),  # to the microsecond
    ]


def test_quarantine_lines_are_the_files_own_after_blank_lines_and_values_over_two_lines(warehouse, tmp_path):
    folder = tmp_path / "landing"
    shutil.copytree(FIXTURES / "landing_small", folder)
    header = "call_id,account_id,direction,source_number,destination_number,start_time_utc,end_time_utc,duration_sec"
    call = "{},ACC-1,outbound,+15125550100,+15125550199,2026-04-03T14:05:09Z,,{}"
    (folder / "cdrs" / "z_gaps.csv").write_text(
        "\n".join([header, call.format("Y1", 60), "", "", call.format("Y3", 60), ",,,,,,,", call.format("Y5", -1)])
        + "\n\n"
    )
    accounts = (FIXTURES / "landing_small" / "accounts" / "a.csv").read_text().splitlines()
    (folder / "accounts" / "z_names.csv").write_text(
        "\n".join([accounts[0], accounts[1].replace("Acme", '"Acme\nWest"').replace("ACC-1,", "ACC-W,", 1)])
        + "\n"
        + accounts[2].replace("ACC-2,", "ACC-V,", 1).replace(",2,24,", ",-1,24,")
        + "\n"
    )
    land_folder(folder)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        lines = con.execute(
            "select call_id, _line from raw.cdrs where _file like '%z_gaps.csv' order by _line"
        ).fetchall()
        reasons = con.execute(
            "select file_path, line_number, reason from raw.quarantine where file_path like '%z_%' "
            "order by file_path, line_number"
        ).fetchall()
    assert lines == [("Y1", 2), ("Y3", 5)]  # lines 3 and 4 are blank
    assert [(path.rsplit("/", 1)[1], line, reason) for path, line, reason in reasons] == [
        # the name on lines 2-3 is one value: the next account starts on line 4
        ("z_names.csv", 4, "free_months: -1 is below 0"),
        ("z_gaps.csv", 6, "; ".join(f"missing required field {c}" for c in REQUIRED_CALL_FIELDS)),
        ("z_gaps.csv", 7, "duration_sec: negative duration"),
    ]


def test_the_optional_address_columns_may_be_left_out_and_land_where_sent(warehouse, tmp_path):
    """CONTRACT.md: accounts may carry billing_street, billing_city; a file without them still lands.
    A warehouse whose raw.accounts was made before the columns existed gains them at the next landing."""
    warehouse.parent.mkdir(parents=True)
    with duckdb.connect(str(warehouse)) as con:  # raw.accounts as an earlier callbill created it
        con.execute("create schema raw")
        columns = ", ".join(f"{c.name} {SQL_TYPES[c.type]}" for c in ENTITIES["accounts"] if not c.optional)
        con.execute(f"create table raw.accounts ({columns}, _file varchar, _line bigint, _landed_at timestamp)")
    folder = tmp_path / "landing"
    shutil.copytree(FIXTURES / "landing_small", folder)
    header = (FIXTURES / "landing_small" / "accounts" / "a.csv").read_text().splitlines()[0]
    (folder / "accounts" / "z_address.csv").write_text(
        f"billing_city,{header},billing_street\n"
        '"Austin",ACC-1,Acme,US,TX,78701,basic,,2025-01-01,2025-01-01,0,12,,0,true,a@x.example,a@x.example,,'
        '2026-01-01T00:00:00Z,"100 Congress Ave, Suite 200"\n'
    )
    report = land_folder(folder)
    assert {f.path.name: (f.status, f.accepted, f.quarantined) for f in report.files if f.entity == "accounts"} == {
        "a.csv": ("landed", 3, 0),
        "z_address.csv": ("landed", 1, 0),
    }
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            "select account_id, billing_street, billing_city, billing_postal_code, updated_at from raw.accounts "
            "order by _file, _line"
        ).fetchall()
    assert rows[:3] == [
        ("ACC-1", None, None, "78701", datetime(2025, 1, 1)),
        ("ACC-2", None, None, "94105", datetime(2026, 2, 10)),
        ("ACC-3", None, None, "97201", datetime(2025, 6, 1)),
    ]
    assert rows[3] == ("ACC-1", "100 Congress Ave, Suite 200", "Austin", "78701", datetime(2026, 1, 1))


def test_an_unknown_column_beside_the_optional_ones_still_refuses_the_file(warehouse, tmp_path):
    folder = tmp_path / "landing"
    (folder / "accounts").mkdir(parents=True)
    header = (FIXTURES / "landing_small" / "accounts" / "a.csv").read_text().splitlines()[0]
    (folder / "accounts" / "a.csv").write_text(f"{header},billing_street,billing_zip\n")
    report = land_folder(folder)
    assert report.files[0].status == "failed"
    assert report.files[0].message.startswith("unexpected column(s) billing_zip in header: accounts files have exactly")
    assert report.files[0].message.endswith("updated_at, optionally billing_street, optionally billing_city")
