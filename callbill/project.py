"""The dbt project, in its own module so `dagster-dbt project prepare-and-package` can load it alone."""

import hashlib
from pathlib import Path

from dagster_dbt import DbtProject

REPO_ROOT = Path(__file__).resolve().parent.parent

callbill_project = DbtProject(project_dir=REPO_ROOT, profiles_dir=REPO_ROOT / "profiles")
callbill_project.prepare_if_dev()


def project_version() -> str:
    """A digest of the dbt project's sources (dbt_project.yml, models, macros, seeds): a draft
    re-close keeps the calls an earlier build rated only if that build ran the same rating SQL and
    reference data (models/intermediate/rating/int_rating_inputs.sql)."""
    digest = hashlib.sha256()
    files = [REPO_ROOT / "dbt_project.yml"]
    for folder in ("models", "macros", "seeds"):
        files += sorted(p for p in (REPO_ROOT / folder).rglob("*") if p.is_file())
    for path in files:
        digest.update(str(path.relative_to(REPO_ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]
