"""Dagster definitions of the month-end close, one concern per module; definitions.py assembles."""

import warnings

import dagster as dg

# Partitioned asset checks and asset backfill policies are preview/beta APIs in this Dagster release.
warnings.filterwarnings("ignore", category=dg.BetaWarning)
warnings.filterwarnings("ignore", category=dg.PreviewWarning)
# Great Expectations imports PySpark when the Spark extra is installed (`make spark-install`); PySpark's
# warning about the pandas version concerns its own pandas API, which callbill does not use.
warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)
