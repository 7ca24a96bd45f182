"""One place that resolves every path, endpoint and knob: defaults < config file < environment.

The config file is `regua.toml` in the working directory (or the file `REGUA_CONFIG`
names); every field can be overridden by an environment variable `REGUA_<FIELD>` (for
example `REGUA_STORE_DIR=s3://bucket/store`). The local folders default to folders of
`data_dir` (`REGUA_DATA_DIR=data/demo` points everything at the demo of `make demo`).
MLflow's own `MLFLOW_TRACKING_URI` is read as well; `PREFECT_API_URL` stays Prefect's.
Relative paths count from the working directory.

An unknown key in the file, or a value that breaks a field's rule in the file or the
environment, raises `SettingsError` with one line naming the file or variable, the key
and the rule. `REGUA_*` variables that are not settings are ignored (`unknown_variables`
lists them, so the CLI can warn about a misspelt one).
"""

from __future__ import annotations

import importlib.util
import os
import secrets
import tomllib
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import AliasChoices, Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

ENV_PREFIX = "REGUA_"
CONFIG_VARIABLE = "REGUA_CONFIG"
OTHER_VARIABLES = {
    CONFIG_VARIABLE: "the settings file to read instead of ./regua.toml",
    "REGUA_AS_OF": "the date the notebooks look at (reports.locations)",
    "REGUA_BENCH_DIR": "scratch folder of the benchmarks",
    "REGUA_WEB_LOOPBACK": "set by `regua web --workers` for its worker processes",
}
"""`REGUA_*` variables that are read by their own code, not settings fields."""


class SettingsError(ValueError):
    """Settings that do not validate: one line naming the file or variable, key and rule."""


MIN_KEY_BYTES = 32
"""A shorter key makes the document hashes guessable by enumerating CPFs."""
NEW_KEY_HINT = 'python -c "import secrets; print(secrets.token_hex(32))"'


def packaged_dir(name: str) -> Path:
    """The packaged `config`, `templates` or `profiles` folder, in a wheel or an editable install.

    In the repository they are the top-level `config/`, `templates/` and `profiles/`
    folders; setuptools maps them to the data packages `regua.resources.<name>`.
    """
    spec = importlib.util.find_spec(f"regua.resources.{name}")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"regua.resources.{name} is not installed with the package")
    return Path(next(iter(spec.submodule_search_locations)))


def config_file() -> Path:
    """The settings file: `REGUA_CONFIG` when set, else `regua.toml` in the working directory."""
    return Path(os.environ.get(CONFIG_VARIABLE) or "regua.toml")


def _under_data(name: str, description: str) -> Any:
    """A folder that defaults to `<data_dir>/<name>`."""
    return Field(
        default_factory=lambda fields: fields["data_dir"] / name,
        description=f"{description} Default: <data_dir>/{name}.",
    )


class Settings(BaseSettings):
    """Paths, endpoints and ingestion thresholds for one regua installation."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, extra="forbid", validate_by_name=True, validate_by_alias=True
    )

    data_dir: Path = Field(Path("data"), description="Root of the local data folders.")
    raw_dir: Path = _under_data("raw", "Where the day's exports land.")
    store_dir: Path = _under_data("store", "The canonical Parquet store.")
    out_dir: Path = _under_data("out", "Nightly outputs, one folder per as_of.")
    reports_dir: Path = _under_data("reports", "Portfolio reports (HTML).")
    mlflow_artifact_dir: Path = _under_data(
        "mlartifacts", "Artifacts of new experiments when tracking to a local SQLite store."
    )
    mlflow_tracking_uri: str = Field(
        default_factory=lambda fields: f"sqlite:///{fields['data_dir'] / 'mlflow.db'}",
        validation_alias=AliasChoices("REGUA_MLFLOW_TRACKING_URI", "MLFLOW_TRACKING_URI"),
        description="MLflow tracking store (also MLFLOW_TRACKING_URI); default: "
        "sqlite:///<data_dir>/mlflow.db.",
    )
    decisions_db_url: str = Field(
        default_factory=lambda fields: f"sqlite:///{fields['data_dir'] / 'workbench.db'}",
        description="The analysts' decisions and audit log (SQLAlchemy URL; PostgreSQL in "
        "production). Default: sqlite:///<data_dir>/workbench.db.",
    )
    workbench_secret_file: Path = Field(
        Path.home() / ".regua" / "workbench_secret",
        description="File holding the key that signs the workbench's session cookies, created "
        f"on first use; at least {MIN_KEY_BYTES} bytes, private (mode 600).",
    )
    dask_address: str | None = Field(
        None, description="Dask scheduler the nightly partitions run on (tcp://host:8786)."
    )
    config_dir: Path = Field(
        default_factory=lambda: packaged_dir("config"),
        description="Folder of the YAML configuration (labels, segments, ladders).",
    )
    templates_dir: Path = Field(
        default_factory=lambda: packaged_dir("templates"),
        description="Folder of the Portuguese message templates the ladders name.",
    )
    secret_file: Path = Field(
        Path.home() / ".regua" / "document_key",
        description="File holding the key that hashes CPF/CNPJ, created on first use; it "
        f"must hold at least {MIN_KEY_BYTES} bytes and be private (mode 600).",
    )
    document_key: str | None = Field(
        None,
        description="Key for hashing CPF/CNPJ (REGUA_DOCUMENT_KEY), at least "
        f"{MIN_KEY_BYTES} bytes; overrides secret_file.",
        repr=False,
    )
    ignore_files: list[str] = Field(
        default_factory=list,
        description="Glob patterns of raw-folder entries ingest leaves unread (e.g. "
        '["*.txt", "backup"]); any other entry that matches no table stops the batch.',
    )
    profile: Path | None = Field(
        None,
        description="Mapping profile ingest applies to the exports (a YAML file such as "
        "profiles/erp_br.yaml, or the name of a shipped one); none: the exports use the "
        "contract's names.",
    )
    max_reject_share: float = Field(
        0.05,
        ge=0.0,
        le=1.0,
        description="A table with a larger share of rejected rows stops the ingest.",
    )
    validation_batch_rows: int = Field(
        500_000, gt=0, description="Rows per Great Expectations batch (bounds memory)."
    )

    @field_validator("document_key")
    @classmethod
    def _long_key(cls, value: str | None) -> str | None:
        if value is not None and len(value.encode()) < MIN_KEY_BYTES:
            raise ValueError(
                f"a document key needs at least {MIN_KEY_BYTES} bytes; make one with "
                f"`{NEW_KEY_HINT}`"
            )
        return value

    @field_validator("profile")
    @classmethod
    def _existing_profile(cls, value: Path | None) -> Path | None:
        shipped = packaged_dir("profiles")
        if value is None or value.is_file() or (shipped / f"{value}.yaml").is_file():
            return value
        names = ", ".join(sorted(p.stem for p in shipped.glob("*.yaml")))
        raise ValueError(f"must be a profile file or a shipped profile ({names}); {value} is not")

    @field_validator("config_dir", "templates_dir")
    @classmethod
    def _existing_folder(cls, value: Path) -> Path:
        if not value.is_dir():
            raise ValueError(f"must be an existing folder; {value} is not one")
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Init arguments, then environment, then the TOML file, then defaults."""
        return (
            init_settings,
            env_settings,
            TomlConfigSettingsSource(settings_cls, toml_file=config_file()),
        )

    def document_key_bytes(self) -> bytes:
        """The key that hashes documents: from the setting, else the private key file (made
        on first use); `SettingsError` when the file is short or readable by others."""
        if self.document_key is not None:
            return self.document_key.encode()
        return read_key_file(self.secret_file, create=True)

    def document_key_origin(self) -> str:
        """Where the document key comes from, for messages (never the key itself)."""
        if self.document_key is not None:
            return "the document_key setting (REGUA_DOCUMENT_KEY)"
        return f"key file {self.secret_file}"


def read_key_file(path: Path, *, create: bool = False) -> bytes:
    """A document key from a private file of at least MIN_KEY_BYTES bytes (surrounding
    whitespace dropped); with `create`, a missing file is made with a random key, mode 600."""
    if create and not path.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        descriptor = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_hex(32))
        os.replace(tmp, path)
    try:
        mode = path.stat().st_mode
        key = path.read_bytes().strip()
    except OSError as exc:
        raise SettingsError(f"key file {path}: cannot read it: {exc.strerror or exc}") from exc
    if mode & 0o077:
        raise SettingsError(
            f"key file {path} is open to group or others (mode {mode & 0o777:o}); a document "
            f"key file must be private: run `chmod 600 {path}`"
        )
    if len(key) < MIN_KEY_BYTES:
        raise SettingsError(
            f"key file {path} holds {len(key)} bytes; a document key needs at least "
            f"{MIN_KEY_BYTES}: write one with `{NEW_KEY_HINT} > {path}`"
        )
    return key


def variable_names(field: str) -> tuple[str, ...]:
    """The environment variables that set `field`, in order of precedence."""
    alias = Settings.model_fields[field].validation_alias
    if isinstance(alias, AliasChoices):
        return tuple(str(choice) for choice in alias.choices)
    return (f"{ENV_PREFIX}{field.upper()}",)


def unknown_variables(environ: Mapping[str, str] | None = None) -> list[str]:
    """`REGUA_*` variables that are neither settings nor read elsewhere (likely misspelt)."""
    environ = os.environ if environ is None else environ
    known = {name for field in Settings.model_fields for name in variable_names(field)}
    known |= set(OTHER_VARIABLES)
    return sorted(
        name
        for name in environ
        if name.upper().startswith(ENV_PREFIX) and name.upper() not in known
    )


def _field_of(key: str) -> str | None:
    """The field a TOML key or environment variable name stands for."""
    for field in Settings.model_fields:
        if key == field or key.upper() in variable_names(field):
            return field
    return None


def _describe(error: Mapping[str, Any], path: Path) -> str:
    """One validation error as `<file: key | variable>=<value>: <rule>`."""
    key = str(error["loc"][0]) if error["loc"] else "(top level)"
    field = _field_of(key)
    if error["type"] == "extra_forbidden" or field is None:
        return f"{path}: unknown key {key!r} (known keys: {', '.join(Settings.model_fields)})"
    present = {name.upper(): name for name in os.environ}
    variable = next((present[n] for n in variable_names(field) if n in present), None)
    where = f"environment variable {variable}" if variable else f"{path}: key {field!r}"
    secret = not Settings.model_fields[field].repr
    value = "" if secret else f"={error['input']!r}"
    return f"{where}{value}: {error['msg'].removeprefix('Value error, ')}"


def load_settings() -> Settings:
    """Settings from defaults, the config file and the environment; `SettingsError` names
    the file or variable, the key and the rule of whatever is wrong."""
    path = config_file()
    if os.environ.get(CONFIG_VARIABLE) and not path.is_file():
        raise SettingsError(f"{CONFIG_VARIABLE}: settings file {path} does not exist")
    try:
        return Settings()
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{path}: not valid TOML: {exc}") from exc
    except OSError as exc:
        raise SettingsError(f"{path}: cannot read the settings file: {exc}") from exc
    except ValidationError as exc:
        problems = [
            _describe(error, path)
            for error in exc.errors()
            if error["type"] != "default_factory_not_called"  # follows from another error
        ]
        raise SettingsError("; ".join(problems)) from exc


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (cached; call `get_settings.cache_clear()` after changing env).

    Raises `SettingsError` (one line) when the file or the environment breaks a rule.
    """
    return load_settings()
