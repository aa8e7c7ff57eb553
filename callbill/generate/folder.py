"""generate_landing: a whole landing folder from the generators above."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from callbill.generate.accounts import account_updates, accounts_frame, build_accounts
from callbill.generate.calls import write_cdrs
from callbill.generate.common import Window, write_csv
from callbill.generate.items import build_items, call_pools, items_frame
from callbill.generate.money import account_changes_frame, adjustments_frame, partners_frame, payments_frame
from callbill.generate.reference import START_MONTH_PATTERN
from callbill.generate.switches import PLATFORMS, write_switch_cdrs


def parse_start_month(start_month: str) -> np.datetime64:
    match = START_MONTH_PATTERN.match(start_month) if isinstance(start_month, str) else None
    if not match or int(match.group(1)) < 1971:
        raise ValueError(f"start_month must be YYYY-MM (e.g. 2026-02), got {start_month!r}")
    return np.datetime64(start_month, "M")


def check_arguments(
    out_dir: Path,
    accounts: int,
    months: int,
    calls_per_account_month: int,
    seed: int,
    platform: str | None = None,
    unmapped_tenants: int = 1,
    platform_accounts: int | None = None,
) -> None:
    for name, value, minimum in (
        ("accounts", accounts, 1),
        ("months", months, 1),
        ("calls_per_account_month", calls_per_account_month, 0),
        ("seed", seed, 0),
        ("unmapped_tenants", unmapped_tenants, 0),
        *([("platform_accounts", platform_accounts, 1)] if platform_accounts is not None else []),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if accounts > 99_999:
        raise ValueError(f"accounts must be at most 99999 (ids are ACC-00001..ACC-99999), got {accounts}")
    if platform is not None and platform not in PLATFORMS:
        raise ValueError(f"platform must be one of {', '.join(PLATFORMS)} (or none for cdrs/), got {platform!r}")
    if platform_accounts is not None and platform is None:
        raise ValueError("platform_accounts needs a platform: the accounts whose calls are the switch's files")
    if platform_accounts is not None and platform_accounts > accounts:
        raise ValueError(f"platform_accounts must be at most accounts ({accounts}), got {platform_accounts}")
    on_switch = accounts if platform_accounts is None else platform_accounts
    if unmapped_tenants > on_switch:
        what = "accounts" if platform_accounts is None else "platform_accounts"
        raise ValueError(f"unmapped_tenants must be at most {what} ({on_switch}), got {unmapped_tenants}")
    if out_dir.exists() and not out_dir.is_dir():
        raise ValueError(f"OUT_DIR {out_dir} is not a directory")
    if out_dir.is_dir() and any(out_dir.iterdir()):
        raise ValueError(f"OUT_DIR {out_dir} is not empty: generate into a new or empty folder")


def generate_landing(
    out_dir: Path,
    accounts: int = 300,
    start_month: str = "2026-02",
    months: int = 3,
    calls_per_account_month: int = 1100,
    seed: int = 42,
    platform: str | None = None,
    unmapped_tenants: int = 1,
    platform_accounts: int | None = None,
) -> dict[str, int | list[str]]:
    """Write a landing folder and return the rows written per file group.

    Accounts and items start on or before `start_month`; calls, payments, adjustments and changes
    cover `months` months from it, so closing each following month bills them.

    With `platform` (asterisk, freeswitch) the calls are that switch's own CDR files instead of
    cdrs/ (write_switch_cdrs): the same calls, and every other file byte for byte the same. The
    returned "unmapped_tenants" lists the accounts whose customer key has no switch_tenants row.
    With `platform_accounts` N (default: all), only the calls of ACC-00001..N are the switch's files,
    and only they have switch_tenants rows (the unmapped ones are among them); the other accounts'
    calls are in cdrs/ as without a platform (the same rows, call ids and resent rows).
    """
    out_dir = Path(out_dir)
    first_month = parse_start_month(start_month)
    check_arguments(
        out_dir, accounts, months, calls_per_account_month, seed, platform, unmapped_tenants, platform_accounts
    )
    window = Window(first_month, months)
    out_dir.mkdir(parents=True, exist_ok=True)

    streams = np.random.default_rng(seed).spawn(8)
    account_rng, update_rng, item_rng, cdr_rng, payment_rng, adjustment_rng, change_rng, partner_rng = streams
    table = build_accounts(account_rng, accounts, window)
    current = accounts_frame(account_rng, table)
    updates, autopay = account_updates(update_rng, table, current, window)
    items = build_items(item_rng, table, window)

    rows: dict[str, int | list[str]] = {
        "accounts": write_csv(current, out_dir / "accounts" / "accounts.csv"),
        "accounts_updates": write_csv(updates, out_dir / "accounts" / "accounts_updates.csv"),
        "subscription_items": write_csv(items_frame(items), out_dir / "subscription_items" / "subscription_items.csv"),
    }
    cdr_arguments = (cdr_rng, table, call_pools(items, table), window, calls_per_account_month, out_dir)
    if platform is None:
        rows |= write_cdrs(*cdr_arguments)
    else:
        rows |= write_switch_cdrs(*cdr_arguments, platform, unmapped_tenants, platform_accounts)
    rows["payments"] = write_csv(
        payments_frame(payment_rng, table, autopay, items, window), out_dir / "payments" / "payments.csv"
    )
    rows["adjustments"] = write_csv(
        adjustments_frame(adjustment_rng, table, window), out_dir / "adjustments" / "adjustments.csv"
    )
    rows["account_changes"] = write_csv(
        account_changes_frame(change_rng, table, window), out_dir / "account_changes" / "account_changes.csv"
    )
    rows["partners"] = write_csv(partners_frame(partner_rng, window), out_dir / "partners" / "partners.csv")
    return rows
