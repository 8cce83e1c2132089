"""The revenue-cycle warehouse's Dagster code location and its helpers.

The definitions are assembled in :mod:`orchestration.definitions`.
"""

import os

# No machine here reaches the internet beyond package registries: the tools must not try.
os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
