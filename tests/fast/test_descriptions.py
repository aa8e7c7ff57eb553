"""Every dbt model, seed and test, and every Dagster asset and check, says what it is in words
(#25.7): the Dagster UI shows these descriptions, so none is empty or dagster-dbt's raw SQL."""

import json

from helpers import REPO_ROOT

from orchestration.definitions import defs

PLACEHOLDERS = ("Raw SQL", "#### Raw SQL", "```", "dbt model ", "dbt seed ", "dbt test ")


def not_human(description: str | None) -> bool:
    text = (description or "").strip()
    return not text or text.startswith(PLACEHOLDERS) or "Raw SQL" in text


def manifest() -> dict:
    return json.loads((REPO_ROOT / "target" / "manifest.json").read_text())


def test_every_model_seed_source_and_singular_test_of_the_project_is_described_in_its_yaml():
    nodes = [n for n in manifest()["nodes"].values() if n["package_name"] == "callbill"]
    undescribed = [
        f"{n['resource_type']} {n['name']} ({n['original_file_path']})"
        for n in nodes
        # a generic test (not_null, unique, ...) may take its words from its metadata instead (below)
        if n["resource_type"] in ("model", "seed") or (n["resource_type"] == "test" and not n.get("test_metadata"))
        if not_human(n.get("description"))
    ]
    undescribed += [s["unique_id"] for s in manifest()["sources"].values() if not_human(s.get("description"))]
    assert not undescribed, undescribed


def test_the_invoice_marts_describe_every_column():
    nodes = manifest()["nodes"]
    for model in ("fct_invoices", "fct_invoice_lines"):
        columns = nodes[f"model.callbill.{model}"]["columns"]
        assert len(columns) >= 12, model
        assert not [c for c, column in columns.items() if not_human(column.get("description"))], model


def test_every_dagster_asset_and_check_has_a_human_description():
    graph = defs.resolve_asset_graph()
    assets = [k.to_user_string() for k in graph.get_all_asset_keys() if not_human(graph.get(k).description)]
    assert not assets, assets
    checks = {key.name: graph.get_check_spec(key).description for key in graph.asset_check_keys}
    assert not [name for name, description in checks.items() if not_human(description)]
    # Every dbt test of the project is a check the UI shows, a test reading two models too.
    tests = {n["name"] for n in manifest()["nodes"].values() if n["resource_type"] == "test"}
    assert tests <= set(checks), tests - set(checks)
    # A generic test says what it checks, and where a rule applies, which.
    assert checks["unique_fct_invoices_invoice_id"].startswith("R-CAL-1: one invoice per account and invoice month")
    assert checks["not_null_fct_payments_payment_id"] == (
        "fct_payments.payment_id is never empty. Checked after publication, on the ledger models."
    )
    assert checks["accepted_values_fct_invoices_status__draft__published"] == (
        "fct_invoices.status is one of draft, published. Blocks publication (R-INV-1)."
    )
