"""The workbench's rules (config/workbench.yaml): authority matrix, reason codes, sessions."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator, model_validator

from regua.config import _Frozen, load_yaml_model
from regua.settings import get_settings


class Authority(_Frozen):
    """How far an analyst may move a limit without a supervisor's approval."""

    analyst_max_change_brl: float = Field(ge=0)
    analyst_max_change_share: float = Field(ge=0, le=10)


class SessionRules(_Frozen):
    """How long a login lasts and whether its cookie is HTTPS-only."""

    lifetime_minutes: int = Field(480, ge=5, le=24 * 60)
    secure_cookies: bool = True
    allow_http_on_loopback: bool = True

    def https_only(self, loopback: bool) -> bool:
        """Whether the session cookie is marked Secure for a server on this kind of host."""
        return self.secure_cookies and not (loopback and self.allow_http_on_loopback)


class LoginRules(_Frozen):
    """Failed logins allowed per user name and client address within a window."""

    max_failures: int = Field(5, ge=1, le=100)
    window_minutes: int = Field(15, ge=1, le=24 * 60)


class WorkbenchConfig(_Frozen):
    """The whole workbench configuration."""

    authority: Authority
    default_hold_days: int = Field(90, ge=1)
    max_hold_days: int = Field(365, ge=1)
    reason_codes: dict[str, str] = Field(min_length=1)
    session: SessionRules = SessionRules()
    login: LoginRules = LoginRules()

    @field_validator("reason_codes")
    @classmethod
    def _codes(cls, codes: dict[str, str]) -> dict[str, str]:
        for code, text in codes.items():
            if not code.replace("_", "").isalnum() or not code.islower() or len(code) > 64:
                raise ValueError(f"reason code {code!r}: lower-case letters, digits and _ only")
            if not text.strip():
                raise ValueError(f"reason code {code!r} has no text")
        return codes

    @model_validator(mode="after")
    def _hold(self) -> WorkbenchConfig:
        if self.default_hold_days > self.max_hold_days:
            raise ValueError(
                f"default_hold_days ({self.default_hold_days}) is above max_hold_days "
                f"({self.max_hold_days})"
            )
        return self


def load_workbench(path: Path | None = None) -> WorkbenchConfig:
    """The workbench rules (config/workbench.yaml unless another file is given)."""
    return load_yaml_model(path or get_settings().config_dir / "workbench.yaml", WorkbenchConfig)
