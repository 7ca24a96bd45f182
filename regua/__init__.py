"""regua: default-risk scoring, segments and dunning ladders for collections."""

import os

# Nothing in regua may call home: switch off the telemetry of the libraries we embed
# before any of them is imported.
for _name, _value in {
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_CLOUD_ENABLE_ORCHESTRATION_TELEMETRY": "false",
    "GX_ANALYTICS_ENABLED": "false",
    "MLFLOW_DISABLE_TELEMETRY": "true",
}.items():
    os.environ.setdefault(_name, _value)

__version__ = "0.1.0"
