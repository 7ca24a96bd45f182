"""One place that resolves every path, endpoint and knob: defaults < config file < environment.

The config file is `regua.toml` in the working directory (or the path in
`REGUA_CONFIG`); every field can be overridden by an environment variable
`REGUA_<FIELD>` (for example `REGUA_STORE_DIR=s3://bucket/store`). MLflow and Prefect
keep their own standard variables (`MLFLOW_TRACKING_URI`, `PREFECT_API_URL`).
"""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)


def _config_file() -> Path:
    return Path(os.environ.get("REGUA_CONFIG", "regua.toml"))


class Settings(BaseSettings):
    """Paths, endpoints and ingestion thresholds for one regua installation."""

    model_config = SettingsConfigDict(env_prefix="REGUA_", extra="ignore")

    data_dir: Path = Field(Path("data"), description="Root of the local data folders.")
    raw_dir: Path = Field(Path("data/raw"), description="Where the day's exports land.")
    store_dir: Path = Field(Path("data/store"), description="The canonical Parquet store.")
    out_dir: Path = Field(Path("data/out"), description="Nightly outputs, one folder per as_of.")
    config_dir: Path = Field(
        Path(__file__).resolve().parents[1] / "config",
        description="Folder of the YAML configuration (labels, segments, ladders).",
    )
    secret_file: Path = Field(
        Path.home() / ".regua" / "document_key",
        description="File holding the key that hashes CPF/CNPJ, created on first use.",
    )
    document_key: str | None = Field(
        None,
        description="Key for hashing CPF/CNPJ (REGUA_DOCUMENT_KEY); overrides secret_file.",
        repr=False,
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
    mlflow_tracking_uri: str = Field(
        default_factory=lambda: os.environ.get("MLFLOW_TRACKING_URI", "sqlite:///data/mlflow.db"),
        description="MLflow tracking store; MLFLOW_TRACKING_URI wins when set.",
    )

    mlflow_artifact_dir: Path = Field(
        Path("data/mlartifacts"),
        description="Artifacts of new experiments when tracking to a local SQLite store.",
    )

    @field_validator("max_reject_share")
    @classmethod
    def _share(cls, value: float) -> float:
        return float(value)

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
            TomlConfigSettingsSource(settings_cls, toml_file=_config_file()),
        )

    def document_key_bytes(self) -> bytes:
        """The key that hashes documents: from the environment, else a private file made once."""
        if self.document_key:
            return self.document_key.encode()
        path = self.secret_file
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(secrets.token_hex(32))
            tmp.chmod(0o600)
            os.replace(tmp, path)
        return path.read_text().strip().encode()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (cached; call `get_settings.cache_clear()` after changing env)."""
    return Settings()
