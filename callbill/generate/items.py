"""Subscription items (subscription_items/): devices, numbers and seats per account, with their phone
numbers and extensions."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from callbill.generate.accounts import Accounts
from callbill.generate.common import (
    Window,
    account_ids,
    at_business_time,
    counter_bodies,
    fmt_bools,
    fmt_dates,
    fmt_numbers,
    fmt_timestamps,
    uniform_days,
)
from callbill.generate.reference import (
    ATA,
    CC_SEAT,
    COLUMNS,
    DID_INBOUND,
    DID_INTL,
    DID_LOCAL,
    DID_TOLLFREE,
    FAR_FUTURE,
    NANP_COUNTRY,
    PAGING,
    PHONE_DESK,
    PRODUCTS,
    RENTAL_PHONE,
    STATE_NPA_COUNT,
    STATE_NPA_TABLE,
    TOLL_FREE_NPAS,
    BoolArray,
    DateArray,
    IntArray,
)


@dataclass
class Items:
    """Subscription items in item_id order, as arrays."""

    account: IntArray
    product: IntArray
    quantity: IntArray
    number: IntArray  # E.164 digits, 0 = none
    extension: IntArray  # 0 = none
    low_usage: BoolArray
    start: DateArray
    end: DateArray  # FAR_FUTURE = open
    updated_at: NDArray[np.datetime64]


@dataclass
class Pool:
    """Per-account lists (e.g. the numbers an account can call from), flattened with offsets."""

    values: IntArray
    offset: IntArray
    count: IntArray

    @classmethod
    def of(cls, account: IntArray, values: IntArray, accounts: int) -> Pool:
        """`account` must be sorted: items are in account order."""
        count = np.bincount(account, minlength=accounts).astype(np.int64)
        return cls(values.astype(np.int64), np.cumsum(count) - count, count)

    def pick(self, rng: np.random.Generator, account: IntArray) -> IntArray:
        position = np.floor(rng.random(len(account)) * self.count[account]).astype(np.int64)
        return self.values[self.offset[account] + position]


@dataclass
class CallPools:
    local_dids: Pool  # outbound caller IDs
    inbound_dids: Pool  # local and inbound-only numbers
    extensions: Pool  # desk phones
    toll_free: IntArray  # one per account, 0 = none


def item_counts(rng: np.random.Generator, accounts: Accounts) -> dict[int, IntArray]:
    """How many items of each product every account has (every product appears at least once)."""
    n, phones = accounts.count, accounts.phones

    def some(share: float, low: int = 1, high: int = 1) -> IntArray:
        return np.where(rng.random(n) < share, rng.integers(low, high + 1, n), 0).astype(np.int64)

    counts = {
        PHONE_DESK: phones.copy(),
        ATA: some(0.25, 1, 2),
        PAGING: some(0.12),
        DID_LOCAL: 1 + phones // 3,
        DID_TOLLFREE: some(0.6),
        DID_INBOUND: some(0.2, 1, 3),
        DID_INTL: some(0.05),
        CC_SEAT: some(0.15),
        RENTAL_PHONE: some(0.2),
    }
    for values in counts.values():
        if values.sum() == 0:
            values[rng.integers(0, n)] = 1
    return counts


def item_numbers(rng: np.random.Generator, accounts: Accounts, account: IntArray, product: IntArray) -> IntArray:
    """Unique numbers for the DIDs: US numbers from one global counter, international from another."""
    numbers = np.zeros(len(account), dtype=np.int64)
    us = np.isin(product, [DID_LOCAL, DID_INBOUND, DID_TOLLFREE])
    counter = np.cumsum(us) - 1
    state = accounts.state[account]
    npa = STATE_NPA_TABLE[state, np.floor(rng.random(len(account)) * STATE_NPA_COUNT[state]).astype(np.int64)]
    toll_free = product == DID_TOLLFREE
    npa[toll_free] = TOLL_FREE_NPAS[rng.integers(0, len(TOLL_FREE_NPAS), int(toll_free.sum()))]
    numbers[us] = NANP_COUNTRY + npa[us] * 10**7 + counter_bodies(counter[us])
    # International DIDs alternate between London (+44 20 38..) and Berlin (+49 30 2..).
    intl = np.flatnonzero(product == DID_INTL)
    k = np.arange(len(intl))
    numbers[intl] = np.where(k % 2 == 0, 442038 * 10**6 + k, 49302 * 10**7 + k)
    return numbers


def build_items(rng: np.random.Generator, accounts: Accounts, window: Window) -> Items:
    counts = item_counts(rng, accounts)
    parts = []
    for product, per_account in counts.items():
        account = np.repeat(np.arange(accounts.count), per_account)
        seq = np.arange(len(account)) - np.repeat(np.cumsum(per_account) - per_account, per_account)
        parts.append((account, np.full(len(account), product), seq))
    account, product, seq = (np.concatenate(column) for column in zip(*parts, strict=True))
    order = np.lexsort((seq, product, account))
    account, product, seq = account[order], product[order], seq[order]
    size = len(account)

    quantity = np.ones(size, dtype=np.int64)
    quantity[product == CC_SEAT] = rng.integers(2, 11, int((product == CC_SEAT).sum()))
    quantity[product == RENTAL_PHONE] = rng.integers(1, 6, int((product == RENTAL_PHONE).sum()))
    # Extensions 101.. for desk phones, then ATAs, then paging devices: unique within the account.
    phones, atas = counts[PHONE_DESK][account], counts[ATA][account]
    extension = np.select(
        [product == PHONE_DESK, product == ATA, product == PAGING],
        [101 + seq, 101 + phones + seq, 101 + phones + atas + seq],
        0,
    )
    start, end = item_dates(rng, accounts, window, account, product, seq)
    updated = np.where(end < FAR_FUTURE, np.maximum(start, end - rng.integers(3, 22, size)), start)
    return Items(
        account=account,
        product=product,
        quantity=quantity,
        number=item_numbers(rng, accounts, account, product),
        extension=extension,
        low_usage=low_usage_flags(rng, accounts, account, product),
        start=start,
        end=end,
        updated_at=at_business_time(rng, updated),
    )


def item_dates(
    rng: np.random.Generator,
    accounts: Accounts,
    window: Window,
    account: IntArray,
    product: IntArray,
    seq: IntArray,
) -> tuple[DateArray, DateArray]:
    """Start with the account; ~5% added mid-month in the generated months, ~2% ended there.

    The core items (two desk phones, the main number, the toll-free number) never move, so that
    every account keeps numbers and extensions to call from for the whole window."""
    size = len(account)
    start = accounts.service_start[account].copy()
    end = np.full(size, FAR_FUTURE)
    first_phones = (product == PHONE_DESK) & (seq < 2)
    core = first_phones | ((product == DID_LOCAL) & (seq == 0)) | (product == DID_TOLLFREE)
    last_service_day = np.minimum(window.last_day, accounts.cancel_end[account] - 1)

    added = ~core & (rng.random(size) < 0.06)
    low = np.maximum(start + 1, window.first_day)
    day = uniform_days(rng, low, last_service_day)
    day = np.where(day == day.astype("datetime64[M]").astype("datetime64[D]"), day + 1, day)  # not the 1st
    added &= day <= last_service_day
    start[added] = day[added]

    ended = ~core & ~added & (rng.random(size) < 0.025)
    day = uniform_days(rng, np.maximum(start + 1, window.first_day), last_service_day)
    ended &= day <= last_service_day
    end[ended] = day[ended]
    return start, end


def low_usage_flags(rng: np.random.Generator, accounts: Accounts, account: IntArray, product: IntArray) -> BoolArray:
    """Accounts with >= 20 phones may declare low-usage phones (R-LOWUSE-1), sometimes more than allowed."""
    flags = np.zeros(len(account), dtype=bool)
    declaring = np.flatnonzero((accounts.phones >= 20) & (rng.random(accounts.count) < 0.6))
    phone_rows = np.flatnonzero(product == PHONE_DESK)
    first_phone = np.searchsorted(account[phone_rows], np.arange(accounts.count))
    for index in declaring.tolist():
        wanted = min(int(rng.integers(1, 8)), int(accounts.phones[index]))
        chosen = rng.choice(int(accounts.phones[index]), size=wanted, replace=False)
        flags[phone_rows[first_phone[index] + chosen]] = True
    return flags


def items_frame(items: Items) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "item_id": [f"IT-{i:06d}" for i in range(1, len(items.account) + 1)],
            "account_id": account_ids(items.account),
            "product_code": [PRODUCTS[p] for p in items.product.tolist()],
            "quantity": items.quantity.tolist(),
            "phone_number": fmt_numbers(items.number),
            "extension": [str(e) if e else None for e in items.extension.tolist()],
            "low_usage": fmt_bools(items.low_usage),
            "start_date": fmt_dates(items.start),
            "end_date": fmt_dates(items.end),
            "updated_at": fmt_timestamps(items.updated_at),
        },
        columns=list(COLUMNS["subscription_items"]),
    )


def call_pools(items: Items, accounts: Accounts) -> CallPools:
    """What calls may use: items live from the service start and never ended (see item_dates)."""
    stable = (items.start == accounts.service_start[items.account]) & (items.end >= FAR_FUTURE)
    local = stable & (items.product == DID_LOCAL)
    inbound = stable & np.isin(items.product, [DID_LOCAL, DID_INBOUND])
    phones = stable & (items.product == PHONE_DESK)
    toll_free = np.zeros(accounts.count, dtype=np.int64)
    rows = np.flatnonzero(stable & (items.product == DID_TOLLFREE))
    toll_free[items.account[rows]] = items.number[rows]
    return CallPools(
        local_dids=Pool.of(items.account[local], items.number[local], accounts.count),
        inbound_dids=Pool.of(items.account[inbound], items.number[inbound], accounts.count),
        extensions=Pool.of(items.account[phones], items.extension[phones], accounts.count),
        toll_free=toll_free,
    )
