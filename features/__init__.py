"""Point-in-time behavioural and 5 C's of credit features.

from regua.features import build, CATALOG
table = build("data/store", date(2026, 9, 30))            # one as_of
snapshots = build("data/store", [date(2026, m, 1) for m in range(1, 13)])
"""

from regua.features.build import build, build_from_frames
from regua.features.catalog import CATALOG, CATALOG_VERSION, catalog_markdown

__all__ = ["CATALOG", "CATALOG_VERSION", "build", "build_from_frames", "catalog_markdown"]
