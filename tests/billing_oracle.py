"""An independent, plain-Python reading of BILLING_RULES.md, used only to check the warehouse.

It reads the landing CSVs and the seed CSVs directly and computes each invoice's lines with
Decimal, row by row, without any of the project's SQL. Slow, small data only.
"""

import csv
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
SAFE_HARBOR = Decimal("0.649")  # R-USF-1 default interstate share
BUNDLE_TYPES = {"internal", "local", "long_distance"}


def cents(x: Decimal) -> Decimal:
    return x.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def rows(folder: Path) -> list[dict[str, str]]:
    out = []
    for path in sorted(folder.glob("*.csv")):
        with path.open(newline="") as fh:
            out.extend(csv.DictReader(fh))
    return out


def seed(name: str) -> list[dict[str, str]]:
    with (SEEDS / f"{name}.csv").open(newline="") as fh:
        return list(csv.DictReader(fh))


def day(text: str) -> date | None:
    return date.fromisoformat(text) if text else None


def stamp(text: str) -> datetime:
    return datetime.fromisoformat(text.rstrip("Z"))


def add_months(d: date, months: int) -> date:
    month = d.month - 1 + months
    year, month = d.year + month // 12, month % 12 + 1
    return date(year, month, min(d.day, days_in_month(date(year, month, 1))))


def days_in_month(d: date) -> int:
    return (add_months_first(d, 1) - timedelta(days=1)).day


def add_months_first(d: date, months: int) -> date:
    month = d.month - 1 + months
    return date(d.year + month // 12, month % 12 + 1, 1)


def last_day(d: date) -> date:
    return add_months_first(d, 1) - timedelta(days=1)


def latest(records: list[dict[str, str]], key: str) -> dict[str, dict[str, str]]:
    current: dict[str, dict[str, str]] = {}
    for r in records:  # file order breaks ties: later files are newer
        if r[key] not in current or stamp(r["updated_at"]) >= stamp(current[r[key]]["updated_at"]):
            current[r[key]] = r
    return current


@dataclass
class Account:
    row: dict[str, str]
    billing_start: date
    service_end: date | None


def account_calendar(row: dict[str, str]) -> Account:
    # R-START-1
    billing_start = day(row["billing_start_date"]) or add_months(
        day(row["service_start_date"]), int(row["free_months"] or 0)
    )
    # R-CANCEL-1
    cancel = day(row["cancel_requested_date"])
    end = None
    if cancel:
        end = last_day(cancel) if (last_day(cancel) - cancel).days >= 10 else last_day(add_months_first(cancel, 1))
    return Account(row, billing_start, end)


def deck_lookup(deck: dict[str, list[dict[str, str]]], digits: str, when: date) -> dict[str, str] | None:
    """Longest prefix in force on the day (R-RATE-4)."""
    for length in range(min(len(digits), 15), 0, -1):
        for r in deck.get(digits[:length], []):
            if date.fromisoformat(r["effective_from"]) <= when and (
                not r["effective_to"] or date.fromisoformat(r["effective_to"]) >= when
            ):
                return r
    return None


def billable_seconds(duration: int, initial: int, increment: int) -> int:
    # R-RATE-2 / R-RATE-3 / REFERENCE_FACTS "Rating conventions"
    if duration <= 0:
        return 0
    if duration <= initial:
        return initial
    return initial + -(-(duration - initial) // increment) * increment


@dataclass(frozen=True)
class Line:
    line_type: str
    amount: Decimal
    # The line type whose rules the line follows (R-USF-1, R-COMM-5 as amended 2026-12-06): a
    # prorated line or a low-usage discount counts as its product's full month; others as themselves.
    counts_as: str = ""

    def __post_init__(self) -> None:
        if not self.counts_as:
            object.__setattr__(self, "counts_as", self.line_type)


def invoice_lines(landing: Path, invoice_date: date) -> tuple[dict[str, Account], dict[str, list[Line]]]:
    """The accounts billed on invoice_date and each one's lines before fees and tax."""
    usage_start = add_months_first(invoice_date, -1)
    service_month_end = last_day(invoice_date)
    plans = {p["plan_id"]: p for p in seed("plans")}
    products = {p["product_code"]: p for p in seed("products")}
    deck: dict[str, list[dict[str, str]]] = defaultdict(list)
    for r in seed("rate_deck"):
        deck[r["prefix"]].append(r)

    accounts = {k: account_calendar(v) for k, v in latest(rows(landing / "accounts"), "account_id").items()}
    billed = {
        k: a
        for k, a in accounts.items()
        if a.billing_start <= invoice_date and (a.service_end is None or a.service_end >= usage_start)
    }
    lines: dict[str, list[Line]] = defaultdict(list)

    # Recurring (R-CAL-2, R-PRORATE-1..3)
    full: dict[tuple[str, str], int] = defaultdict(int)
    prorated: dict[tuple[str, str, date], int] = defaultdict(int)
    prorated_starts: dict[str, date] = {}  # item id -> the day its partial month starts
    full_items: dict[str, list[dict[str, str]]] = defaultdict(list)
    items = latest(rows(landing / "subscription_items"), "item_id")
    for item in items.values():
        account = billed.get(item["account_id"])
        if account is None:
            continue
        in_service_all_month = account.service_end is None or account.service_end >= service_month_end
        start = max(day(item["start_date"]), account.billing_start)
        end = day(item["end_date"])
        if in_service_all_month and start <= invoice_date and (end is None or end >= invoice_date):
            full[(item["account_id"], item["product_code"])] += int(item["quantity"])
            full_items[item["account_id"]].append(item)
        # the partial month before the invoice, billed even on the last invoice (service ended with it)
        in_service_from_start = account.service_end is None or account.service_end >= start
        if usage_start < start < invoice_date and (end is None or end >= start) and in_service_from_start:
            prorated[(item["account_id"], item["product_code"], start)] += int(item["quantity"])
            prorated_starts[item["item_id"]] = start
    for (account_id, code), qty in full.items():
        amount = cents(qty * Decimal(products[code]["monthly_price"]))
        lines[account_id].append(Line(products[code]["line_type"], amount))
    for (account_id, code, start), qty in prorated.items():
        dim = days_in_month(start)
        days = dim - start.day
        if days > 0:
            amount = cents(qty * Decimal(products[code]["monthly_price"]) * days / dim)
            lines[account_id].append(Line("prorated_charges", amount, products[code]["line_type"]))

    # Low-usage devices (R-LOWUSE-1)
    for account_id, billed_items in full_items.items():
        phones = sum(int(i["quantity"]) for i in billed_items if i["product_code"] == "PHONE_DESK")
        if phones < 20:
            continue
        allowance = int(billed[account_id].row["low_usage_allowance"] or 0)
        declared = sorted(
            (i for i in billed_items if i["low_usage"] == "true" and products[i["product_code"]]["low_usage_price"]),
            key=lambda i: i["item_id"],
        )
        discounts: dict[str, int] = defaultdict(int)
        prorated_discounts: dict[tuple[str, date], int] = defaultdict(int)
        left = allowance  # devices, lowest item ids first
        for i in declared:
            honoured = min(int(i["quantity"]), left)
            if honoured > 0:
                discounts[i["product_code"]] += honoured
                if i["item_id"] in prorated_starts:  # its partial month before, at the low-usage price too
                    prorated_discounts[(i["product_code"], prorated_starts[i["item_id"]])] += honoured
            left -= honoured
        for code, qty in discounts.items():
            unit = Decimal(products[code]["low_usage_price"]) - Decimal(products[code]["monthly_price"])
            lines[account_id].append(Line("low_usage_discount", cents(qty * unit), products[code]["line_type"]))
        for (code, start), qty in prorated_discounts.items():
            unit = Decimal(products[code]["low_usage_price"]) - Decimal(products[code]["monthly_price"])
            dim = days_in_month(start)
            if dim - start.day > 0:
                amount = cents(qty * unit * (dim - start.day) / dim)
                lines[account_id].append(Line("low_usage_discount", amount, products[code]["line_type"]))

    # Change fees (R-FEE-1)
    fee = next(Decimal(f["amount"]) for f in seed("fee_rates") if f["fee_code"] == "change_fee")
    changes: dict[tuple[str, str], int] = defaultdict(int)
    for change in {c["change_id"]: c for c in rows(landing / "account_changes")}.values():
        if change["account_id"] in billed and usage_start <= stamp(change["changed_at"]).date() < invoice_date:
            changes[(change["account_id"], change["change_type"])] += 1
    for (account_id, _), count in changes.items():
        lines[account_id].append(Line("one_time_fee", cents(count * fee)))

    # Early termination (R-CANCEL-1): remaining whole months x monthly recurring charge, on the final invoice
    for account_id, account in billed.items():
        end = account.service_end
        if end is None or not (usage_start <= end < invoice_date):
            continue
        contract_end = add_months(account.billing_start, int(account.row["contract_term_months"] or 0))
        after = end + timedelta(days=1)
        remaining = (contract_end.year - after.year) * 12 + contract_end.month - after.month
        if contract_end <= after or remaining <= 0:
            continue
        mrc = sum(
            (
                int(i["quantity"]) * Decimal(products[i["product_code"]]["monthly_price"])
                for i in items.values()
                if i["account_id"] == account_id
                and day(i["start_date"]) <= end
                and (not i["end_date"] or day(i["end_date"]) >= end)
                and products[i["product_code"]]["line_type"]
                in ("service_fee", "phone_numbers", "contact_center", "rental_equipment")
            ),
            Decimal(0),
        )
        lines[account_id].append(Line("one_time_fee", cents(remaining * mrc)))

    # Adjustments (R-CAL-6): on the invoice after approval; disputes of unpublished invoices are quarantined
    for adjustment in {a["adjustment_id"]: a for a in rows(landing / "adjustments")}.values():
        approved = stamp(adjustment["approved_at"]).date()
        if (
            adjustment["account_id"] in billed
            and not adjustment["disputed_invoice_id"]
            and add_months_first(approved, 1) == invoice_date
        ):
            lines[adjustment["account_id"]].append(Line("adjustment", Decimal(adjustment["amount"])))

    # Usage (R-CAL-3, R-RATE-*, R-START-3)
    seen: set[str] = set()
    calls = []
    for call in rows(landing / "cdrs"):
        if call["call_id"] in seen:  # R-RATE-7
            continue
        seen.add(call["call_id"])
        account = billed.get(call["account_id"])
        start = stamp(call["start_time_utc"])
        if account is None or not (usage_start <= start.date() < invoice_date) or start.date() < account.billing_start:
            continue
        calls.append((start, call["call_id"], call, account))
    groups: dict[tuple[str, str, str], Decimal] = defaultdict(Decimal)
    bundle_used: dict[str, Decimal] = defaultdict(Decimal)
    for start, _, call, account in sorted(calls, key=lambda c: (c[0], c[1])):
        dest = call["destination_number"]
        digits = dest[1:] if dest.startswith("+") else None
        row = deck_lookup(deck, digits, start.date()) if digits and call["direction"] != "internal" else None
        if call["direction"] == "internal" or digits is None:
            kind = "internal"
        elif call["direction"] == "inbound":
            kind = "toll_free_inbound" if row and row["number_type"] == "toll_free" else "inbound"
        elif row is None:
            raise AssertionError(f"no deck row for {dest}")
        elif row["number_type"] == "premium":
            kind = "premium"
        elif row["country_code"] != account.row["billing_country"]:
            kind = "international"
        elif dest[:5] == call["source_number"][:5]:
            kind = "local"
        else:
            kind = "long_distance"
        initial, increment = (int(row["initial_seconds"]), int(row["increment_seconds"])) if row else (60, 60)
        minutes = Decimal(billable_seconds(int(call["duration_sec"]), initial, increment)) / 60
        account_id = call["account_id"]
        if kind in BUNDLE_TYPES:  # R-RATE-5
            plan = plans[account.row["plan_id"]]
            pool = Decimal(plan["included_minutes"]) if plan["included_minutes"] else None
            included = minutes if pool is None else max(Decimal(0), min(minutes, pool - bundle_used[account_id]))
            bundle_used[account_id] += minutes
            groups[(account_id, "additional_outbound_minutes", "plan")] += (minutes - included) * Decimal(
                plan["overage_rate_per_minute"]
            )
        elif kind in ("international", "premium", "toll_free_inbound"):
            line_type = {
                "international": "international_minutes",
                "premium": "domestic_premium_minutes",
                "toll_free_inbound": "toll_free_minutes",
            }[kind]
            group = (
                row["rate_per_minute"] if kind == "toll_free_inbound" else row["destination"] + row["rate_per_minute"]
            )
            groups[(account_id, line_type, group)] += minutes * Decimal(row["rate_per_minute"])
    for (account_id, line_type, _), cost in groups.items():
        lines[account_id].append(Line(line_type, cents(cost)))
    return billed, lines


# R-USF-1 (amended 2026-12-06): by Line.counts_as, so a prorated line or a low-usage discount is in the
# base only where its product's full month is (not a prorated rental phone or contact-center seat).
USF_TYPES = {
    "service_fee",
    "phone_numbers",
    "additional_outbound_minutes",
    "domestic_premium_minutes",
    "toll_free_minutes",
    "international_minutes",
}
# R-RRF-1 / R-SLRRF-1 (not amended): by the line's own type.
RECURRING_TYPES = {
    "service_fee",
    "phone_numbers",
    "prorated_charges",
    "low_usage_discount",
    "contact_center",
    "rental_equipment",
}
# R-COMM-5 (amended 2026-12-06): by Line.counts_as (a prorated rental phone earns nothing).
COMMISSIONABLE_TYPES = {"service_fee", "phone_numbers", "contact_center"}


def usf_base(lines: list[Line]) -> Decimal:
    return sum((line.amount for line in lines if line.counts_as in USF_TYPES), Decimal(0))


def usf_factor(invoice_date: date) -> Decimal:
    quarter_start = date(invoice_date.year, (invoice_date.month - 1) // 3 * 3 + 1, 1)
    return next(
        Decimal(f["factor"])
        for f in seed("usf_contribution_factors")
        if date.fromisoformat(f["quarter_start"]) == quarter_start
    )


def expected_invoice_totals(landing: Path, invoice_date: date) -> dict[str, Decimal]:
    billed, lines = invoice_lines(landing, invoice_date)
    factor = usf_factor(invoice_date)
    rrf_rate = next(Decimal(f["rate"]) for f in seed("fee_rates") if f["fee_code"] == "rrf")
    slrrf = {r["state"]: Decimal(r["slrrf_rate"]) for r in seed("slrrf_rates")}
    tax = {r["state"]: Decimal(r["tax_rate"]) for r in seed("tax_rates")}

    # Fees and tax (R-USF-1, R-RRF-1, R-SLRRF-1, R-TAX-1/2)
    totals = {}
    for account_id, account in billed.items():
        own = lines[account_id]
        recurring_base = sum((line.amount for line in own if line.line_type in RECURRING_TYPES), Decimal(0))
        state = account.row["billing_state"]
        subtotal = (
            sum((line.amount for line in own), Decimal(0))
            + cents(factor * SAFE_HARBOR * usf_base(own))
            + cents(rrf_rate * recurring_base)
            + cents(slrrf.get(state, Decimal(0)) * recurring_base)
        )
        taxed = cents(tax[state] * subtotal) if not account.row["tax_exempt_certificate_id"] else Decimal(0)
        totals[f"INV-{invoice_date:%Y%m}-{account_id}"] = subtotal + taxed
    return totals


def expected_usf(landing: Path, invoice_date: date) -> dict[str, tuple[Decimal, Decimal]]:
    """Each invoice's USF base and USF line amount (R-USF-1 as amended)."""
    _, lines = invoice_lines(landing, invoice_date)
    factor = usf_factor(invoice_date)
    return {
        f"INV-{invoice_date:%Y%m}-{account_id}": (usf_base(own), cents(factor * SAFE_HARBOR * usf_base(own)))
        for account_id, own in lines.items()
    }


def expected_residuals(landing: Path, invoice_date: date) -> dict[str, tuple[str, Decimal, Decimal]]:
    """R-COMM-5 (as amended): invoice id -> (partner, commissionable basis, residual) for each
    invoice of an account whose partner has landed, where the basis is not zero."""
    billed, lines = invoice_lines(landing, invoice_date)
    partners = latest(rows(landing / "partners"), "partner_id") if (landing / "partners").exists() else {}
    residuals = {}
    for account_id, account in billed.items():
        partner = partners.get(account.row["partner_id"])
        basis = sum((line.amount for line in lines[account_id] if line.counts_as in COMMISSIONABLE_TYPES), Decimal(0))
        if partner is None or basis == 0:
            continue
        residual = cents(Decimal(partner["residual_rate"]) * basis)
        residuals[f"INV-{invoice_date:%Y%m}-{account_id}"] = (partner["partner_id"], basis, residual)
    return residuals


def with_account_credit(landing: Path, months: dict[date, dict[str, Decimal]]) -> dict[str, Decimal]:
    """R-PAY-2: invoice totals of months billed in one run (nothing published before), after each
    invoice consumes the account's credit: settled payments beyond what was invoiced before it."""
    payments = {p["payment_id"]: p for p in rows(landing / "payments")}  # the last landed version
    invoices: dict[str, list[tuple[date, str, Decimal]]] = defaultdict(list)
    for invoice_date, totals in months.items():
        for invoice_id, total in totals.items():
            invoices[invoice_id.split("-", 2)[2]].append((invoice_date, invoice_id, total))
    after_credit = {}
    for account_id, account_invoices in invoices.items():
        account_invoices.sort()
        first, ids = account_invoices[0][0], {i for _, i, _ in account_invoices}
        paid = [
            (stamp(p["received_at"]), Decimal(p["amount"]))
            for p in payments.values()
            if p["account_id"] == account_id
            and p["status"] == "settled"
            and (p["invoice_id"] in ids or (not p["invoice_id"] and stamp(p["received_at"]).date() >= first))
        ]
        for invoice_date, invoice_id, total in account_invoices:
            received = sum((a for t, a in paid if t.date() < invoice_date), Decimal(0))
            invoiced = sum((t for d, _, t in account_invoices if d < invoice_date), Decimal(0))
            credit = max(received - invoiced, Decimal(0))
            after_credit[invoice_id] = total - min(credit, total) if total > 0 else total
    return after_credit
