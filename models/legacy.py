"""Champions registered before the stages moved under `regua.` still load.

Until version 0.1 the stages were top-level packages, so a model logged then names its
class `models.gbm.MonotoneGBMClassifier` (in the skops file and its trusted types).
While such a model loads, those old module names resolve to `regua.models...`; nothing
is left behind in `sys.modules`, so a user's own `models` package is not shadowed.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from contextlib import contextmanager

LEGACY_MODULES = ("models", "models.gbm", "features", "features.catalog")
"""Old module paths that registered models may name, each loaded from `regua.<path>`."""


@contextmanager
def legacy_module_paths() -> Iterator[None]:
    """Within the block, `models.gbm` (and the other old paths) are `regua.models.gbm`."""
    saved = {name: sys.modules.get(name) for name in LEGACY_MODULES}
    try:
        for name in LEGACY_MODULES:
            sys.modules[name] = importlib.import_module(f"regua.{name}")
        yield
    finally:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module
