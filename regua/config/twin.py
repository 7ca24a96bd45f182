"""The collection twin's response parameters (config/twin.yaml): how simulated customers
respond to each treatment, stated before any policy is compared.

The twin is a measuring instrument: these parameters are its ground truth. They are
written with their reasoning in the YAML file, validated here, and never tuned after a
comparison has been seen; alternative sets (config/twin-*.yaml) say how much the
conclusions depend on them. See config/twin.yaml for the model they drive.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from regua.config import _Frozen, load_yaml_model
from regua.settings import get_settings

Probability = float
BUCKETS = ("dpd_1_30", "dpd_31_60", "dpd_61_90", "dpd_91_180")
"""Days-past-due buckets of the oldest unpaid invoice, as the twin reads a case."""
CONTACT_CHANNELS = ("email", "sms", "whatsapp", "phone", "letter")


class SelfCure(_Frozen):
    """Daily probability that a case is paid in full with no contact, by bucket."""

    dpd_1_30: Probability = Field(gt=0, lt=0.2)
    dpd_31_60: Probability = Field(gt=0, lt=0.2)
    dpd_61_90: Probability = Field(gt=0, lt=0.2)
    dpd_91_180: Probability = Field(gt=0, lt=0.2)
    character_weight: float = Field(ge=0, le=3)
    """Log-hazard per standard deviation of the customer's latent character."""

    @model_validator(mode="after")
    def _falls_with_age(self) -> SelfCure:
        values = [getattr(self, b) for b in BUCKETS]
        if any(later > earlier for earlier, later in itertools.pairwise(values)):
            raise ValueError("self-cure must not rise with days past due")
        return self


class Channel(_Frozen):
    """What a contact on one channel costs and how much it moves a reached customer."""

    lift: float = Field(ge=1, le=10)
    """Multiplier of the cure hazard over `lift_days` after a contact that reached and was
    read or answered by the customer (1: no effect)."""
    cost_brl: float = Field(ge=0, le=50)
    opt_out: Probability = Field(ge=0, lt=0.1)
    """Probability that a delivered contact makes the customer opt out of the channel."""


class Tone(_Frozen):
    """Effect of a step's tone on the lift and on complaints."""

    lift: float = Field(ge=0.5, le=2)
    complaint: float = Field(ge=0.5, le=10)


class Offers(_Frozen):
    """How a negotiation offer moves stressed customers and what it gives away to others."""

    elasticity_stressed: float = Field(ge=0, le=0.2)
    """Relative hazard increase per discount point for a customer short of money."""
    elasticity_unstressed: float = Field(ge=0, le=0.2)
    agreement_stressed: Probability = Field(ge=0, le=1)
    """Probability that a reached, stressed customer takes an instalment agreement."""
    agreement_unstressed: Probability = Field(ge=0, le=1)
    agreement_completion: Probability = Field(ge=0, le=1)
    """Probability that an agreement is paid to the end (else it breaks at a random instalment)."""


class Promises(_Frozen):
    """Promises to pay made on an answered phone call or WhatsApp conversation."""

    make: Probability = Field(ge=0, le=1)
    keep_intercept: float = Field(ge=-5, le=5)
    keep_character_weight: float = Field(ge=0, le=5)
    days_min: int = Field(ge=1, le=30)
    days_max: int = Field(ge=1, le=30)


class Fatigue(_Frozen):
    """Repetition: lift lost and opt-outs and complaints gained per extra contact in 7 days."""

    lift_factor: float = Field(gt=0, le=1)
    opt_out_factor: float = Field(ge=1, le=5)
    complaint_base: Probability = Field(ge=0, lt=0.01)
    complaint_factor: float = Field(ge=1, le=10)


class Agency(_Frozen):
    """The collection agency: what it recovers, for what fee, and the customer it costs."""

    daily_recovery: Probability = Field(ge=0, lt=0.05)
    fee_share: float = Field(ge=0, le=0.5)
    ends_relationship: bool = True


class Listing(_Frozen):
    """Effect of a listing notice and of a negative listing on the cure hazard."""

    notice_lift: float = Field(ge=1, le=10)
    notice_days: int = Field(ge=1, le=30)
    listing_lift: float = Field(ge=1, le=10)
    listing_days: int = Field(ge=1, le=90)
    listing_cost_brl: float = Field(ge=0, le=20)


class TwinParameters(_Frozen):
    """Every response parameter of the collection twin (config/twin.yaml)."""

    name: str = Field(min_length=1)
    charge_off_days: int = Field(ge=90, le=720)
    self_cure: SelfCure
    lift_days: int = Field(ge=1, le=14)
    early_days: int = Field(ge=0, le=30)
    early_bonus: float = Field(ge=1, le=3)
    channels: dict[Literal[CONTACT_CHANNELS], Channel]  # type: ignore[valid-type]
    tones: dict[Literal["friendly", "neutral", "firm"], Tone]
    offers: Offers
    promises: Promises
    partial_payment: Probability = Field(ge=0, le=1)
    dispute: Probability = Field(ge=0, lt=0.05)
    fatigue: Fatigue
    listing: Listing
    agency: Agency

    @model_validator(mode="after")
    def _complete(self) -> TwinParameters:
        missing = [c for c in CONTACT_CHANNELS if c not in self.channels]
        if missing:
            raise ValueError(f"channels: missing {', '.join(missing)}")
        tones = [t for t in ("friendly", "neutral", "firm") if t not in self.tones]
        if tones:
            raise ValueError(f"tones: missing {', '.join(tones)}")
        if self.promises.days_max < self.promises.days_min:
            raise ValueError("promises: days_max must be at least days_min")
        return self


def load_twin_parameters(path: Path | None = None) -> TwinParameters:
    """The twin's response parameters (config/twin.yaml unless another file is given)."""
    return load_yaml_model(path or get_settings().config_dir / "twin.yaml", TwinParameters)
