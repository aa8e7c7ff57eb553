"""Dagster definitions of the month-end close, one concern per module; definitions.py assembles."""

import warnings

import dagster as dg

# Partitioned asset checks and asset backfill policies are preview/beta APIs in this Dagster release.
warnings.filterwarnings("ignore", category=dg.BetaWarning)
warnings.filterwarnings("ignore", category=dg.PreviewWarning)
