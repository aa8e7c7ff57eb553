"""Switch CDR files that land badly or oddly (R-CDR, CDR_FORMATS.md): each gets its reason, nothing is
landed twice or lost. Landing only, no close."""

import shutil
from pathlib import Path

from click.testing import CliRunner
from helpers import FIXTURES, query, run

from callbill.cli import main


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


REGISTER = (
    "switch_id,platform,timezone,country_code,inbound_contexts,updated_at\n{0},asterisk,UTC,US,,2026-01-01T00:00:00Z\n"
)
GOOD = (
    '"acme","101","102","from-internal","","PJSIP/101-1","PJSIP/102-2","Dial","","2026-04-06 06:00:00",'
    '"2026-04-06 06:00:05","2026-04-06 06:03:05",185,180,"ANSWERED","DOCUMENTATION","{0}",""\n'
)


def test_bad_switch_files_each_get_a_reason_and_nothing_is_landed_twice_or_lost(warehouse, tmp_path):
    landing = tmp_path / "landing"
    shutil.copytree(FIXTURES / "landing_small", landing)
    write(landing / "switches" / "s.csv", REGISTER.format("pbx1"))
    cdrs = landing / "switch_cdrs"
    write(cdrs / "pbx1" / "fifteen.csv", '"a","b","c","d","e","f","g","h","i","j","k","l","m","n","o"\n')
    write(
        cdrs / "pbx1" / "cut.csv",
        GOOD.format("1.1")
        + ",".join(GOOD.format("1.2").split(",")[:9])
        + "\n"
        + GOOD.format("1.3").replace("06:03:05", "06:61:05"),
    )
    write(cdrs / "pbx2" / "Master.csv", GOOD.format("2.1"))
    write(cdrs / "loose.csv", GOOD.format("3.1"))
    result = CliRunner().invoke(main, ["land", str(landing)])
    assert result.exit_code == 1
    assert (
        "line 1 has 15 fields: asterisk records have 16 or 18 (is this file in the right switch's folder?)"
        in result.output
    )
    assert "switch pbx2 is not registered: land a switches/ row for it" in result.output
    assert "a switch's CDR files go in switch_cdrs/<switch_id>/" in result.output
    assert query(
        warehouse, "select line_number, reason from raw.quarantine where entity = 'switch_cdrs' order by 1"
    ) == [
        (2, "malformed CSV line: too few fields (a record cut off?)"),
        (3, "end_time: 2026-04-06 06:61:05 is not a time YYYY-MM-DD HH:MM:SS"),
    ]
    assert query(warehouse, "select record_id from raw.asterisk_cdrs") == [("1.1",)]

    # Registered later, pbx2's file lands; everything landed before is "already landed".
    write(landing / "switches" / "s2.csv", REGISTER.format("pbx2"))
    result = CliRunner().invoke(main, ["land", str(landing)])
    assert "switch_cdrs/pbx2/Master.csv" in result.output and "is not registered" not in result.output
    assert query(warehouse, "select switch_id, record_id from raw.asterisk_cdrs order by 1") == [
        ("pbx1", "1.1"),
        ("pbx2", "2.1"),
    ]
    # An appended file landed again lands only its new records.
    (cdrs / "pbx2" / "Master.csv").write_text(GOOD.format("2.1") + GOOD.format("2.2"))
    result = CliRunner().invoke(main, ["land", str(landing)])
    assert "2 records = 1 answered" not in result.output
    assert "1 records = 1 answered + 0 unanswered + 0 quarantined; 1 repeated" in result.output
    assert query(warehouse, "select count(*), count(distinct record_id) from raw.asterisk_cdrs") == [(3, 3)]


def test_records_whose_ids_share_a_hash_land_and_a_line_written_twice_lands_once(warehouse, tmp_path):
    """DuckDB's hash() gives these two uniqueids one value (seen in a 10 M-record file): both are
    records and land; the first copy of a line written twice lands, the second is a repeat."""
    landing = tmp_path / "landing"
    shutil.copytree(FIXTURES / "landing_small", landing)
    write(landing / "switches" / "s.csv", REGISTER.format("pbx1"))
    ids = ("1773840147.10443560", "1773840647.10448560")
    assert len({row[0] for row in query_hashes(ids)}) == 1
    write(
        landing / "switch_cdrs" / "pbx1" / "Master.csv",
        GOOD.format(ids[0]) + GOOD.format(ids[1]) + GOOD.format("7.7") * 2,
    )
    output = run("land", str(landing)).output
    assert "3 records = 3 answered + 0 unanswered + 0 quarantined; 1 repeated" in output
    assert query(warehouse, "select record_id, _line from raw.asterisk_cdrs order by _line") == [
        (ids[0], 1),
        (ids[1], 2),
        ("7.7", 3),
    ]


def query_hashes(values: tuple[str, ...]) -> list[tuple]:
    import duckdb

    with duckdb.connect() as con:
        return con.execute("select hash(v) from unnest(?) as t(v)", [list(values)]).fetchall()
