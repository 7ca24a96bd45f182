"""regua: default-risk scoring, segments and dunning ladders for collections.

The verbs a notebook needs are attributes of the package, each the very function the
nightly flow and `regua` commands call (its docstring has an example)::

    >>> import regua
    >>> from datetime import date
    >>> from regua.contract import TABLES
    >>> regua.ingest_exports("data/raw", "data/store")  # exports -> the canonical store
    >>> store = regua.Store("data/store")
    >>> tables = {name: store.scan(name) for name in TABLES}
    >>> table = regua.build_features(store, date(2026, 9, 30))
    >>> result = regua.train(tables)  # fit and measure; `regua train` also logs and gates
    >>> pd_model = regua.load_champion("delinquency").model
    >>> scores = regua.score(table, pd_model, regua.load_champion("propensity_to_pay").model)
    >>> scored = table.join(scores.drop("as_of"), on="customer_id")
    >>> day = regua.decide(scored, tables, date(2026, 9, 30), delinquency_model=pd_model)
    >>> regua.explain(pd_model, table.head(5))  # reasons in Portuguese, by the 5 C's

They load on first use, so `import regua` stays cheap (the CLI imports it) and the core
modules never import the stages. The rest stays importable (`regua.features`,
`regua.models.train`, ...) for whoever needs more.
"""

import importlib
import os
from typing import Any

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
del _name, _value

__version__ = "0.1.0"

_VERBS = {
    "Store": ("regua.store", "Store"),
    "ingest_exports": ("regua.ingest.ingest", "ingest_exports"),
    "build_features": ("regua.features.build", "build"),
    "train": ("regua.models.train", "train"),
    "load_champion": ("regua.models.scoring", "load_champion"),
    "score": ("regua.models.scoring", "score"),
    "decide": ("regua.dunning.actions", "decide"),
    "explain": ("regua.models.explain", "explain"),
}
"""Public name -> (module, attribute). Imported by name on first use: a static import here
would make every core module that imports `regua` depend on the stages."""

__all__ = [
    "Store",
    "build_features",
    "decide",
    "explain",
    "ingest_exports",
    "load_champion",
    "score",
    "train",
]


def __getattr__(name: str) -> Any:
    """Import a verb on first use and keep it in the module."""
    if name not in _VERBS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module, attribute = _VERBS[name]
    value = getattr(importlib.import_module(module), attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The verbs and the version: what tab completion offers in a notebook."""
    return sorted([*__all__, "__version__"])
