"""Prefect flows: wiring and I/O only; the logic lives in regua, features, models and dunning."""

import os

# Prefect's temporary local server (no PREFECT_API_URL set) gets 20 s to start by default;
# on a busy 2-core machine its first start, which creates the database, can take longer.
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
# MLflow draws a progress bar per downloaded artifact; the nightly log has no use for it.
os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
