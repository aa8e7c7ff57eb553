"""R-RATE-1 for every NANP region: +1 does not mean domestic. Each region of the numbering data
(phonenumbers, the data seeds/build/build_rate_deck.py builds the deck's +1 rows from) is called
once from a US account, with the region's own example number, through the real land and close:
the US and its territories are domestic, every other region is international at its own row's rate."""

import csv
import importlib.util
from decimal import Decimal
from pathlib import Path

import phonenumbers
from helpers import CDR_HEADER, REPO_ROOT, land_small_with, query, run

NANP_REGIONS = phonenumbers.COUNTRY_CODE_TO_REGION_CODE[1]
US_TERRITORIES = {"PR", "VI", "GU", "MP", "AS"}  # R-RATE-1: domestic for a US account
DECK = REPO_ROOT / "seeds" / "rate_deck.csv"
BASIC_OVERAGE = Decimal("0.039")  # ACC-1's plan: domestic calls draw on its bundle (R-RATE-5)


def deck_rows() -> dict[str, dict[str, str]]:
    with DECK.open(newline="") as fh:
        return {r["prefix"]: r for r in csv.DictReader(fh) if not r["effective_to"]}


def test_every_nanp_region_is_rated_as_its_own_country(warehouse, tmp_path):
    assert len(NANP_REGIONS) == 25 and "AI" in NANP_REGIONS
    examples = {region: phonenumbers.example_number(region) for region in NANP_REGIONS}
    calls = [
        f"NANP-{region},ACC-1,outbound,+15125550100,+1{number.national_number},2026-04-10T12:{i:02d}:00Z,,120"
        for i, (region, number) in enumerate(examples.items())
    ]
    land_small_with(tmp_path, {"cdrs/nanp.csv": "\n".join([CDR_HEADER, *calls])})

    run("close", "2026-05")

    rated = {
        call_id.removeprefix("NANP-"): rest
        for call_id, *rest in query(
            warehouse,
            "select call_id, call_type, destination, rate_per_minute, total_cost from marts.fct_rated_calls "
            "where call_id like 'NANP-%'",
        )
    }
    assert set(rated) == set(NANP_REGIONS)
    deck = deck_rows()
    for region, number in examples.items():
        npa = str(number.national_number)[:3]
        own_row = deck["1" + npa]  # the region's area code row, not the "1" fallback
        country = "US" if region == "US" or region in US_TERRITORIES else region
        assert own_row["country_code"] == country, (region, own_row)
        call_type, destination, rate, cost = rated[region]
        assert destination == own_row["destination"], (region, destination)
        if country == "US":
            # domestic: in plan, priced by the bundle (the deck row is free), never international
            assert (call_type, rate, cost) == ("long_distance", BASIC_OVERAGE, 0), (region, rated[region])
            assert own_row["rate_per_minute"] == "0.000000"
        else:
            own_rate = Decimal(own_row["rate_per_minute"])
            assert own_rate > 0
            assert (call_type, rate, cost) == ("international", own_rate, 2 * own_rate), (region, rated[region])
    # Anguilla (+1 264) was US long distance at no charge before the deck had its row
    assert rated["AI"][:2] == ["international", "Anguilla"]


def test_the_deck_has_every_area_code_of_every_nanp_region():
    """The builder's own check on the committed deck: every NPA the numbering data assigns to a
    region has its row, of that region's country (US for the territories), and nothing under it
    classifies as another country; the rest of the deck's constraints hold too."""
    spec = importlib.util.spec_from_file_location("build_rate_deck", REPO_ROOT / "seeds/build/build_rate_deck.py")
    builder = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(builder)

    area_codes = builder.nanp_area_codes()
    current = builder.read(DECK)
    builder.check(current, builder.hand_maintained(current, area_codes), area_codes)

    assert area_codes["264"] == "AI" and area_codes["416"] == "CA" and area_codes["787"] == "PR"
    assert set(area_codes.values()) == set(NANP_REGIONS)
    assert Path(builder.DECK) == DECK
