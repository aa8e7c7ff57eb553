"""The rating step as an analyst would write it in pandas: candidate prefixes of each destination,
a merge with the rate deck, the longest prefix in force, billable seconds, cost, a groupby. The
benchmark times it against callbill's SQL rating of the same calls."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd


def rate_with_pandas(warehouse: str) -> pd.DataFrame:
    with duckdb.connect(warehouse, read_only=True) as con:
        calls = con.execute(
            "select call_id, account_id, destination_number, start_time_utc, duration_sec "
            "from raw.cdrs where direction = 'outbound' and destination_number like '+%'"
        ).df()
        deck = con.execute(
            "select prefix, rate_per_minute, initial_seconds, increment_seconds, effective_from, effective_to "
            "from reference.rate_deck"
        ).df()
    deck["rate_per_minute"] = deck["rate_per_minute"].astype(float)
    deck["effective_from"] = pd.to_datetime(deck["effective_from"])
    deck["effective_to"] = pd.to_datetime(deck["effective_to"])
    digits = calls["destination_number"].str[1:]
    max_len = int(deck["prefix"].str.len().max())
    candidates = pd.concat(
        [pd.DataFrame({"row": calls.index, "prefix": digits.str[:n], "length": n}) for n in range(1, max_len + 1)],
        ignore_index=True,
    )
    matched = candidates.merge(deck, on="prefix")
    start_day = calls["start_time_utc"].dt.normalize().to_numpy()[matched["row"].to_numpy()]
    in_force = (matched["effective_from"].to_numpy() <= start_day) & (
        matched["effective_to"].isna().to_numpy() | (start_day <= matched["effective_to"].to_numpy())
    )
    matched = matched[in_force]
    best = matched.sort_values(["row", "length"]).drop_duplicates("row", keep="last").set_index("row")
    rated = calls.join(best[["rate_per_minute", "initial_seconds", "increment_seconds"]], how="inner")
    duration = rated["duration_sec"].to_numpy()
    initial, increment = rated["initial_seconds"].to_numpy(), rated["increment_seconds"].to_numpy()
    billable = np.where(
        duration <= 0,
        0,
        np.where(duration <= initial, initial, initial + -(-(duration - initial) // increment) * increment),
    )
    rated["billable_seconds"] = billable
    rated["cost"] = billable / 60 * rated["rate_per_minute"]
    return rated.groupby("account_id").agg(calls=("call_id", "count"), cost=("cost", "sum")).reset_index()
