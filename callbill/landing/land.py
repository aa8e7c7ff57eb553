"""`callbill land`: load every file of a landing folder into schema `raw`.

Each file lands once (its sha256 is the key of raw.landed_files), in one
transaction: the rows that type-check go to raw.<entity>, the others to
raw.quarantine with the file, line, raw text and a reason. For every file
landed = accepted + quarantined.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from callbill.landing.checks import (
    LUHN_MACRO,
    entity_rules,
    masked,
    problem_exprs,
    switch_record_problems,
    typed_expr,
    with_casts,
)
from callbill.landing.contract import (
    ENTITIES,
    LANDING_ORDER,
    LINEAGE_COLUMNS,
    MASK_ACCOUNT_NUMBERS,
    MASK_CARD_NUMBERS,
    SQL_TYPES,
    SWITCH_CDRS,
    Column,
    LandingError,
)
from callbill.landing.reader import (
    number_lines_as_in_the_file,
    stage,
    with_lenient_quotes,
)
from callbill.landing.switch_formats import SWITCH_FORMATS, SwitchFormat
from callbill.warehouse import connect, record_event, utc_now


@dataclass
class FileResult:
    path: Path
    entity: str
    status: str  # landed | already landed | failed
    landed: int = 0
    accepted: int = 0
    quarantined: int = 0
    # a switch's CDRs: accepted = answered + unanswered; repeated records are not landed again
    answered: int = 0
    unanswered: int = 0
    repeated: int = 0
    message: str = ""
    # The raw table the rows went to: the entity's, or a switch's platform table (asterisk_cdrs).
    table: str = ""


# The raw tables landing writes, each a dbt source `landing.<table>` and a Dagster asset
# ["landing", <table>]: one per entity, one per switch platform.
LANDED_TABLES = (*ENTITIES, *(f"{platform}_cdrs" for platform in SWITCH_FORMATS))


@dataclass
class LandingReport:
    files: list[FileResult] = field(default_factory=list)

    @property
    def failed(self) -> list[FileResult]:
        return [f for f in self.files if f.status == "failed"]

    def landed_tables(self) -> dict[str, dict[str, int]]:
        """What each raw table received: the metadata of its landing asset's materialization, the
        same from a Dagster landing run and from `callbill land` (callbill/landing/dagster_record.py)."""
        tables: dict[str, dict[str, int]] = {}
        for table in LANDED_TABLES:
            files = [f for f in self.files if (f.table or f.entity) == table and f.status == "landed"]
            tables[table] = {
                "files_landed": len(files),
                "rows_accepted": sum(f.accepted for f in files),
                "rows_quarantined": sum(f.quarantined for f in files),
            }
        return tables

    def totals(self) -> tuple[int, int, int]:
        return (
            sum(f.landed for f in self.files),
            sum(f.accepted for f in self.files),
            sum(f.quarantined for f in self.files),
        )


def ensure_raw_tables(con: duckdb.DuckDBPyConnection) -> None:
    for entity, columns in ENTITIES.items():
        cols = ", ".join(f"{c.name} {SQL_TYPES[c.type]}" for c in columns)
        con.execute(f"create table if not exists raw.{entity} ({cols}, {LINEAGE_COLUMNS})")
        # Optional columns came after the entity (a warehouse landed before has no such column yet).
        for c in columns:
            if c.optional:
                con.execute(f"alter table raw.{entity} add column if not exists {c.name} {SQL_TYPES[c.type]}")
    for platform, switch_format in SWITCH_FORMATS.items():
        # Each record as the switch wrote it (text), its id (R-CDR-6) and whether it was answered (R-CDR-1).
        cols = ", ".join(f"{c} varchar" for c in switch_format.columns)
        con.execute(
            f"create table if not exists raw.{platform}_cdrs (switch_id varchar not null, {cols}, "
            f"record_id varchar not null, answered boolean not null, {LINEAGE_COLUMNS})"
        )
    # Records a switch wrote again (a rotated or appended file landed again): counted, not landed twice.
    con.execute("alter table raw.landed_files add column if not exists rows_repeated bigint default 0")


def _quarantine_malformed_lines(
    con: duckdb.DuckDBPyConnection, entity: str, path: Path, landed_at: object, csv_line: str = "csv_line"
) -> None:
    """The reader's rejected lines, each with its reason. A quote left open makes the reader take the
    lines after it into the same row: say which."""
    text = "rtrim(csv_line, chr(13) || chr(10))"
    extra_lines = f"(length({text}) - length(replace({text}, chr(10), '')))"
    reason = "replace(lower(error_message), 'invalid encoding', 'not UTF-8 text')"
    if entity == SWITCH_CDRS:  # no header names the columns: say what is wrong with the record
        reason = f"replace(replace({reason}, 'missing columns', 'too few fields (a record cut off?)'), "
        reason += "'too many columns', 'too many fields')"
    con.execute(
        f"insert into raw.quarantine select ?, ?, line, {csv_line}, 'malformed CSV line: ' || {reason} "
        f"|| case when {extra_lines} > 0 then '; lines ' || line || ' to ' || (line + {extra_lines}) "
        "|| ' were read as this one row (is a quote left open?)' else '' end, ? "
        "from rejects order by line",
        [entity, str(path), landed_at],
    )


def _record_landed_file(
    con: duckdb.DuckDBPyConnection,
    result: FileResult,
    digest: str,
    landed_at: object,
    details: dict[str, object] | None = None,
) -> None:
    """The file in raw.landed_files (a file lands once) and its file_landed audit event."""
    con.execute(
        "insert into raw.landed_files (file_path, entity, sha256, rows_landed, rows_accepted, rows_quarantined, "
        "landed_at, rows_repeated) values (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            str(result.path), result.entity, digest, result.landed, result.accepted, result.quarantined,
            landed_at, result.repeated,
        ],
    )  # fmt: skip
    record_event(
        con,
        "file_landed",
        {
            "file": str(result.path),
            "entity": result.entity,
            "rows": result.landed,
            "accepted": result.accepted,
            "quarantined": result.quarantined,
            **(details or {}),
            "sha256": digest,
        },
    )


def land_file(con: duckdb.DuckDBPyConnection, path: Path, entity: str) -> FileResult:
    staged = stage(con, path)
    if staged.landed_as:
        return FileResult(path, entity, "already landed", message=f"same content as {staged.landed_as}")
    if staged.columns is None:
        return FileResult(path, entity, "failed", message=staged.read_error)
    file_cols, digest = staged.columns, staged.digest
    number_lines_as_in_the_file(con, path, staged.lines)

    columns = ENTITIES[entity]
    missing = [c.name for c in columns if c.name not in file_cols and not c.optional]
    if missing:
        hint = "; the file is read comma-separated, and its header has semicolons" if ";" in "".join(file_cols) else ""
        return FileResult(path, entity, "failed", message=f"missing column(s) {', '.join(missing)} in header{hint}")
    unexpected = [c for c in file_cols if c not in {col.name for col in columns}]
    if unexpected:
        return FileResult(
            path,
            entity,
            "failed",
            message=f"unexpected column(s) {', '.join(unexpected)} in header: {entity} files have exactly "
            + ", ".join(c.name for c in columns if not c.optional)
            + "".join(f", optionally {c.name}" for c in columns if c.optional),
        )
    _add_optional_columns_left_out(con, [c for c in columns if c.optional and c.name not in file_cols])
    con.execute("begin transaction")
    try:
        landed_at = utc_now()
        problems = [p for c in columns for p in problem_exprs(c)] + entity_rules(entity)
        reason = "nullif(concat_ws('; ', " + ", ".join(problems) + "), '')"
        fields = [f'"{c.name}"' for c in columns]
        csv_line = "csv_line"
        if entity == "payments":
            fields = [masked(f, MASK_ACCOUNT_NUMBERS if f == '"last4"' else MASK_CARD_NUMBERS) for f in fields]
            csv_line = masked(csv_line, MASK_ACCOUNT_NUMBERS)
            reason = masked(reason, MASK_CARD_NUMBERS)
        raw_text = "concat_ws(',', " + ", ".join(f"coalesce({f}, '')" for f in fields) + ")"
        source = "incoming"
        if entity == "cdrs":
            # R-RATE-7: the file of a call id landed before, and the first line of a call id repeated
            # in this file (hash joins and an aggregate, not a lookup per row or a window).
            source = (
                "incoming left join (select call_id as _id, min(_file) as _landed_file from raw.cdrs "
                "where call_id in (select call_id from incoming) group by call_id) as landed "
                "on incoming.call_id = landed._id "
                "left join (select call_id as _repeated_id, min(_line) as _first_line from incoming "
                # ids whose hash repeats first: grouping integers is cheaper than grouping the ids,
                # and a file rarely repeats any
                "where hash(call_id) in (select hash(call_id) from incoming group by 1 having count(*) > 1) "
                "group by call_id having count(*) > 1) as repeated "
                "on incoming.call_id = repeated._repeated_id"
            )
        # Only the rows with a problem are kept aside; the reasons are computed once per row.
        con.execute(
            f"create or replace temp table checked as select * from "
            f"(select *, {reason} as _reason from {with_casts(source, columns)}) "
            "where _reason is not null"
        )
        typed = ", ".join(f"{typed_expr(c)} as {c.name}" for c in columns)
        typed_bad = con.execute("select count(*) from checked").fetchone()[0]
        # The file's order is kept: a plain scan of `incoming` is in line order; with rows set aside,
        # the filter is a hash anti-join and the rows are put back in line order.
        accepted_rows = "from incoming"
        if typed_bad:
            accepted_rows = "from incoming where _line not in (select _line from checked) order by _line"
        # By name: a column added later (an optional one) sits after the lineage columns in an older warehouse.
        names = ", ".join([*(c.name for c in columns), "_file", "_line", "_landed_at"])
        con.execute(
            f"insert into raw.{entity} ({names}) select {typed}, ? as _file, _line, ? as _landed_at {accepted_rows}",
            [str(path), landed_at],
        )
        con.execute(
            f"insert into raw.quarantine select ?, ?, _line, {raw_text}, _reason, ? from checked order by _line",
            [entity, str(path), landed_at],
        )
        _quarantine_malformed_lines(con, entity, path, landed_at, csv_line)
        accepted = con.execute("select count(*) from incoming").fetchone()[0] - typed_bad
        malformed = con.execute("select count(*) from rejects").fetchone()[0]
        quarantined = typed_bad + malformed
        result = FileResult(path, entity, "landed", accepted + quarantined, accepted, quarantined)
        _record_landed_file(con, result, digest, landed_at)
        con.execute("commit")
    except (duckdb.Error, LandingError) as exc:
        con.execute("rollback")
        return FileResult(path, entity, "failed", message=str(exc).splitlines()[0])
    return result


def _add_optional_columns_left_out(con: duckdb.DuckDBPyConnection, left_out: list[Column]) -> None:
    """A file without an optional column lands as if the column were there and empty."""
    if not left_out:
        return
    nulls = ", ".join(f'cast(null as varchar) as "{c.name}"' for c in left_out)
    con.execute("alter view incoming rename to incoming_file")
    con.execute(f"create temp view incoming as select *, {nulls} from incoming_file")


def registered_switch(con: duckdb.DuckDBPyConnection, switch_id: str) -> SwitchFormat | None:
    """The format of a registered switch (its latest switches/ row), or None."""
    found = con.execute(
        "select arg_max(platform, updated_at) from raw.switches where switch_id = ? having count(*) > 0", [switch_id]
    ).fetchone()
    return SWITCH_FORMATS[found[0]] if found else None


def land_switch_file(con: duckdb.DuckDBPyConnection, path: Path, switch_id: str) -> FileResult:
    """A switch's CDR file, byte for byte as it wrote it (no header): every record lands raw with its
    file and line, or goes to quarantine with the reason. A record already landed (the same id
    and fields, from a rotated or appended file landed again) is counted as repeated, not landed."""
    switch_format = registered_switch(con, switch_id)
    if switch_format is None:
        return FileResult(
            path,
            SWITCH_CDRS,
            "failed",
            message=f"switch {switch_id} is not registered: land a switches/ row for it (switch_id, platform, "
            "timezone, ...); this file lands with the first `callbill land` after that",
        )
    if path.stat().st_size == 0:
        return FileResult(path, SWITCH_CDRS, "failed", message="0-byte file: nothing in it; send it again")
    with path.open("rb") as fh:
        first_record = next(csv.reader([fh.readline().decode("utf-8", errors="replace")]), [])
    if len(first_record) not in switch_format.layouts:
        return FileResult(
            path,
            SWITCH_CDRS,
            "failed",
            message=f"line 1 has {len(first_record)} fields: {switch_format.platform} records have "
            f"{switch_format.describe_layouts()} (is this file in the right switch's folder?)",
        )
    layout = switch_format.layouts[len(first_record)]
    staged = stage(con, path, columns_without_header=layout)
    if staged.landed_as:
        return FileResult(path, SWITCH_CDRS, "already landed", message=f"same content as {staged.landed_as}")
    if staged.columns is None:
        return FileResult(path, SWITCH_CDRS, "failed", message=staged.read_error)
    digest = staged.digest
    number_lines_as_in_the_file(con, path, staged.lines, header=False)
    source = with_lenient_quotes(con, layout)
    table = f"raw.{switch_format.platform}_cdrs"
    columns = switch_format.columns
    quoted_columns = ", ".join(f'"{c}"' for c in columns)
    values = ", ".join(f'"{c}"' if c in layout else f'cast(null as varchar) as "{c}"' for c in columns)
    same_fields = " and ".join(f'numbered."{c}" is not distinct from landed."{c}"' for c in columns)
    raw_text = "concat_ws(',', " + ", ".join(f"coalesce(\"{c}\", '')" for c in layout) + ")"
    reason = "nullif(concat_ws('; ', " + ", ".join(switch_record_problems(switch_format)) + "), '')"
    record_id = switch_format.record_id
    records = (
        f"(select _line, {values}, {record_id} as record_id, ({switch_format.answered}) as answered from {source})"
    )
    con.execute("begin transaction")
    try:
        landed_at = utc_now()
        # Only the records with a problem, a record id repeated in this file or one landed before
        # are kept aside (hash joins and aggregates over the file; the rest go straight to raw).
        con.execute(
            f"create or replace temp table switch_problems as select * from "
            f"(select _line, {reason} as _reason from {source}) where _reason is not null"
        )
        con.execute(
            f"""
            create or replace temp table switch_involved as
            with repeated_ids as (
                select hash(record_id) as id_hash from {records} group by 1 having count(*) > 1
            ),
            landed as (
                select * from {table}
                where switch_id = $switch_id and record_id in (select record_id from {records})
            ),
            involved as (
                select * from {records}
                where hash(record_id) in (select id_hash from repeated_ids)
                    or record_id in (select record_id from landed)
            ),
            numbered as (
                select *,
                    min(_line) over (partition by record_id) as _first_line,
                    -- R-CDR-6: an exact repeat within the file is the same record written twice
                    row_number() over (partition by record_id, {quoted_columns} order by _line) as _copy
                from involved
            )
            select numbered._line, numbered.record_id, numbered._first_line, numbered._copy,
                coalesce(bool_or({same_fields}), false) as _landed_before,
                min(landed._file || ' line ' || landed._line) as _landed_as
            from numbered
            left join landed
                on numbered.record_id = landed.record_id
            group by all
            """,
            {"switch_id": switch_id},
        )
        # Another record under an id already taken: which one the switch meant is unknown.
        con.execute(
            """
            insert into switch_problems
            select _line, case
                when _landed_as is not null
                    then 'record id ' || record_id || ' was landed from ' || _landed_as || ' with other fields'
                else 'record id ' || record_id || ' repeats line ' || _first_line || ' of this file with other fields'
            end
            from switch_involved
            where not _landed_before and _copy = 1 and (_landed_as is not null or _line > _first_line)
                and _line not in (select _line from switch_problems)
            """
        )
        repeated = con.execute(
            "select count(*) from switch_involved where (_landed_before or _copy > 1) "
            "and _line not in (select _line from switch_problems)"
        ).fetchone()[0]
        # An id's hash is shared by other ids now and then: only the repeats are kept out.
        set_aside = (
            "select _line from switch_problems union all "
            "select _line from switch_involved where _landed_before or _copy > 1"
        )
        kept, in_file_order = f"from {records} where _line not in ({set_aside})", " order by _line"
        if not con.execute(f"select count(*) from ({set_aside})").fetchone()[0]:
            kept, in_file_order = f"from {records}", ""  # nothing set aside: the scan is in the file's order
        answered, unanswered = con.execute(
            f"select count(*) filter (where answered), count(*) filter (where not answered) {kept}"
        ).fetchone()
        con.execute(
            f"insert into {table} select ?, {quoted_columns}, record_id, answered, ?, _line, ? {kept}{in_file_order}",
            [switch_id, str(path), landed_at],
        )
        con.execute(
            f"insert into raw.quarantine select ?, ?, problems._line, {raw_text}, problems._reason, ? "
            f"from switch_problems as problems join {source} as incoming_records using (_line) order by problems._line",
            [SWITCH_CDRS, str(path), landed_at],
        )
        _quarantine_malformed_lines(con, SWITCH_CDRS, path, landed_at)
        quarantined = con.execute(
            "select (select count(*) from switch_problems) + (select count(*) from rejects)"
        ).fetchone()[0]
        result = FileResult(
            path, SWITCH_CDRS, "landed", answered + unanswered + quarantined, answered + unanswered, quarantined,
            answered, unanswered, repeated, table=f"{switch_format.platform}_cdrs",
        )  # fmt: skip
        _record_landed_file(
            con,
            result,
            digest,
            landed_at,
            {
                "switch_id": switch_id,
                "platform": switch_format.platform,
                "answered": answered,
                "unanswered": unanswered,
                "repeated": repeated,
            },
        )
        con.execute("commit")
    except (duckdb.Error, LandingError) as exc:
        con.execute("rollback")
        return FileResult(path, SWITCH_CDRS, "failed", message=str(exc).splitlines()[0])
    return result


def landing_files(in_dir: Path) -> tuple[list[tuple[Path, str]], list[Path]]:
    """(file, entity) pairs in a stable order, and the files that belong to no entity."""
    if in_dir.is_file():
        raise LandingError(
            f"{in_dir} is a file: land takes the landing folder, the one with the entity folders "
            f"({', '.join(LANDING_ORDER)})"
        )
    if not in_dir.is_dir():
        raise LandingError(f"landing folder {in_dir} does not exist")
    if in_dir.name in ENTITIES and not any(p.name in ENTITIES for p in in_dir.iterdir() if p.is_dir()):
        raise LandingError(f"{in_dir} is the {in_dir.name} folder itself: land takes its parent, the landing folder")
    found, unknown = [], []
    for path in sorted(p for p in in_dir.rglob("*") if p.is_file() and not p.name.startswith(".")):
        parts = path.relative_to(in_dir).parts
        entity = parts[0]
        if entity in ENTITIES and path.suffix.lower() in (".csv", ".parquet"):
            found.append((path, entity))
        elif entity == SWITCH_CDRS and len(parts) == 3:
            found.append((path, entity))  # switch_cdrs/<switch_id>/<any name the switch or logrotate gave>
        else:
            unknown.append(path)
    found.sort(key=lambda pair: (LANDING_ORDER.index(pair[1]), str(pair[0])))
    return found, unknown


def land_folder(in_dir: Path, warehouse: Path | None = None) -> LandingReport:
    files, unknown = landing_files(in_dir)
    report = LandingReport()
    for path in unknown:
        message = "not a CSV/Parquet file in a known entity folder"
        if path.relative_to(in_dir).parts[0] == SWITCH_CDRS:
            message = "a switch's CDR files go in switch_cdrs/<switch_id>/ (the folder names the registered switch)"
        report.files.append(FileResult(path, "?", "failed", message=message))
    with connect(warehouse) as con:
        ensure_raw_tables(con)
        con.execute(LUHN_MACRO)
        for path, entity in files:
            if entity == SWITCH_CDRS:
                result = land_switch_file(con, path.resolve(), path.parent.name)
            else:
                result = land_file(con, path.resolve(), entity)
            report.files.append(result)
    return report
