"""Accounts and their changes (accounts/, account_changes/): plans, partners, addresses, emails, cancellations."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from callbill.generate.common import (
    Window,
    account_ids,
    add_months,
    at_business_time,
    choose_at_least_one,
    fmt_bools,
    fmt_dates,
    fmt_timestamps,
    month_end,
    uniform_days,
    where_text,
)
from callbill.generate.reference import (
    COLUMNS,
    EMAIL_LOCAL_PARTS,
    FAR_FUTURE,
    NAME_INDUSTRIES,
    NAME_PREFIXES,
    NAME_SUFFIXES,
    PARTNERS,
    PLANS,
    STATE_CITIES,
    STATE_WEIGHTS,
    STATE_ZIP_RANGES,
    STATES,
    STREET_KINDS,
    STREET_NAMES,
    BoolArray,
    DateArray,
    IntArray,
)


@dataclass
class Accounts:
    """Account attributes as arrays (index i is ACC-{i+1:05d})."""

    names: list[str]
    domains: list[str]
    state: IntArray
    plan: IntArray
    phones: IntArray
    service_start: DateArray
    free_months: IntArray
    billing_start: DateArray
    cancel_requested: DateArray  # FAR_FUTURE when none
    cancel_end: DateArray  # first day without service; FAR_FUTURE when not cancelled
    autopay: BoolArray
    call_weight: NDArray[np.float64]

    @property
    def count(self) -> int:
        return len(self.state)

    @property
    def first_invoice(self) -> DateArray:
        """R-PRORATE-1: billing from the 1st is invoiced that day, else on the next month's 1st."""
        month = self.billing_start.astype("datetime64[M]").astype("datetime64[D]")
        return np.where(self.billing_start == month, month, month_end(self.billing_start) + 1)


def company_names(rng: np.random.Generator, count: int) -> tuple[list[str], list[str]]:
    """Plausible company names (few repeats) and a matching e-mail domain."""
    pairs = np.resize(rng.permutation(len(NAME_PREFIXES) * len(NAME_INDUSTRIES)), count)
    suffixes = rng.integers(0, len(NAME_SUFFIXES), count)
    names, domains = [], []
    for pair, suffix in zip(pairs.tolist(), suffixes.tolist(), strict=True):
        prefix, industry = divmod(pair, len(NAME_INDUSTRIES))
        prefix, industry = NAME_PREFIXES[prefix], NAME_INDUSTRIES[industry]
        names.append(f"{prefix} {industry} {NAME_SUFFIXES[suffix]}")
        domains.append(re.sub(r"[^a-z0-9]+", "-", f"{prefix} {industry}".lower()).strip("-") + ".example")
    return names, domains


def cancellation_end(requested: DateArray) -> DateArray:
    """R-CANCEL-1: >= 10 days before month end ends that month, else the next; returns the day after."""
    last = month_end(requested)
    days_before = (last - requested).astype(np.int64)
    end = np.where(days_before >= 10, last, month_end(last + 1))
    return np.where(requested >= FAR_FUTURE, FAR_FUTURE, end + 1)


def build_accounts(rng: np.random.Generator, count: int, window: Window) -> Accounts:
    names, domains = company_names(rng, count)
    state = rng.choice(len(STATES), size=count, p=STATE_WEIGHTS / STATE_WEIGHTS.sum())
    plan = rng.choice(len(PLANS), size=count, p=[0.4, 0.4, 0.2])
    phones = np.clip(np.round(rng.lognormal(np.log(6.0), 0.9, count)), 1, 60).astype(np.int64)

    earliest = (window.first_month - 18).astype("datetime64[D]")
    latest = window.month_start(1) - 1
    service_start = uniform_days(rng, np.full(count, earliest), np.full(count, latest))
    free_months = rng.choice([0, 1, 2], size=count, p=[0.88, 0.08, 0.04]).astype(np.int64)
    # A few accounts start mid-month in the start month so that invoices of the generated months
    # carry prorated first periods (R-PRORATE-1), with or without free months.
    late = rng.choice(count, size=min(count, max(3, round(0.03 * count))), replace=False)
    service_start[late] = window.first_day + rng.integers(1, 27, len(late))
    free_months[late] = rng.integers(0, 3, len(late))
    billing_start = add_months(service_start, free_months)

    cancel_requested = np.full(count, FAR_FUTURE)
    cancelling = choose_at_least_one(rng, count, 0.03)
    low = np.maximum(service_start[cancelling] + 1, window.first_day)
    cancel_requested[cancelling] = uniform_days(rng, low, np.full(len(cancelling), window.last_day))
    cancel_requested[cancel_requested > window.last_day] = FAR_FUTURE

    weight = phones**0.8 * rng.lognormal(0.0, 0.5, count)
    return Accounts(
        names=names,
        domains=domains,
        state=state.astype(np.int64),
        plan=plan.astype(np.int64),
        phones=phones,
        service_start=service_start,
        free_months=free_months,
        billing_start=billing_start,
        cancel_requested=cancel_requested,
        cancel_end=cancellation_end(cancel_requested),
        autopay=rng.random(count) < 0.5,
        call_weight=weight / weight.mean(),
    )


def account_emails(rng: np.random.Generator, domains: list[str]) -> tuple[list[str], list[str]]:
    """1-3 invoice recipients (primary first) and one receipt address per account."""
    extra_counts = rng.choice([0, 1, 2], size=len(domains), p=[0.5, 0.35, 0.15])
    receipt_to_primary = rng.random(len(domains)) < 0.6
    invoice_emails, receipts = [], []
    for domain, extra, to_primary in zip(domains, extra_counts, receipt_to_primary, strict=True):
        others = [EMAIL_LOCAL_PARTS[o] for o in rng.choice(len(EMAIL_LOCAL_PARTS), size=extra, replace=False)]
        invoice_emails.append(";".join(f"{local}@{domain}" for local in ["billing", *others]))
        receipts.append(f"billing@{domain}" if to_primary else f"receipts@{domain}")
    return invoice_emails, receipts


def accounts_frame(rng: np.random.Generator, accounts: Accounts) -> pd.DataFrame:
    count = accounts.count
    zip_low, zip_high = STATE_ZIP_RANGES[accounts.state, 0], STATE_ZIP_RANGES[accounts.state, 1]
    postal = zip_low + np.floor(rng.random(count) * (zip_high - zip_low + 1)).astype(np.int64)
    has_partner = rng.random(count) < 0.4
    partner = rng.integers(0, len(PARTNERS), count)
    # ~10% leave billing_start_date empty: the loader derives it (R-START-1).
    given = rng.random(count) >= 0.1
    term = rng.choice([12, 24, 36], size=count, p=[0.5, 0.3, 0.2])
    exempt = rng.random(count) < 0.08
    certificate = rng.integers(10_000, 100_000, count)
    allowance = np.where(accounts.phones >= 20, rng.integers(2, 6, count), 0)
    invoice_emails, receipts = account_emails(rng, accounts.domains)
    streets, cities = billing_addresses(rng, accounts.state)  # drawn last: the columns above are unchanged
    return pd.DataFrame(
        {
            "account_id": account_ids(np.arange(count)),
            "account_name": accounts.names,
            "billing_country": ["US"] * count,
            "billing_state": [STATES[s] for s in accounts.state.tolist()],
            "billing_postal_code": [f"{z:05d}" for z in postal.tolist()],
            "plan_id": [PLANS[p] for p in accounts.plan.tolist()],
            "partner_id": where_text(has_partner, [PARTNERS[p][0] for p in partner]),
            "service_start_date": fmt_dates(accounts.service_start),
            "billing_start_date": fmt_dates(np.where(given, accounts.billing_start, FAR_FUTURE)),
            "free_months": accounts.free_months.tolist(),
            "contract_term_months": term.tolist(),
            "tax_exempt_certificate_id": where_text(exempt, [f"TX-EX-{c}" for c in certificate]),
            "low_usage_allowance": allowance.tolist(),
            "autopay": fmt_bools(accounts.autopay),
            "invoice_emails": invoice_emails,
            "receipt_email": receipts,
            "cancel_requested_date": fmt_dates(accounts.cancel_requested),
            "updated_at": fmt_timestamps(at_business_time(rng, accounts.service_start)),
            "billing_street": streets,
            "billing_city": cities,
        },
        columns=list(COLUMNS["accounts"]),
    )


def billing_addresses(rng: np.random.Generator, state: IntArray) -> tuple[list[str], list[str]]:
    """A street address (some with a suite) and a city of the account's state."""
    count = len(state)
    number = rng.integers(1, 9900, count)
    street = rng.integers(0, len(STREET_NAMES), count)
    kind = rng.integers(0, len(STREET_KINDS), count)
    suite = np.where(rng.random(count) < 0.3, rng.integers(100, 900, count), 0)
    city = rng.random(count)
    streets, cities = [], []
    for k, s in enumerate(state.tolist()):
        line = f"{number[k]} {STREET_NAMES[street[k]]} {STREET_KINDS[kind[k]]}"
        streets.append(f"{line}, Suite {suite[k]}" if suite[k] else line)
        options = STATE_CITIES[STATES[s]]
        cities.append(options[int(city[k] * len(options))])
    return streets, cities


@dataclass
class AutopayChanges:
    """Autopay switched by a later account version: from `changed_on` on, `autopay` is the new value."""

    changed_on: DateArray  # FAR_FUTURE when unchanged
    autopay: BoolArray

    def autopay_on(self, accounts: Accounts, index: IntArray, day: np.datetime64) -> BoolArray:
        return np.where(self.changed_on[index] <= day, self.autopay[index], accounts.autopay[index])


def account_updates(
    rng: np.random.Generator, accounts: Accounts, current: pd.DataFrame, window: Window
) -> tuple[pd.DataFrame, AutopayChanges]:
    """A second, later version of ~3% of accounts: a new name, autopay switched, or another recipient."""
    chosen = choose_at_least_one(rng, accounts.count, 0.03)
    rows = current.iloc[chosen].copy()
    low = np.maximum(accounts.service_start[chosen] + 1, window.first_day)
    day = uniform_days(rng, low, np.full(len(chosen), window.last_day))
    kind = rng.integers(0, 3, len(chosen))
    changes = AutopayChanges(np.full(accounts.count, FAR_FUTURE), accounts.autopay.copy())
    names, autopays = rows["account_name"].tolist(), rows["autopay"].tolist()
    emails = rows["invoice_emails"].tolist()
    for k, (index, what) in enumerate(zip(chosen.tolist(), kind.tolist(), strict=True)):
        if what == 0:
            names[k] = names[k].rsplit(" ", 1)[0] + " Holdings"
        elif what == 1:
            changes.changed_on[index], changes.autopay[index] = day[k], not accounts.autopay[index]
            autopays[k] = "true" if changes.autopay[index] else "false"
        elif emails[k].count(";") < 4:
            emails[k] += f";payables@{accounts.domains[index]}"
    rows["account_name"], rows["autopay"], rows["invoice_emails"] = names, autopays, emails
    rows["updated_at"] = fmt_timestamps(at_business_time(rng, day))
    return rows.reset_index(drop=True), changes
