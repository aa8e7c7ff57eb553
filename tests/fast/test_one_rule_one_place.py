"""Issue 26: line and call categories are data. A group of line types or call types is a column of the
line_types or call_types seed, read by a join or by macros/categories.sql, never a list of literals: a
new line type is one new row, not a dozen edits of which a missed one misbills. Fast: no warehouse."""

import csv
import re
from itertools import pairwise

from helpers import REPO_ROOT

SCANNED = {
    "models": ("*.sql", "*.yml"),
    "macros": ("*.sql",),
    "data-tests": ("*.sql",),
    "callbill": ("*.py",),
    "orchestration": ("*.py",),
}

QUOTED = re.compile(r"""(['"])([a-z_]+)\1""")
SEPARATOR = re.compile(r"\s*,\s*")
YAML_FLOW_LIST = re.compile(r"\[([^\[\]]*)\]")


def seed_column(seed: str, column: str) -> set[str]:
    with (REPO_ROOT / "seeds" / f"{seed}.csv").open(newline="") as f:
        return {row[column] for row in csv.DictReader(f)}


KNOWN = seed_column("line_types", "line_type") | seed_column("call_types", "call_type")


def literal_lists(text: str) -> list[int]:
    """Line numbers where two known names stand side by side in a list: `('a', 'b')`, `["a", "b"]`, `[a, b]`.
    Side by side: a list of landing directions (inbound, outbound, internal) is not a list of call types."""
    found = []
    literals = [m for m in QUOTED.finditer(text) if m.group(2) in KNOWN]
    for first, second in pairwise(literals):
        if SEPARATOR.fullmatch(text, first.end(), second.start()):
            found.append(text.count("\n", 0, first.start()) + 1)
    for m in YAML_FLOW_LIST.finditer(text):
        words = [w.strip().strip("'\"") for w in m.group(1).split(",")]
        if any(a in KNOWN and b in KNOWN for a, b in pairwise(words)):
            found.append(text.count("\n", 0, m.start()) + 1)
    return sorted(set(found))


def test_the_scan_finds_a_list_of_literals():
    assert literal_lists("where line_type in ('service_fee',\n 'phone_numbers')") == [1]
    assert literal_lists('SECTIONS = (\n    "usf",\n    "rrf",\n)') == [2]
    assert literal_lists("values: [internal, local, long_distance]") == [1]
    assert literal_lists("when 'international' then 'international_minutes'") == []
    assert literal_lists("where line_type = 'usf'") == []
    assert literal_lists("values: [inbound, outbound, internal]") == []


def test_no_list_of_line_types_or_call_types_outside_the_seeds():
    assert {"service_fee", "usf", "tax", "internal", "international", "unrated"} <= KNOWN
    offenders = [
        f"{path.relative_to(REPO_ROOT)}:{line}"
        for folder, patterns in SCANNED.items()
        for pattern in patterns
        for path in sorted((REPO_ROOT / folder).rglob(pattern))
        for line in literal_lists(path.read_text())
    ]
    assert not offenders, (
        "a group of line or call types typed out as literals; make it a column of seeds/line_types.csv or "
        "seeds/call_types.csv and read it (macros/categories.sql): " + ", ".join(offenders)
    )
