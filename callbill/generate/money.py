"""Money and account activity: payments, adjustments and partners."""

from __future__ import annotations

import numpy as np
import pandas as pd

from callbill.generate.accounts import Accounts, AutopayChanges
from callbill.generate.common import (
    Window,
    account_ids,
    at_business_time,
    choose_at_least_one,
    fmt_bools,
    fmt_cents,
    fmt_timestamps,
    invoice_id,
    uniform_days,
    where_text,
)
from callbill.generate.items import Items
from callbill.generate.reference import (
    ADJUSTMENT_REASONS,
    CHANGE_TYPES,
    COLUMNS,
    DISPUTE_REASONS,
    FAR_FUTURE,
    MONTHLY_PRICE,
    PARTNERS,
    PAYMENT_METHODS,
    PAYMENT_OUTCOME_SHARES,
    PAYMENT_OUTCOMES,
    IntArray,
)
from callbill.landing.contract import CARD_BRANDS


def rough_monthly_cents(items: Items, accounts: Accounts) -> IntArray:
    """A plausible monthly bill per account: recurring charges plus ~30% usage, fees and taxes."""
    recurring = np.bincount(
        items.account, weights=MONTHLY_PRICE[items.product] * items.quantity, minlength=accounts.count
    )
    return np.round(recurring * 130).astype(np.int64)


def invoice_payments(
    rng: np.random.Generator,
    accounts: Accounts,
    autopay: AutopayChanges,
    monthly_cents: IntArray,
    invoice_date: np.datetime64,
) -> pd.DataFrame:
    """One payment attempt per invoice of `invoice_date` (none for ~2.5%: left open for receivables)."""
    # Only invoices that exist: billing has started and service had not ended before the date.
    index = np.flatnonzero((accounts.first_invoice <= invoice_date) & (accounts.cancel_end >= invoice_date))
    size = len(index)
    outcome = rng.choice(len(PAYMENT_OUTCOMES), size=size, p=PAYMENT_OUTCOME_SHARES)
    on_autopay = autopay.autopay_on(accounts, index, invoice_date)
    method = np.where(on_autopay, rng.choice(2, size=size, p=[0.6, 0.4]), rng.choice(3, size=size, p=[0.4, 0.3, 0.3]))
    method[outcome == PAYMENT_OUTCOMES.index("chargeback")] = 0  # chargebacks happen on cards
    # R-CAL-5: autopay charges on the 10th of the invoice month; others pay 3-20 days after the date.
    delay = np.where(on_autopay, 9, rng.integers(3, 21, size))
    received = at_business_time(rng, np.full(size, invoice_date) + delay)
    amount = np.round(monthly_cents[index] * rng.lognormal(0.0, 0.12, size))
    amount = np.clip(amount, 5_000, 300_000).astype(np.int64)
    partial = outcome == PAYMENT_OUTCOMES.index("partial")
    share = rng.uniform(0.2, 0.8, int(partial.sum()))
    amount[partial] = np.maximum(np.round(amount[partial] * share), 100)
    against_balance = rng.random(size) < 0.05  # R-PAY-2: no invoice given, applied oldest first
    frame = pd.DataFrame(
        {
            "account": index,
            "invoice_id": where_text(~against_balance, [invoice_id(invoice_date, i) for i in index]),
            "received": received,
            "amount": amount,
            "method": method,
            "autopay": on_autopay,
            "outcome": outcome,
        }
    )
    return frame[outcome != PAYMENT_OUTCOMES.index("unpaid")]


def payments_frame(
    rng: np.random.Generator, accounts: Accounts, autopay: AutopayChanges, items: Items, window: Window
) -> pd.DataFrame:
    """Payments of the invoices that bill the generated months, numbered in the order received."""
    brand = rng.choice(len(CARD_BRANDS), size=accounts.count, p=[0.5, 0.3, 0.12, 0.08])
    card_last4, ach_last4 = rng.integers(0, 10_000, accounts.count), rng.integers(0, 10_000, accounts.count)
    monthly = rough_monthly_cents(items, accounts)
    paid = pd.concat(
        [invoice_payments(rng, accounts, autopay, monthly, day) for day in window.invoice_dates()],
        ignore_index=True,
    )
    paid = paid.sort_values(["received", "account"], kind="stable").reset_index(drop=True)
    account, method = paid["account"].to_numpy(np.int64), paid["method"].to_numpy(np.int64)
    outcome = paid["outcome"].to_numpy(np.int64)
    last4 = np.where(method == 0, card_last4[account], ach_last4[account])
    return pd.DataFrame(
        {
            "payment_id": [f"PAY-{i:07d}" for i in range(1, len(paid) + 1)],
            "account_id": account_ids(account),
            "invoice_id": paid["invoice_id"].tolist(),
            "received_at": fmt_timestamps(paid["received"].to_numpy()),
            "amount": fmt_cents(paid["amount"].to_numpy(np.int64)),
            "method": [PAYMENT_METHODS[m] for m in method],
            "card_brand": where_text(method == 0, [CARD_BRANDS[b] for b in brand[account]]),
            "last4": where_text(method < 2, [f"{d:04d}" for d in last4]),
            "is_autopay": fmt_bools(paid["autopay"].to_numpy(bool)),
            # A partial payment settles like any other; only its amount is lower.
            "status": ["settled" if o == 1 else PAYMENT_OUTCOMES[o] for o in outcome],
        },
        columns=list(COLUMNS["payments"]),
    )


def adjustments_frame(rng: np.random.Generator, accounts: Accounts, window: Window) -> pd.DataFrame:
    """Approved credits for ~2% of accounts; about a quarter come out of a dispute (R-CAL-6: <= 15 days)."""
    # Accounts whose invoices of the whole window exist (billing started, not cancelling).
    billed = np.flatnonzero((accounts.first_invoice <= window.month_start(1)) & (accounts.cancel_end >= FAR_FUTURE))
    candidates = billed if len(billed) else np.arange(accounts.count)
    chosen = candidates[choose_at_least_one(rng, len(candidates), 0.02 * accounts.count / len(candidates))]
    size = len(chosen)
    # Disputes need an invoice dated inside the window that is followed by at least 15 days of it.
    disputable = window.invoice_dates()[:-1]
    disputed = (rng.random(size) < 0.25) & bool(disputable)
    invoice_pick = rng.integers(0, max(len(disputable), 1), size)
    low = np.maximum(accounts.service_start[chosen] + 1, window.first_day)
    approved_day = uniform_days(rng, low, np.full(size, window.last_day))
    credit = -rng.choice([1_000, 1_500, 2_500, 3_000, 5_000, 7_500, 10_000], size=size)
    dispute_credit = -rng.integers(500, 15_000, size)
    days_after_invoice = rng.integers(2, 15, size)
    reasons, invoices = [], []
    for k in range(size):
        if disputed[k]:
            invoice_date = disputable[invoice_pick[k]]
            approved_day[k] = invoice_date + days_after_invoice[k]
            credit[k] = dispute_credit[k]
            reasons.append(DISPUTE_REASONS[int(rng.integers(0, len(DISPUTE_REASONS)))])
            invoices.append(invoice_id(invoice_date, int(chosen[k])))
        else:
            reasons.append(ADJUSTMENT_REASONS[int(rng.integers(0, len(ADJUSTMENT_REASONS)))])
            invoices.append(None)
    approved_at = at_business_time(rng, approved_day)
    order = np.argsort(approved_at, kind="stable")
    return pd.DataFrame(
        {
            "adjustment_id": [f"ADJ-{i:05d}" for i in range(1, size + 1)],
            "account_id": account_ids(chosen[order]),
            "amount": fmt_cents(credit[order]),
            "reason": [reasons[k] for k in order],
            "approved_at": fmt_timestamps(approved_at[order]),
            "disputed_invoice_id": [invoices[k] for k in order],
        },
        columns=list(COLUMNS["adjustments"]),
    )


def account_changes_frame(rng: np.random.Generator, accounts: Accounts, window: Window) -> pd.DataFrame:
    """One caller-ID / E911 / bidirectional change for ~5% of accounts (R-FEE-1)."""
    chosen = choose_at_least_one(rng, accounts.count, 0.05)
    low = np.maximum(accounts.service_start[chosen], window.first_day)
    high = np.minimum(window.last_day, accounts.cancel_end[chosen] - 1)
    changed_at = at_business_time(rng, uniform_days(rng, low, np.maximum(high, low)))
    change_type = rng.integers(0, len(CHANGE_TYPES), len(chosen))
    order = np.argsort(changed_at, kind="stable")
    return pd.DataFrame(
        {
            "change_id": [f"CHG-{i:05d}" for i in range(1, len(chosen) + 1)],
            "account_id": account_ids(chosen[order]),
            "change_type": [CHANGE_TYPES[t] for t in change_type[order].tolist()],
            "changed_at": fmt_timestamps(changed_at[order]),
        },
        columns=list(COLUMNS["account_changes"]),
    )


def partners_frame(rng: np.random.Generator, window: Window) -> pd.DataFrame:
    count = len(PARTNERS)
    residual_steps = rng.integers(40, 81, count)  # 0.1000 .. 0.2000 in steps of 0.0025
    spiff = rng.integers(4, 21, count) * 2_500
    signed = np.full(count, (window.first_month - 24).astype("datetime64[D]")) + rng.integers(0, 60, count)
    return pd.DataFrame(
        {
            "partner_id": [p[0] for p in PARTNERS],
            "partner_name": [p[1] for p in PARTNERS],
            "residual_rate": [f"{q * 25 / 10_000:.6f}" for q in residual_steps.tolist()],
            "spiff_amount": fmt_cents(spiff),
            "updated_at": fmt_timestamps(at_business_time(rng, signed)),
        },
        columns=list(COLUMNS["partners"]),
    )
