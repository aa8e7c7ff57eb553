"""The dbt project, in its own module so `dagster-dbt project prepare-and-package` can load it alone."""

from pathlib import Path

from dagster_dbt import DbtProject

REPO_ROOT = Path(__file__).resolve().parent.parent

callbill_project = DbtProject(project_dir=REPO_ROOT, profiles_dir=REPO_ROOT / "profiles")
callbill_project.prepare_if_dev()
