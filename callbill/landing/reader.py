"""Reading a landing file into DuckDB as text rows numbered by their line in the file, hashed on the
same pass: CSV with or without a header (a switch's), Parquet."""

from __future__ import annotations

import csv
import hashlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import duckdb

from callbill.landing.checks import quote_sql
from callbill.landing.contract import LandingError


def sha256_of(path: Path) -> tuple[str, int]:
    """The file's sha256, and its number of lines (counted on the same read)."""
    digest = hashlib.sha256()
    lines, last = 0, b"\n"
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    return digest.hexdigest(), lines + (last != b"\n")


def number_lines_as_in_the_file(
    con: duckdb.DuckDBPyConnection, path: Path, file_lines: int, header: bool = True
) -> None:
    """Give `incoming` the file's own line numbers when its rows are not one line each.

    The reader skips blank lines and a quoted value may span lines, so a row's position is then not
    its line. Counting the file's lines tells (one line per row, the header and the rejected lines
    included, is the common case and costs nothing more); otherwise Python's csv module finds the
    line each row starts on, and the rows the reader kept get those of the lines it did not reject.
    """
    if path.suffix.lower() == ".parquet":
        return
    kept, rejected = con.execute(
        "select (select count(*) from incoming_raw), (select count(*) from rejects)"
    ).fetchone()
    with path.open("rb") as fh:  # blank lines at the very end number no row
        fh.seek(max(0, path.stat().st_size - 4096))
        tail = fh.read()
    trailing_blank_lines = max(0, tail[len(tail.rstrip(b"\r\n")) :].count(b"\n") - 1)
    if file_lines - trailing_blank_lines == kept + rejected + header:
        return
    import pandas as pd  # only for the rare file whose rows are not one line each

    rejected_lines = {line for (line,) in con.execute("select line from rejects").fetchall()}
    starts = []
    with path.open(newline="", encoding="utf-8-sig", errors="replace") as fh:
        reader = csv.reader(fh)
        if header:
            next(reader, None)
        previous = reader.line_num
        for record in reader:
            if record and previous + 1 not in rejected_lines:
                starts.append(previous + 1)
            previous = reader.line_num
    if len(starts) != kept:  # the two readers disagree on the rows: keep the row positions
        return
    con.register("file_lines", pd.DataFrame({"k": range(kept), "line": starts}))
    con.execute(
        """
        drop view if exists incoming;
        create or replace temp table incoming_numbered as
        select file_lines.line as _line, incoming_raw.*
        from (select rowid as k, * from incoming_raw) as incoming_raw
        join file_lines using (k);
        alter table incoming_numbered drop column k;
        create temp view incoming as select * from incoming_numbered;
        """
    )
    con.unregister("file_lines")


def read_file(con: duckdb.DuckDBPyConnection, path: Path, columns_without_header: tuple[str, ...] = ()) -> list[str]:
    """Stage a file as all-varchar rows in temp table `incoming` (with line numbers); returns its columns.

    A file without a header row (a switch's CDRs) is read with the columns given."""
    con.execute(
        "drop view if exists incoming; drop view if exists incoming_file; drop table if exists incoming_numbered; "
        "drop table if exists incoming_raw; drop table if exists rejects"
    )
    p = quote_sql(str(path))
    if path.suffix.lower() == ".parquet":
        con.execute(f"create temp table incoming_raw as select * from read_parquet({p})")
        described = con.execute("describe incoming_raw").fetchall()
        cols = [r[0] for r in described]
        # A Parquet TIMESTAMP WITH TIME ZONE is an instant (pandas and Spark write UTC this way):
        # its UTC time, unlike a text offset, which says the sender's clock was not on UTC.
        casts = ", ".join(f'{_parquet_text(c, type_)} as "{c}"' for c, type_, *_ in described)
        con.execute(f"create temp view incoming as select rowid + 1 as _line, {casts} from incoming_raw")
        con.execute("create temp table rejects (line bigint, csv_line varchar, error_message varchar)")
        return cols
    header = list(columns_without_header) or _csv_header(path)
    first_line = 1 if columns_without_header else 2
    columns = "{" + ", ".join(f"{quote_sql(c)}: 'VARCHAR'" for c in header) + "}"
    con.execute(
        f"create temp table incoming_raw as select * from read_csv({p}, columns = {columns}, "
        f"header = {'false' if columns_without_header else 'true'}, "
        "auto_detect = false, delim = ',', quote = '\"', escape = '\"', "
        "store_rejects = true, rejects_table = 'csv_rejects', rejects_scan = 'csv_reject_scans')"
    )
    cols = header
    has_rejects = con.execute("select count(*) from duckdb_tables() where table_name = 'csv_rejects'").fetchone()[0]
    if has_rejects:
        con.execute(
            "create temp table rejects as select line, any_value(csv_line) as csv_line, "
            "string_agg(distinct error_type::varchar, '; ') as error_message from csv_rejects group by line"
        )
        con.execute("drop table csv_rejects; drop table csv_reject_scans")
    else:
        con.execute("create temp table rejects (line bigint, csv_line varchar, error_message varchar)")
    # Line numbers: the header is line 1; rejected lines are skipped by the reader, so without
    # rejects a row's line is its position in the file (rowid + 2) and nothing is copied.
    if not con.execute("select count(*) from rejects").fetchone()[0]:
        con.execute(f"create temp view incoming as select rowid + {first_line} as _line, * from incoming_raw")
        return cols
    con.execute(
        f"""
        create temp table incoming_numbered as
        with good_lines as (
            select line, row_number() over (order by line) - 1 as k
            from range({first_line}, (select count(*) from incoming_raw) + (select count(*) from rejects)
                + {first_line}) as t(line)
            where line not in (select line from rejects)
        )
        select good_lines.line as _line, incoming_raw.*
        from (select rowid as k, * from incoming_raw) as incoming_raw
        join good_lines using (k)
        """
    )
    con.execute("alter table incoming_numbered drop column k")
    con.execute("create temp view incoming as select * from incoming_numbered")
    return cols


def _parquet_text(column: str, type_: str) -> str:
    """A Parquet column as the text a CSV would carry. Time zone types (TIMESTAMP WITH TIME ZONE,
    TIMESTAMPTZ_NS as pandas writes) are instants: their UTC time. Nanosecond times are read to the
    microsecond, as every timestamp in the warehouse."""
    if type_ in ("TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ") or type_.startswith("TIMESTAMPTZ_"):
        return f"cast(timezone('UTC', cast(\"{column}\" as timestamptz)) as varchar)"
    if type_.startswith("TIMESTAMP_"):  # _NS, _MS, _S
        return f'cast(cast("{column}" as timestamp) as varchar)'
    return f'cast("{column}" as varchar)'


def _csv_header(path: Path) -> list[str]:
    if path.stat().st_size == 0:
        raise LandingError("0-byte file: nothing in it (was the transfer cut short?); send it again")
    with path.open("rb") as fh:
        first_line = fh.readline()
    try:
        header = next(csv.reader([first_line.decode("utf-8-sig")]), [])
    except UnicodeDecodeError:
        raise LandingError("the header row is not UTF-8 text; save the file as UTF-8") from None
    if not header or not any(h.strip() for h in header):
        raise LandingError("empty file: no header row")
    if len(set(header)) != len(header):
        raise LandingError("duplicate column names in header")
    return [h.strip() for h in header]


@dataclass
class StagedFile:
    columns: list[str] | None  # None when the file could not be read (read_error says why)
    read_error: str | None
    digest: str
    lines: int
    landed_as: str | None  # the path of the same content landed before


def stage(con: duckdb.DuckDBPyConnection, path: Path, columns_without_header: tuple[str, ...] = ()) -> StagedFile:
    """Stage the file (`read_file`) while it is hashed on a thread (hashlib lets go of the GIL): a
    file seen before is then read for nothing, which is rare; every new file is read once either way.
    Staged outside the transaction: rowids (line order) are only final once committed."""
    with ThreadPoolExecutor(max_workers=1) as hashing:
        digest_of_file = hashing.submit(sha256_of, path)
        try:
            columns: list[str] | None = read_file(con, path, columns_without_header)
            read_error = None
        except (duckdb.Error, LandingError) as exc:
            columns, read_error = None, str(exc).splitlines()[0]
        digest, lines = digest_of_file.result()
    seen = con.execute("select file_path from raw.landed_files where sha256 = ?", [digest]).fetchone()
    return StagedFile(columns, read_error, digest, lines, seen[0] if seen else None)


def with_lenient_quotes(con: duckdb.DuckDBPyConnection, layout: tuple[str, ...]) -> str:
    """`incoming` plus the lines whose only fault is a quote not doubled inside a quoted value, read
    as Python's csv module and the tools that parse cdr_csv read them (the value keeps the quote),
    when that gives a whole record. Only such lines are read in Python."""
    lenient = con.execute("select line, csv_line from rejects where error_message = 'UNQUOTED VALUE'").fetchall()
    recovered = []
    for line, text in lenient:
        records = list(csv.reader(text.rstrip("\r\n").splitlines()))
        if len(records) == 1 and len(records[0]) == len(layout):
            recovered.append([line, *(value if value != "" else None for value in records[0])])
    if not recovered:
        return "incoming"
    import pandas as pd  # only for the few lines read leniently

    con.register("recovered_lines", pd.DataFrame(recovered, columns=["_line", *layout], dtype=object))
    con.execute("create or replace temp table recovered as select * from recovered_lines")
    con.unregister("recovered_lines")
    con.execute("delete from rejects where line in (select _line from recovered)")
    return "(select * from incoming union all by name select * from recovered)"
