"""The decisions database: its URL, engine, migrations to head, and the check that it is current.

The schema lives only in the Alembic migrations shipped in this package; `upgrade` runs them
on any SQLAlchemy URL (SQLite file by default, PostgreSQL in production), and `require_current`
stops an app or a night on a database whose migrations are behind.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from regua.settings import get_settings

MIGRATIONS = "regua.decisions:migrations"


class DatabaseError(RuntimeError):
    """A decisions database that is missing, unreachable or behind its migrations."""


def database_url(url: str | None = None) -> str:
    """The given URL, else the `decisions_db_url` setting."""
    return url or get_settings().decisions_db_url


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL (None for other databases or an in-memory one)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    return None if parsed.database == ":memory:" else Path(parsed.database)


def _foreign_keys_on(dbapi_connection: object, _record: object) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def make_engine(url: str | None = None) -> Engine:
    """An engine on the decisions database (SQLite enforces foreign keys here)."""
    url = database_url(url)
    path = sqlite_file(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _foreign_keys_on)
    return engine


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions on `engine` that keep loaded rows readable after commit."""
    return sessionmaker(engine, expire_on_commit=False)


def _alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    return config


def head_revision() -> str:
    """The newest migration shipped with this package."""
    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """The database's migration, or None when it has none yet (an empty database)."""
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine) -> str:
    """Run the shipped migrations up to head on `engine`; returns the head revision."""
    config = _alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    return head_revision()


def require_current(engine: Engine) -> None:
    """Stop (`DatabaseError`) on a database whose migrations are behind this package's."""
    current, head = current_revision(engine), head_revision()
    if current != head:
        where = engine.url.render_as_string(hide_password=True)
        raise DatabaseError(
            f"decisions database {where} is at migration {current or 'none'}, this regua "
            f"needs {head}: run `regua db upgrade`"
        )
