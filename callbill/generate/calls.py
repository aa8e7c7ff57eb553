"""Calls (cdrs/): each account's month of calls as numpy arrays, written by DuckDB."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from callbill.generate.accounts import Accounts
from callbill.generate.common import Window, dial, nanp_bodies
from callbill.generate.items import CallPools
from callbill.generate.reference import (
    CALL_MIX,
    DIRECTION_OF_KIND,
    INBOUND,
    INTERNAL,
    INTERNATIONAL,
    INTERNATIONAL_CALL,
    LOCAL,
    LONG_DISTANCE,
    MAX_CALL_SECONDS,
    MEDIAN_CALL_SECONDS,
    NANP_COUNTRY,
    NPA_POSITION,
    PREMIUM,
    PREMIUM_CALL,
    RESEND_SHARE,
    STATE_UTC_OFFSET_HOURS,
    TIMESTAMP_FORMAT,
    TOLL_FREE,
    UNANSWERED_SHARE,
    US_NPAS,
    IntArray,
)


def call_start_seconds(
    rng: np.random.Generator,
    accounts: Accounts,
    account: IntArray,
    first_day: IntArray,
    days: IntArray,
    last: IntArray,
) -> IntArray:
    """Uniform over each account's active days, fewer at weekends, mostly in local office hours."""
    size = len(account)
    day = first_day + np.floor(rng.random(size) * days).astype(np.int64)
    weekend = ((day + 3) % 7 >= 5) & (rng.random(size) < 0.7)  # 1970-01-01 was a Thursday
    redraw = np.floor(rng.random(int(weekend.sum())) * days[weekend]).astype(np.int64)
    day[weekend] = first_day[weekend] + redraw
    office = rng.random(size) < 0.8
    local_seconds = rng.integers(8 * 3600, 18 * 3600, size)
    utc_offset = STATE_UTC_OFFSET_HOURS[accounts.state[account]] * 3600
    seconds = np.where(office, local_seconds + utc_offset, rng.integers(0, 86_400, size))
    start = day * 86_400 + seconds
    # Evening office hours run past UTC midnight: keep the call inside the account's window.
    return np.where(start >= last * 86_400, start - 86_400, start)


def call_kinds(rng: np.random.Generator, pools: CallPools, account: IntArray) -> IntArray:
    kind = np.searchsorted(np.cumsum(CALL_MIX), rng.random(len(account)) * CALL_MIX.sum(), side="right")
    kind = np.minimum(kind, len(CALL_MIX) - 1)
    kind[(kind == INTERNAL) & (pools.extensions.count[account] < 2)] = LOCAL
    kind[(kind == TOLL_FREE) & (pools.toll_free[account] == 0)] = INBOUND
    return kind


def call_numbers(
    rng: np.random.Generator, pools: CallPools, account: IntArray, kind: IntArray
) -> tuple[IntArray, IntArray]:
    """Source and destination digits per call (extensions for internal calls)."""
    size = len(account)
    source, destination = np.zeros(size, dtype=np.int64), np.zeros(size, dtype=np.int64)
    outbound = np.flatnonzero(DIRECTION_OF_KIND[kind] == 1)
    source[outbound] = pools.local_dids.pick(rng, account[outbound])
    source_npa = (source // 10**7) % 1000

    rows = np.flatnonzero(kind == LOCAL)
    destination[rows] = NANP_COUNTRY + source_npa[rows] * 10**7 + nanp_bodies(rng, len(rows))
    rows = np.flatnonzero(kind == LONG_DISTANCE)
    other = (NPA_POSITION[source_npa[rows]] + rng.integers(1, len(US_NPAS), len(rows))) % len(US_NPAS)
    destination[rows] = NANP_COUNTRY + US_NPAS[other] * 10**7 + nanp_bodies(rng, len(rows))
    rows = np.flatnonzero(kind == INTERNATIONAL_CALL)
    destination[rows] = dial(rng, INTERNATIONAL, len(rows))
    rows = np.flatnonzero(kind == PREMIUM_CALL)
    destination[rows] = dial(rng, PREMIUM, len(rows))

    rows = np.flatnonzero((kind == INBOUND) | (kind == TOLL_FREE))
    caller_npa = US_NPAS[rng.integers(0, len(US_NPAS), len(rows))]
    source[rows] = NANP_COUNTRY + caller_npa * 10**7 + nanp_bodies(rng, len(rows))
    rows = np.flatnonzero(kind == INBOUND)
    destination[rows] = pools.inbound_dids.pick(rng, account[rows])
    rows = np.flatnonzero(kind == TOLL_FREE)
    destination[rows] = pools.toll_free[account[rows]]

    rows = np.flatnonzero(kind == INTERNAL)
    extensions = pools.extensions
    count, offset = extensions.count[account[rows]], extensions.offset[account[rows]]
    caller = np.floor(rng.random(len(rows)) * count).astype(np.int64)
    callee = (caller + 1 + np.floor(rng.random(len(rows)) * (count - 1)).astype(np.int64)) % count
    source[rows], destination[rows] = extensions.values[offset + caller], extensions.values[offset + callee]
    return source, destination


def call_durations(rng: np.random.Generator, size: int) -> IntArray:
    """Long-tailed (lognormal, median 90 s, capped at 4 h); ~5% unanswered at 0 s."""
    seconds = np.ceil(rng.lognormal(np.log(MEDIAN_CALL_SECONDS), 1.25, size)).astype(np.int64)
    seconds = np.clip(seconds, 1, MAX_CALL_SECONDS)
    seconds[rng.random(size) < UNANSWERED_SHARE] = 0
    return seconds


def month_calls(
    rng: np.random.Generator,
    accounts: Accounts,
    pools: CallPools,
    window: Window,
    offset: int,
    calls_per_account_month: int,
    first_call_no: int,
) -> pd.DataFrame:
    """All calls that start in one generated month, numbered in start order from `first_call_no`."""
    month_first = window.month_start(offset)
    month_last = window.month_start(offset + 1)
    # Calls only while the account has service: from the service start to the cancellation.
    first = np.maximum(accounts.service_start, month_first).astype(np.int64)
    last = np.minimum(accounts.cancel_end, month_last).astype(np.int64)
    days = np.maximum(last - first, 0)
    month_days = (month_last - month_first).astype(np.int64)
    expected = calls_per_account_month * accounts.call_weight * days / month_days
    per_account = rng.poisson(expected)
    account = np.repeat(np.arange(accounts.count), per_account)

    start = call_start_seconds(rng, accounts, account, first[account], days[account], last[account])
    kind = call_kinds(rng, pools, account)
    source, destination = call_numbers(rng, pools, account, kind)
    duration = call_durations(rng, len(account))
    order = np.argsort(start, kind="stable")
    return pd.DataFrame(
        {
            "call_no": np.arange(first_call_no, first_call_no + len(account), dtype=np.int64),
            "account_no": account[order] + 1,
            "direction_code": DIRECTION_OF_KIND[kind[order]],
            "source": source[order],
            "destination": destination[order],
            "start_s": start[order],
            "duration_sec": duration[order],
        }
    )


def copy_calls(con: duckdb.DuckDBPyConnection, calls: pd.DataFrame, path: Path) -> int:
    """Write calls as contract CSV with DuckDB (parallel, ordered by call id)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con.register("calls", calls)
    number = "case when direction_code = 2 then {0}::varchar else '+' || {0}::varchar end"
    con.execute(
        f"""
        copy (
            select
                'C' || lpad(call_no::varchar, 12, '0') as call_id,
                'ACC-' || lpad(account_no::varchar, 5, '0') as account_id,
                case direction_code when 0 then 'inbound' when 1 then 'outbound' else 'internal' end
                    as direction,
                {number.format("source")} as source_number,
                {number.format("destination")} as destination_number,
                strftime(make_timestamp(start_s * 1000000), '{TIMESTAMP_FORMAT}') as start_time_utc,
                strftime(make_timestamp((start_s + duration_sec) * 1000000), '{TIMESTAMP_FORMAT}')
                    as end_time_utc,
                duration_sec
            from (select * from calls order by call_no)
        ) to '{str(path).replace("'", "''")}' (header, delimiter ',')
        """
    )
    con.unregister("calls")
    return len(calls)


def write_cdrs(
    rng: np.random.Generator,
    accounts: Accounts,
    pools: CallPools,
    window: Window,
    calls_per_account_month: int,
    out_dir: Path,
) -> dict[str, int]:
    """One file per month plus cdrs_resend.csv: ~0.2% of all calls again, byte for byte (R-RATE-7)."""
    month_rngs = rng.spawn(window.months)
    resend_rng = rng.spawn(1)[0]
    resends, written, next_call_no = [], 0, 1
    with duckdb.connect() as con:
        con.execute("set enable_progress_bar = false")
        for offset, month_rng in enumerate(month_rngs):
            calls = month_calls(month_rng, accounts, pools, window, offset, calls_per_account_month, next_call_no)
            next_call_no += len(calls)
            month = str(window.first_month + offset)
            written += copy_calls(con, calls, out_dir / "cdrs" / f"cdrs_{month}.csv")
            resends.append(calls.iloc[np.flatnonzero(resend_rng.random(len(calls)) < RESEND_SHARE)])
            del calls
        resent = copy_calls(con, pd.concat(resends, ignore_index=True), out_dir / "cdrs" / "cdrs_resend.csv")
    return {"cdrs": written, "cdrs_resend": resent}
