"""What the workbench runs on: its database, configuration, folders and keys, resolved once.

Routes receive this object (FastAPI dependency), so a test builds one on a temporary
database and folders without touching globals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from regua.config.workbench import WorkbenchConfig, load_workbench
from regua.decisions.db import make_engine, require_current, session_factory
from regua.settings import get_settings, read_key_file


@dataclass
class WorkbenchContext:
    """The database, rules, data folders and keys one workbench process serves."""

    engine: Engine
    sessions: sessionmaker[Session]
    config: WorkbenchConfig
    out_dir: Path
    store_dir: Path
    reports_dir: Path
    tracking_uri: str
    document_key: bytes = field(repr=False)
    session_secret: bytes = field(repr=False)
    loopback: bool = False
    """Served on 127.0.0.1/localhost only (plain http allowed when the config says so)."""


def load_context(
    db_url: str | None = None,
    out_dir: Path | None = None,
    store_dir: Path | None = None,
    config_path: Path | None = None,
    loopback: bool = False,
) -> WorkbenchContext:
    """The context from the settings (overridden by the arguments); refuses a database whose
    migrations are behind (`regua.decisions.db.DatabaseError`)."""
    settings = get_settings()
    engine = make_engine(db_url)
    require_current(engine)
    return WorkbenchContext(
        engine=engine,
        sessions=session_factory(engine),
        config=load_workbench(config_path),
        out_dir=out_dir or settings.out_dir,
        store_dir=store_dir or settings.store_dir,
        reports_dir=settings.reports_dir,
        tracking_uri=settings.mlflow_tracking_uri,
        document_key=settings.document_key_bytes(),
        session_secret=read_key_file(settings.workbench_secret_file, create=True),
        loopback=loopback,
    )
