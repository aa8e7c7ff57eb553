"""The bench's history months (--history-months): the month's calls moved back whole months, the
accounts and items started by the first of them."""

from datetime import date

import duckdb
from helpers import ACCOUNT_HEADER, CDR_HEADER, REPO_ROOT


def test_history_months_are_the_month_moved_back_with_accounts_started_before_the_first(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(REPO_ROOT))  # bench/ is a folder of the repo, not an installed package
    from bench.history import history_landing

    landing = tmp_path / "cdrs3-accounts2-seed1" / "landing"
    for entity, text in {
        "cdrs/cdrs_2026-03.csv": f"{CDR_HEADER}\n"
        "C1,ACC-1,outbound,+15125550100,+15125550199,2026-03-31T23:59:00Z,2026-04-01T00:01:00Z,120\n"
        "C2,ACC-2,inbound,+13125550100,+15125550100,2026-03-02T10:00:00Z,,0\n"
        "C3,ACC-2,outbound,+13125550100,+15125550199,not a time,,60\n"
        "C4,ACC-2,outbound,+13125550100,+15125550199,2026-03-03T10:00:00Z,not a time,60",
        "cdrs/cdrs_resend.csv": f"{CDR_HEADER}\nC1,ACC-1,outbound,+15125550100,+15125550199,2026-03-31T23:59:00Z,,120",
        "accounts/accounts.csv": f"{ACCOUNT_HEADER}\n"
        "ACC-1,Alpha,US,TX,78701,basic,,2025-09-10,,0,12,,0,false,a@x.example,a@x.example,,2025-09-10T00:00:00Z\n"
        "ACC-2,Bravo,US,IL,60601,basic,,2024-01-05,2024-03-05,2,12,,0,false,b@x.example,b@x.example,,2024-01-05T00:00:00Z",
        "subscription_items/items.csv": "item_id,account_id,product_code,quantity,phone_number,extension,low_usage,"
        "start_date,end_date,updated_at\nIT-1,ACC-1,PHONE_DESK,1,,101,false,2025-09-10,,2025-09-10T00:00:00Z",
    }.items():
        (landing / entity).parent.mkdir(parents=True, exist_ok=True)
        (landing / entity).write_text(text + "\n")

    plan = history_landing(landing, date(2026, 3, 1), 12)

    assert [(folder.name, month) for folder, month in plan[:2]] == [
        ("month00", date(2025, 5, 1)),
        ("month01", date(2025, 6, 1)),
    ]
    assert plan[-1] == (landing.parent / "history12" / "month11", date(2026, 4, 1))
    assert sorted(p.name for p in plan[0][0].iterdir()) == ["accounts", "cdrs", "subscription_items"]
    assert [p.name for p in plan[1][0].iterdir()] == ["cdrs"]
    with duckdb.connect() as con:

        def rows(path):
            return con.execute(f"select * from read_csv('{path}', all_varchar = true) order by 1").fetchall()

        # April 2025 is the first history month: the accounts and items start by its first day.
        assert [row[7:10] for row in rows(plan[0][0] / "accounts" / "accounts.csv")] == [
            ("2025-04-01", None, "0"),
            ("2024-01-05", "2024-03-05", "2"),
        ]
        assert rows(plan[0][0] / "subscription_items" / "items.csv")[0][7] == "2025-04-01"
        # February 2026: the 31st falls on the 28th, the call keeps its two minutes; no resent line.
        assert rows(plan[10][0] / "cdrs" / "cdrs_2026-02.csv") == [
            ("H10-C1", "ACC-1", "outbound", "+15125550100", "+15125550199", "2026-02-28T23:59:00Z",
             "2026-03-01T00:01:00Z", "120"),
            ("H10-C2", "ACC-2", "inbound", "+13125550100", "+15125550100", "2026-02-02T10:00:00Z", None, "0"),
            ("H10-C3", "ACC-2", "outbound", "+13125550100", "+15125550199", "not a time", None, "60"),
            ("H10-C4", "ACC-2", "outbound", "+13125550100", "+15125550199", "2026-02-03T10:00:00Z", "not a time",
             "60"),
        ]  # fmt: skip
        last = rows(plan[11][0] / "cdrs" / "cdrs_2026-03.csv")[0]
        assert (last[0], last[5], last[6]) == ("H11-C1", "2026-03-31T23:59:00Z", "2026-04-01T00:01:00Z")
    # Made once: a second call finds it complete and does not write it again.
    (plan[0][0] / "cdrs" / "cdrs_2025-04.csv").write_text("kept\n")
    assert history_landing(landing, date(2026, 3, 1), 12) == plan
    assert (plan[0][0] / "cdrs" / "cdrs_2025-04.csv").read_text() == "kept\n"
