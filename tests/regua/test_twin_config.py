"""The twin's response parameters: the shipped sets load, each alternative changes exactly
the belief it states, and a bad file names the key and the rule."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from regua.config import ConfigError
from regua.config.twin import load_twin_parameters

CONFIG = Path(__file__).resolve().parents[2] / "config"


def flat(data: dict, prefix: str = "") -> dict[str, object]:
    out: dict[str, object] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            out |= flat(value, f"{prefix}{key}.")
        else:
            out[f"{prefix}{key}"] = value
    return out


def differences(name: str) -> dict[str, tuple[object, object]]:
    default = flat(yaml.safe_load((CONFIG / "twin.yaml").read_text(encoding="utf-8")))
    other = flat(yaml.safe_load((CONFIG / name).read_text(encoding="utf-8")))
    assert default.keys() == other.keys()
    return {k: (default[k], other[k]) for k in default if default[k] != other[k]}


def test_the_shipped_parameter_sets_load():
    names = {load_twin_parameters(CONFIG / f).name for f in
             ("twin.yaml", "twin-phone-weak.yaml", "twin-offers-weak.yaml")}  # fmt: skip
    assert names == {"default", "phone-weak", "offers-weak"}


def test_each_alternative_changes_only_the_belief_it_states():
    assert differences("twin-phone-weak.yaml") == {
        "name": ("default", "phone-weak"),
        "channels.phone.lift": (4.0, 1.2),
    }
    assert differences("twin-offers-weak.yaml") == {
        "name": ("default", "offers-weak"),
        "offers.elasticity_stressed": (0.05, 0.005),
        "offers.agreement_stressed": (0.20, 0.02),
    }


def test_the_default_beliefs_are_the_ones_its_comments_state():
    params = load_twin_parameters(CONFIG / "twin.yaml")
    # about half of new delinquencies cure untreated within 30 days
    assert 1 - (1 - params.self_cure.dpd_1_30) ** 30 == pytest.approx(0.53, abs=0.01)
    # an agency recovers about a quarter within 90 days
    assert 1 - (1 - params.agency.daily_recovery) ** 90 == pytest.approx(0.24, abs=0.01)
    assert params.charge_off_days == 180
    lifts = {name: channel.lift for name, channel in params.channels.items()}
    assert max(lifts, key=lifts.get) == "phone" and min(lifts.values()) >= 1.0


@pytest.mark.parametrize(
    ("change", "key", "rule"),
    [
        ({"self_cure": {"dpd_31_60": 0.03}}, "self_cure", "must not rise with days past due"),
        ({"channels": {"phone": {"lift": 0.5}}}, "channels.phone.lift", "greater than or equal"),
        ({"agency": {"fee_share": 0.9}}, "agency.fee_share", "less than or equal"),
        ({"promises": {"days_min": 9, "days_max": 3}}, "(top level)", "days_max"),
        ({"charge_off_days": 30}, "charge_off_days", "greater than or equal to 90"),
    ],
)
def test_a_bad_value_names_the_file_the_key_and_the_rule(tmp_path, change, key, rule):
    data = yaml.safe_load((CONFIG / "twin.yaml").read_text(encoding="utf-8"))

    def merge(base: dict, extra: dict) -> None:
        for k, v in extra.items():
            if isinstance(v, dict):
                merge(base[k], v)
            else:
                base[k] = v

    merge(data, change)
    path = tmp_path / "twin.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_twin_parameters(path)
    text = str(error.value)
    assert text.startswith(f"{path}: {key}") and rule in text
