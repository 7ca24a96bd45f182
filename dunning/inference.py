"""Statistics of an experiment readout: intervals, always-valid sequences, planning.

Two kinds of interval are reported for a challenger's difference to the champion:

- a fixed-horizon Welch interval, valid once, at a sample size chosen in advance;
- an always-valid confidence sequence (the asymptotic confidence sequence of
  Waudby-Smith, Arbour, Sinha, Kennedy and Ramdas, "Time-uniform central limit theory and
  asymptotic confidence sequences", Annals of Statistics 2024, built on Robbins' normal
  mixture), which holds at every sample size at once: a collections team reads the
  readout every morning, and stopping the first day a fixed-horizon interval excludes 0
  would declare false wins far more often than its 5%. The sequence is what the verdict
  uses; its price is width (about 1.3-2x the fixed interval at the planned size).

The sequence runs on the inverse-probability-weighted contrast of each case,
psi_i = y_i (1[challenger]/p_challenger - 1[champion]/p_champion), whose mean is the
difference of the cells' means whatever the other cells, with p the configured shares:
a mean of i.i.d. terms in the order cases arrive, which is what the theory needs.

`probability_beats` is the posterior probability that the challenger's mean is higher,
under flat priors and the normal approximation of the two means (Phi(diff / se)).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

ALPHA = 0.05
POWER = 0.8


@dataclass(frozen=True)
class Interval:
    """An estimate with its lower and upper bounds (None where too few cases)."""

    estimate: float | None
    low: float | None
    high: float | None

    def excludes_zero(self) -> bool:
        """True when the whole interval lies on one side of 0."""
        if self.low is None or self.high is None:
            return False
        return self.low > 0 or self.high < 0


NO_INTERVAL = Interval(None, None, None)


def mean_interval(values: np.ndarray, alpha: float = ALPHA) -> Interval:
    """Mean with its Student-t interval (needs 2 values)."""
    n = len(values)
    if n == 0:
        return NO_INTERVAL
    mean = float(np.mean(values))
    if n < 2:
        return Interval(mean, None, None)
    half = float(stats.t.ppf(1 - alpha / 2, n - 1) * np.std(values, ddof=1) / math.sqrt(n))
    return Interval(mean, mean - half, mean + half)


def _welch(a: np.ndarray, b: np.ndarray) -> tuple[float, float, float] | None:
    """(difference of means b - a, its standard error, Welch degrees of freedom)."""
    if len(a) < 2 or len(b) < 2:
        return None
    va, vb = np.var(a, ddof=1) / len(a), np.var(b, ddof=1) / len(b)
    se = math.sqrt(va + vb)
    if se == 0:
        return float(np.mean(b) - np.mean(a)), 0.0, float(len(a) + len(b) - 2)
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    return float(np.mean(b) - np.mean(a)), se, float(df)


def difference_interval(
    champion: np.ndarray, challenger: np.ndarray, alpha: float = ALPHA
) -> Interval:
    """Challenger mean minus champion mean with its fixed-horizon Welch interval."""
    welch = _welch(champion, challenger)
    if welch is None:
        return NO_INTERVAL
    diff, se, df = welch
    half = float(stats.t.ppf(1 - alpha / 2, df) * se) if se > 0 else 0.0
    return Interval(diff, diff - half, diff + half)


def probability_beats(champion: np.ndarray, challenger: np.ndarray) -> float | None:
    """Posterior probability (flat priors, normal means) that the challenger's mean is higher."""
    welch = _welch(champion, challenger)
    if welch is None:
        return None
    diff, se, _ = welch
    if se == 0:
        return 1.0 if diff > 0 else 0.0 if diff < 0 else 0.5
    return float(stats.norm.cdf(diff / se))


def mixture_rho(planned: int, alpha: float = ALPHA) -> float:
    """The mixture scale that makes the sequence narrowest at `planned` cases."""
    log_term = -2 * math.log(alpha)
    return math.sqrt((log_term + math.log(log_term + 1)) / planned)


def sequence_radius(n: int | np.ndarray, rho: float, alpha: float = ALPHA) -> np.ndarray:
    """Half-width of the always-valid sequence for a mean of n unit-variance terms."""
    t = np.asarray(n, dtype=float)
    return np.sqrt(2 * (t * rho**2 + 1) / (t**2 * rho**2) * np.log(np.sqrt(t * rho**2 + 1) / alpha))


def contrast_terms(
    values: np.ndarray, in_challenger: np.ndarray, in_champion: np.ndarray,
    challenger_share: float, champion_share: float,
) -> np.ndarray:  # fmt: skip
    """psi_i: each case's inverse-probability-weighted contribution to the difference."""
    return values * (in_challenger / challenger_share - in_champion / champion_share)


def confidence_sequence(terms: np.ndarray, planned: int, alpha: float = ALPHA) -> Interval:
    """The always-valid interval for the mean of `terms` after all of them (cases in
    arrival order), tuned to be narrowest at `planned` cases."""
    n = len(terms)
    if n < 2:
        return NO_INTERVAL
    mean = float(np.mean(terms))
    sd = float(np.std(terms, ddof=1))
    half = float(sd * sequence_radius(n, mixture_rho(planned, alpha), alpha))
    return Interval(mean, mean - half, mean + half)


def running_sequence(
    terms: np.ndarray, planned: int, alpha: float = ALPHA
) -> tuple[np.ndarray, ...]:
    """(n, mean, low, high) of the sequence after each case: what each daily look showed."""
    n = np.arange(1, len(terms) + 1, dtype=float)
    mean = np.cumsum(terms) / n
    second = np.cumsum(terms**2) / n
    variance = np.where(n > 1, (second - mean**2) * n / np.maximum(n - 1, 1), np.nan)
    half = np.sqrt(np.clip(variance, 0, None)) * sequence_radius(
        n, mixture_rho(planned, alpha), alpha
    )
    return n, mean, mean - half, mean + half


@dataclass(frozen=True)
class Plan:
    """How many cases an experiment needs to detect an effect, or what it can detect."""

    cases: int
    """Cases of the population (all cells) at which the effect is detected with the power."""
    sequential_cases: int
    """The same with the always-valid sequence the readout uses for its verdict."""
    minimum_detectable_effect: float
    """The smallest difference detected with the power at `cases`."""


def _fixed_cases(
    sd: float, effect: float, shares: tuple[float, float], alpha: float, power: float
) -> float:
    z = stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)
    return (z * sd / effect) ** 2 * (1 / shares[0] + 1 / shares[1])


def plan_experiment(
    sd: float, effect: float, champion_share: float, challenger_share: float,
    alpha: float = ALPHA, power: float = POWER,
) -> Plan:  # fmt: skip
    """Sample size for a difference `effect` (BRL per case) between two cells of outcome
    standard deviation `sd`, and the sequential sample size with the readout's sequence
    tuned at the fixed size.

    The sequential size is the smallest n at which the sequence's half-width plus
    z_power standard errors of the contrast falls below the effect.
    """
    if sd <= 0 or effect <= 0:
        raise ValueError("sd and effect must be positive")
    shares = (champion_share, challenger_share)
    fixed = math.ceil(_fixed_cases(sd, effect, shares, alpha, power))
    # The IPW contrast's sd, for a case of either cell: sd * sqrt(1/p_c + 1/p_h) when both
    # cells cover the population (other cells only add zeros; a conservative plan).
    contrast_sd = sd * math.sqrt(1 / champion_share + 1 / challenger_share)
    rho = mixture_rho(fixed, alpha)
    z_power = stats.norm.ppf(power)
    low, high = 2, max(4, fixed)
    while _sequential_short(high, contrast_sd, rho, alpha, z_power, effect):
        high *= 2
    while low < high:
        mid = (low + high) // 2
        if _sequential_short(mid, contrast_sd, rho, alpha, z_power, effect):
            low = mid + 1
        else:
            high = mid
    return Plan(
        fixed,
        low,
        minimum_detectable_effect(fixed, sd, champion_share, challenger_share, alpha, power),
    )


def _sequential_short(n: int, sd: float, rho: float, alpha: float, z: float, effect: float) -> bool:
    """True while n cases are too few for the sequence to detect `effect` with the power."""
    return float(sd * (sequence_radius(n, rho, alpha) + z / math.sqrt(n))) > effect


def minimum_detectable_effect(
    cases: int, sd: float, champion_share: float, challenger_share: float,
    alpha: float = ALPHA, power: float = POWER,
) -> float:  # fmt: skip
    """The smallest difference of means a fixed-horizon test of `cases` detects with the power."""
    z = stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)
    return float(z * sd * math.sqrt((1 / champion_share + 1 / challenger_share) / cases))
