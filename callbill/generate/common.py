"""Small helpers every generator shares: random streams, dates and times, text columns, writing a file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from callbill.generate.reference import FAR_FUTURE, VALID_NXX, BoolArray, DateArray, DialTemplate, IntArray


@dataclass(frozen=True)
class Window:
    """The generated months: calls and activity from `first_month` for `months` months."""

    first_month: np.datetime64  # unit M
    months: int

    def month_start(self, offset: int) -> np.datetime64:
        return (self.first_month + offset).astype("datetime64[D]")

    @property
    def first_day(self) -> np.datetime64:
        return self.month_start(0)

    @property
    def last_day(self) -> np.datetime64:
        return self.month_start(self.months) - 1

    def invoice_dates(self) -> list[np.datetime64]:
        """The invoices (1st of the month after each generated month) that bill the generated usage."""
        return [self.month_start(k) for k in range(1, self.months + 1)]


def uniform_days(rng: np.random.Generator, low: DateArray, high: DateArray) -> DateArray:
    """A uniform date in [low, high] per element (low where the range is empty)."""
    span = np.maximum((high - low).astype(np.int64) + 1, 1)
    return low + np.floor(rng.random(len(low)) * span).astype(np.int64)


def add_months(dates: DateArray, months: IntArray) -> DateArray:
    """Calendar month arithmetic, clamped to the month end (Jan 31 + 1 month = Feb 28), like SQL."""
    month = dates.astype("datetime64[M]")
    day_offset = (dates - month.astype("datetime64[D]")).astype(np.int64)
    target = month + months
    last = (target + 1).astype("datetime64[D]") - 1
    return np.minimum(target.astype("datetime64[D]") + day_offset, last)


def month_end(dates: DateArray) -> DateArray:
    return (dates.astype("datetime64[M]") + 1).astype("datetime64[D]") - 1


def at_business_time(rng: np.random.Generator, days: DateArray) -> NDArray[np.datetime64]:
    """A timestamp on each day between 14:00 and 23:00 UTC (US office hours)."""
    seconds = rng.integers(14 * 3600, 23 * 3600, len(days))
    return days.astype("datetime64[s]") + seconds


def fmt_dates(days: DateArray) -> list[str | None]:
    text = np.datetime_as_string(days, unit="D")
    return [None if np.isnat(d) or d >= FAR_FUTURE else t for d, t in zip(days, text, strict=True)]


def fmt_timestamps(stamps: NDArray[np.datetime64]) -> list[str]:
    return [t + "Z" for t in np.datetime_as_string(stamps.astype("datetime64[s]"), unit="s")]


def fmt_cents(cents: IntArray) -> list[str]:
    return [f"{'-' if c < 0 else ''}{abs(c) // 100}.{abs(c) % 100:02d}" for c in cents.tolist()]


def fmt_bools(values: BoolArray) -> list[str]:
    return ["true" if v else "false" for v in values.tolist()]


def where_text(mask: BoolArray, texts: list[str]) -> list[str | None]:
    """The text where the mask is set, else null (an empty CSV field)."""
    return [t if m else None for t, m in zip(texts, mask.tolist(), strict=True)]


def fmt_numbers(numbers: IntArray) -> list[str | None]:
    """E.164 text of integer digit strings; 0 means no number."""
    return [f"+{n}" if n else None for n in numbers.tolist()]


def account_ids(indexes: IntArray) -> list[str]:
    return [f"ACC-{i + 1:05d}" for i in indexes.tolist()]


def invoice_id(invoice_date: np.datetime64, account_index: int) -> str:
    yyyymm = str(invoice_date)[:7].replace("-", "")
    return f"INV-{yyyymm}-ACC-{account_index + 1:05d}"


def choose_at_least_one(rng: np.random.Generator, count: int, share: float) -> IntArray:
    """About `share` of `count` indexes (at least one), sorted."""
    k = min(count, max(1, round(share * count)))
    return np.sort(rng.choice(count, size=k, replace=False)).astype(np.int64)


def nanp_bodies(rng: np.random.Generator, size: int) -> IntArray:
    """Random 7-digit subscriber numbers: a valid exchange and a line."""
    return VALID_NXX[rng.integers(0, len(VALID_NXX), size)] * 10_000 + rng.integers(0, 10_000, size)


def counter_bodies(counter: IntArray) -> IntArray:
    """Unique 7-digit subscriber numbers from a counter: 2000000, 2000001, ... skipping bad exchanges."""
    return VALID_NXX[counter // 10_000] * 10_000 + counter % 10_000


def dial(rng: np.random.Generator, templates: dict[str, DialTemplate], size: int) -> IntArray:
    """`size` numbers drawn from a weighted mix of dial templates (vectorised)."""
    specs = list(templates.values())
    weights = np.array([s.weight for s in specs])
    which = rng.choice(len(specs), size=size, p=weights / weights.sum())
    numbers = np.zeros(size, dtype=np.int64)
    for k, spec in enumerate(specs):
        rows = np.flatnonzero(which == k)
        heads = np.array(spec.heads, dtype=np.int64)[rng.integers(0, len(spec.heads), len(rows))]
        if spec.nanp_body:
            bodies = nanp_bodies(rng, len(rows))
        else:
            bodies = rng.integers(0, 10**spec.body_digits, len(rows))
        numbers[rows] = heads * 10**spec.body_digits + bodies
    return numbers


def write_csv(frame: pd.DataFrame, path: Path) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False, lineterminator="\n", encoding="utf-8")
    return len(frame)
