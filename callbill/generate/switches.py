"""The same calls as a phone switch's own files (switches/, switch_tenants/, switch_cdrs/; CDR_FORMATS.md)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from callbill.generate.accounts import Accounts
from callbill.generate.calls import copy_calls, month_calls
from callbill.generate.common import Window, account_ids, write_csv
from callbill.generate.items import CallPools
from callbill.generate.reference import NANP_COUNTRY, RESEND_SHARE, IntArray
from callbill.landing.contract import ENTITIES
from callbill.landing.switch_formats import SWITCH_FORMATS, SWITCH_TIME_FORMAT


@dataclass(frozen=True)
class Unanswered:
    """An outcome of a call nobody answered: the switch's word for it, its share and its seconds of ringing."""

    cause: str
    share: float
    ring_min: int
    ring_max: int


@dataclass(frozen=True)
class Switch:
    """The one phone switch a `--platform` landing describes (a US switch on Central time)."""

    switch_id: str
    platform: str
    timezone: str
    country_code: str
    inbound_contexts: tuple[str, ...]  # the first is the context of every generated inbound call
    user_context: str  # where the switch's users dial from (outbound and internal calls)
    answered: str  # disposition / hangup cause of an answered call
    unanswered: tuple[Unanswered, ...]


SWITCHES: dict[str, Switch] = {
    "asterisk": Switch(
        "pbx1",
        "asterisk",
        "America/Chicago",
        "US",
        ("from-pstn", "from-trunk"),
        "from-internal",
        "ANSWERED",
        (Unanswered("NO ANSWER", 0.7, 8, 45), Unanswered("BUSY", 0.3, 0, 4)),
    ),
    "freeswitch": Switch(
        "fs1",
        "freeswitch",
        "America/Chicago",
        "US",
        ("public",),
        "default",
        "NORMAL_CLEARING",
        (
            Unanswered("NO_ANSWER", 0.45, 8, 45),
            Unanswered("USER_BUSY", 0.2, 0, 4),
            Unanswered("ORIGINATOR_CANCEL", 0.35, 2, 30),
        ),
    ),
}
PLATFORMS = tuple(SWITCHES)
# The landing's own column lists: the generator writes what the loader reads.
SWITCH_COLUMNS = tuple(c.name for c in ENTITIES["switches"])
SWITCH_TENANT_COLUMNS = tuple(c.name for c in ENTITIES["switch_tenants"])
ASTERISK_FIELD_NAMES = SWITCH_FORMATS["asterisk"].columns  # loguniqueid and loguserfield on: 18 fields
FREESWITCH_CDR_COLUMNS = SWITCH_FORMATS["freeswitch"].columns
MAX_RINGING_SECONDS = 20  # before an answered call is picked up
LONG_DIAL_SHARE_DOMESTIC = 0.35  # 1 + 10 digits; the rest dial 10 digits
LONG_DIAL_SHARE_INTERNATIONAL = 0.15  # + and the digits; the rest dial 011
B_LEG_SHARE = 0.3  # FreeSWITCH legs=ab: answered calls that also write their b-leg


def tenant_key(account_no: int) -> str:
    """The switch's customer key (`accountcode`) of ACC-00017: cust-00017."""
    return f"cust-{account_no:05d}"


def cdr_file_names(months: int) -> list[str]:
    """logrotate names, oldest month first: Master.csv.<K-1>, ..., Master.csv.1, Master.csv."""
    return [f"Master.csv.{months - 1 - k}" if k < months - 1 else "Master.csv" for k in range(months)]


def random_uuid_words(rng: np.random.Generator, size: int) -> tuple[NDArray[np.uint64], NDArray[np.uint64]]:
    """Random version-4 UUIDs as two 64-bit halves (formatted by DuckDB)."""
    words = rng.integers(0, np.iinfo(np.uint64).max, size=(2, size), dtype=np.uint64, endpoint=True)
    high = (words[0] & np.uint64(0xFFFF_FFFF_FFFF_0FFF)) | np.uint64(0x4000)
    low = (words[1] & np.uint64(0x3FFF_FFFF_FFFF_FFFF)) | np.uint64(0x8000_0000_0000_0000)
    return high, low


def switch_records(
    rng: np.random.Generator,
    switch: Switch,
    calls: pd.DataFrame,
    pools: CallPools,
    names: tuple[list[str], IntArray],
    first_seq: int,
) -> pd.DataFrame:
    """The CDR records of a month's canonical calls, in file order, as numbers for DuckDB to format.

    The answer is the canonical start (an unanswered call starts then); ringing comes before it.
    FreeSWITCH b-legs follow their a-leg. `seq` numbers the calls for channel names and uniqueids."""
    size = len(calls)
    account = calls["account_no"].to_numpy(np.int64)
    destination = calls["destination"].to_numpy(np.int64)
    start = calls["start_s"].to_numpy(np.int64)
    duration = calls["duration_sec"].to_numpy(np.int64)
    answered = duration > 0

    shares = np.array([u.share for u in switch.unanswered])
    outcome = np.where(answered, 0, 1 + rng.choice(len(shares), size=size, p=shares / shares.sum()))
    ring_min = np.array([0, *(u.ring_min for u in switch.unanswered)], dtype=np.int64)[outcome]
    ring_max = np.array([MAX_RINGING_SECONDS, *(u.ring_max for u in switch.unanswered)], dtype=np.int64)[outcome]
    ring = ring_min + np.floor(rng.random(size) * (ring_max - ring_min + 1)).astype(np.int64)
    nanp = (destination >= NANP_COUNTRY) & (destination < 2 * NANP_COUNTRY)
    long_share = np.where(nanp, LONG_DIAL_SHARE_DOMESTIC, LONG_DIAL_SHARE_INTERNATIONAL)
    long_dial = rng.random(size) < long_share
    extension = pools.extensions.pick(rng, account - 1)  # the desk phone that dialled out or rang
    freeswitch = switch.platform == "freeswitch"
    b_leg = answered & (rng.random(size) < B_LEG_SHARE) if freeswitch else np.zeros(size, dtype=bool)

    legs = 1 + b_leg.astype(np.int64)
    call = np.repeat(np.arange(size), legs)
    a_leg = np.cumsum(legs) - legs
    leg = np.zeros(len(call), dtype=np.int8)
    leg[a_leg[b_leg] + 1] = 1
    unique_names, name_code = names
    columns = {
        "seq": first_seq + call,
        "account_no": account[call].astype(np.int32),
        "name": pd.Categorical.from_codes(name_code[account[call] - 1], categories=unique_names),
        "direction_code": calls["direction_code"].to_numpy(np.int8)[call],
        "source": calls["source"].to_numpy(np.int64)[call],
        "destination": destination[call],
        "long_dial": long_dial[call],
        "extension": extension[call].astype(np.int32),
        "start_s": np.where(answered, start - ring, start)[call],
        "answer_s": start[call],
        "end_s": np.where(answered, start + duration, start + ring)[call],
        "duration": (ring + duration)[call].astype(np.int32),
        "billsec": duration[call].astype(np.int32),
        "outcome": outcome.astype(np.int8)[call],
        "leg": leg,
    }
    if freeswitch:
        high, low = random_uuid_words(rng, len(call))
        has_bleg = np.zeros(len(call), dtype=bool)
        has_bleg[a_leg[b_leg]] = True
        bleg_high, bleg_low = np.zeros(len(call), dtype=np.uint64), np.zeros(len(call), dtype=np.uint64)
        bleg_high[has_bleg], bleg_low[has_bleg] = high[a_leg[b_leg] + 1], low[a_leg[b_leg] + 1]
        columns |= {"uuid_hi": high, "uuid_lo": low, "has_bleg": has_bleg, "bleg_hi": bleg_high, "bleg_lo": bleg_low}
    return pd.DataFrame(columns)


def held_number_sql(column: str) -> str:
    """A number as a US switch holds it: 10 digits for +1, else + and the digits."""
    nanp = f"({column} >= {NANP_COUNTRY} and {column} < {2 * NANP_COUNTRY})"
    return f"case when {nanp} then ({column} - {NANP_COUNTRY})::varchar else '+' || {column}::varchar end"


def dialled_number_sql(column: str) -> str:
    """A number as a US user dials it: 10 or 1 + 10 digits for +1, else 011 or + and the digits."""
    nanp = f"({column} >= {NANP_COUNTRY} and {column} < {2 * NANP_COUNTRY})"
    return (
        f"case when {nanp} then (case when long_dial then {column}::varchar"
        f" else ({column} - {NANP_COUNTRY})::varchar end)"
        f" else (case when long_dial then '+' else '011' end) || {column}::varchar end"
    )


def local_time_sql(switch: Switch, column: str) -> str:
    return f"strftime(timezone('{switch.timezone}', to_timestamp({column})), '{SWITCH_TIME_FORMAT}')"


def uuid_sql(high: str, low: str) -> str:
    """8-4-4-4-12 lowercase hex of two 64-bit halves already formatted as 16 hex digits."""
    return (
        f"substr({high}, 1, 8) || '-' || substr({high}, 9, 4) || '-' || substr({high}, 13, 4)"
        f" || '-' || substr({low}, 1, 4) || '-' || substr({low}, 5, 12)"
    )


def record_fields_sql(switch: Switch) -> str:
    """Per record: the fields both platforms share, as the switch writes them (in file order)."""
    causes = " ".join(f"when {k} then '{u.cause}'" for k, u in enumerate(switch.unanswered, start=1))
    hex_formats = (
        ", format('{:016x}', uuid_hi) as uuid_h, format('{:016x}', uuid_lo) as uuid_l,"
        " format('{:016x}', bleg_hi) as bleg_h, format('{:016x}', bleg_lo) as bleg_l"
        if switch.platform == "freeswitch"
        else ""
    )
    return f"""
        select
            *,
            'cust-' || lpad(account_no::varchar, 5, '0') as tenant_key,
            case when direction_code = 2 then source::varchar else {held_number_sql("source")} end as src,
            case direction_code
                when 2 then destination::varchar
                when 0 then {held_number_sql("destination")}
                else {dialled_number_sql("destination")}
            end as dst,
            case when direction_code = 0 then '{switch.inbound_contexts[0]}' else '{switch.user_context}' end
                as context,
            {local_time_sql(switch, "start_s")} as start_time,
            case when outcome = 0 then {local_time_sql(switch, "answer_s")} end as answer_time,
            {local_time_sql(switch, "end_s")} as end_time,
            case outcome when 0 then '{switch.answered}' {causes} end as cause
            {hex_formats}
        from records  -- in file order: the connection preserves insertion order (no sort of 10 M rows)
    """


def copy_switch_records(con: duckdb.DuckDBPyConnection, switch: Switch, records: pd.DataFrame, path: Path) -> int:
    """Write records as the switch writes them: no header, its own quoting (DuckDB COPY, in order)."""
    con.register("records", records)
    fields = record_fields_sql(switch)
    target = str(path).replace("'", "''")
    if switch.platform == "asterisk":
        # Strings quoted (an empty one as ""), duration and billsec bare, a missing answer as nothing.
        channel = "lpad(lower(hex(2 * seq)), 8, '0')"
        other_channel = "lpad(lower(hex(2 * seq + 1)), 8, '0')"
        query = f"""
            select
                tenant_key as accountcode,
                src,
                dst,
                context as dcontext,
                '"' || case when direction_code = 0 then src else name::varchar end || '" <' || src || '>' as clid,
                'PJSIP/' || case direction_code when 0 then 'trunk' when 2 then source::varchar
                    else extension::varchar end || '-' || {channel} as channel,
                'PJSIP/' || case direction_code when 0 then extension::varchar when 2 then destination::varchar
                    else 'trunk' end || '-' || {other_channel} as dstchannel,
                'Dial' as lastapp,
                'PJSIP/' || case direction_code when 0 then extension::varchar || ',,tT'
                    when 2 then destination::varchar || ',,tT' else dst || '@trunk,,tT' end as lastdata,
                start_time,
                answer_time,
                end_time,
                duration,
                billsec,
                cause as disposition,
                'DOCUMENTATION' as amaflags,
                start_s::varchar || '.' || (2 * seq)::varchar as uniqueid,
                '' as userfield
            from ({fields})
        """
        quoted = ", ".join(c for c in ASTERISK_FIELD_NAMES if c not in ("duration", "billsec"))
        options = f"header false, delimiter ',', force_quote ({quoted})"
    else:
        # Every field quoted; an empty one (no answer, no b-leg) is "".
        query = f"""
            select
                case when direction_code = 0 then src else name::varchar end as caller_id_name,
                src as caller_id_number,
                case when leg = 1 and direction_code = 1 then '+' || destination::varchar
                    when leg = 1 and direction_code = 0 then extension::varchar
                    else dst end as destination_number,
                context,
                start_time as start_stamp,
                coalesce(answer_time, '') as answer_stamp,
                end_time as end_stamp,
                duration::varchar as duration,
                billsec::varchar as billsec,
                cause as hangup_cause,
                {uuid_sql("uuid_h", "uuid_l")} as uuid,
                case when has_bleg then {uuid_sql("bleg_h", "bleg_l")} else '' end as bleg_uuid,
                tenant_key as accountcode,
                'PCMU' as read_codec,
                'PCMU' as write_codec
            from ({fields})
        """
        options = "header false, delimiter ',', force_quote *"
    path.parent.mkdir(parents=True, exist_ok=True)
    con.execute(f"copy ({query}) to '{target}' ({options})")
    con.unregister("records")
    return len(records)


def repeat_rotated_heads(paths: list[Path], counts: list[int]) -> int:
    """A rotation that wrote records twice: the first counts[k] lines of file k end file k-1 too."""
    repeated = 0
    for older, newer, count in zip(paths, paths[1:], counts[1:], strict=False):
        with newer.open("rb") as fh:
            head = b"".join(fh.readline() for _ in range(count))
        with older.open("ab") as fh:
            fh.write(head)
        repeated += count
    return repeated


def split_off_canonical(
    con: duckdb.DuckDBPyConnection,
    calls: pd.DataFrame,
    resend_rng: np.random.Generator,
    switch_accounts: int,
    path: Path,
) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """A month's calls of the accounts after the first `switch_accounts` written as write_cdrs writes
    them (the same rows and call ids, without the switch's); returns the switch's calls, the canonical
    calls resent (write_cdrs' draw over all the month's calls, the switch's left out) and rows written."""
    on_switch = calls["account_no"].to_numpy(np.int64) <= switch_accounts
    resent = resend_rng.random(len(calls)) < RESEND_SHARE
    written = copy_calls(con, calls[~on_switch], path)
    return calls[on_switch].reset_index(drop=True), calls[resent & ~on_switch], written


def most_calls(calls: pd.DataFrame, accounts: int, count: int) -> IntArray:
    """Indexes of the `count` accounts with the most calls (ties: the lower account number first)."""
    per_account = np.bincount(calls["account_no"].to_numpy(np.int64) - 1, minlength=accounts)
    return np.argsort(-per_account, kind="stable")[:count].astype(np.int64)


def write_switch_cdrs(
    rng: np.random.Generator,
    accounts: Accounts,
    pools: CallPools,
    window: Window,
    calls_per_account_month: int,
    out_dir: Path,
    platform: str,
    unmapped_tenants: int,
    switch_accounts: int | None = None,
) -> dict[str, int | list[str]]:
    """The calls of write_cdrs (the same stream, the same calls) as one switch's CDR files, one per month.

    Also the switch (switches/) and its customer keys (switch_tenants/), except for the
    `unmapped_tenants` accounts with the most calls in the first month: their key has no row yet.

    With `switch_accounts` below the number of accounts, only the calls of the first `switch_accounts`
    accounts are the switch's (and only they have keys; the unmapped ones are among them); the other
    accounts' calls go to cdrs/ as write_cdrs writes them (split_off_canonical)."""
    switch = SWITCHES[platform]
    switch_accounts = accounts.count if switch_accounts is None else switch_accounts
    mixed = switch_accounts < accounts.count
    month_rngs = rng.spawn(window.months)  # write_cdrs' first spawn: the same canonical calls
    resend_rng = rng.spawn(1)[0] if mixed else None  # write_cdrs' second spawn: the same resent calls
    switch_rngs = rng.spawn(window.months)
    unique_names, name_code = np.unique(np.array(accounts.names, dtype=object), return_inverse=True)
    names = (unique_names.tolist(), name_code.astype(np.int64))
    paths = [out_dir / "switch_cdrs" / switch.switch_id / name for name in cdr_file_names(window.months)]
    repeats, written, next_call_no, next_seq = [], 0, 1, 1
    resends, canonical_written = [], 0
    unmapped = np.zeros(0, dtype=np.int64)
    with duckdb.connect() as con:
        con.execute("set enable_progress_bar = false")
        con.execute("set preserve_insertion_order = true")  # the records are written in frame order
        for offset, (month_rng, switch_rng) in enumerate(zip(month_rngs, switch_rngs, strict=True)):
            calls = month_calls(month_rng, accounts, pools, window, offset, calls_per_account_month, next_call_no)
            next_call_no += len(calls)
            if resend_rng is not None:
                path = out_dir / "cdrs" / f"cdrs_{window.first_month + offset}.csv"
                calls, resent, count = split_off_canonical(con, calls, resend_rng, switch_accounts, path)
                resends.append(resent)
                canonical_written += count
            if offset == 0:
                unmapped = np.sort(most_calls(calls, switch_accounts, unmapped_tenants))
            records = switch_records(switch_rng, switch, calls, pools, names, next_seq)
            next_seq += len(calls)
            del calls
            written += copy_switch_records(con, switch, records, paths[offset])
            count = max(1, round(RESEND_SHARE * len(records))) if len(records) else 0
            if platform == "freeswitch" and count and records["has_bleg"].iat[count - 1]:
                count += 1  # keep an a-leg and its b-leg together
            repeats.append(count)
            del records
        canonical = {}
        if mixed:
            resent = copy_calls(con, pd.concat(resends, ignore_index=True), out_dir / "cdrs" / "cdrs_resend.csv")
            canonical = {"cdrs": canonical_written, "cdrs_resend": resent}
    repeated = repeat_rotated_heads(paths, repeats)

    updated_at = f"{window.first_day}T00:00:00Z"
    switches = pd.DataFrame(
        [
            [
                switch.switch_id,
                switch.platform,
                switch.timezone,
                switch.country_code,
                ";".join(switch.inbound_contexts),
                updated_at,
            ]
        ],
        columns=list(SWITCH_COLUMNS),
    )
    mapped = np.setdiff1d(np.arange(switch_accounts), unmapped)
    tenants = pd.DataFrame(
        {
            "switch_id": switch.switch_id,
            "tenant_key": [tenant_key(i + 1) for i in mapped.tolist()],
            "account_id": account_ids(mapped),
            "updated_at": updated_at,
        },
        columns=list(SWITCH_TENANT_COLUMNS),
    )
    return canonical | {
        "switches": write_csv(switches, out_dir / "switches" / "switches.csv"),
        "switch_tenants": write_csv(tenants, out_dir / "switch_tenants" / "switch_tenants.csv"),
        "switch_cdrs": written,
        "switch_cdrs_repeated": repeated,
        "unmapped_tenants": account_ids(unmapped),
    }


def unmapped_tenant_ids(landing: Path) -> list[str]:
    """Accounts of a generated landing whose calls are in its switch files under a customer key that
    has no switch_tenants row (cust-00017 is ACC-00017's key)."""
    landing = Path(landing)
    switches = pd.read_csv(landing / "switches" / "switches.csv", dtype=str)
    keys: set[str] = set()
    for switch_id, platform in zip(switches["switch_id"], switches["platform"], strict=True):
        column = SWITCH_FORMATS[platform].columns.index("accountcode")
        for path in sorted((landing / "switch_cdrs" / switch_id).iterdir()):
            with path.open(newline="", encoding="utf-8") as fh:
                keys |= {row[column] for row in csv.reader(fh)}
    tenants = pd.read_csv(landing / "switch_tenants" / "switch_tenants.csv", dtype=str)["tenant_key"]
    return sorted("ACC-" + key.removeprefix("cust-") for key in keys - set(tenants))
