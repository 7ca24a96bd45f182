"""The month grid of a simulation and Brazilian business days, as integer days since 1970-01-01.

Month index 0 is the first month of history and `months - 1` the month holding `end`.
Indices run from -PRE_MONTHS (macro written before the history) to
`months + POST_MONTHS` (conditions after `end` that the ground truth looks ahead to,
never written).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import holidays
import numpy as np

PRE_MONTHS = 6
POST_MONTHS = 7
LADDER_REACH_DAYS = 200  # the last ladder step falls this far at most after a due date


def _days(value: date) -> int:
    return int(np.datetime64(value, "D").astype(np.int64))


@dataclass(frozen=True)
class Calendar:
    """Month starts and business days around a simulated history."""

    months: int
    end_day: int
    month_starts: np.ndarray  # month index -PRE_MONTHS .. months + POST_MONTHS, inclusive
    business_days: np.ndarray  # sorted business days covering the grid

    def start(self, month: np.ndarray | int) -> np.ndarray:
        """First day of month index `month`."""
        return self.month_starts[np.asarray(month) + PRE_MONTHS]

    def last(self, month: np.ndarray | int) -> np.ndarray:
        """Last day of month index `month`."""
        return self.month_starts[np.asarray(month) + PRE_MONTHS + 1] - 1

    def month_end(self, month: np.ndarray | int) -> np.ndarray:
        """Last day of month index `month`, capped at the end of history."""
        return np.minimum(self.last(month), self.end_day)

    @property
    def history_start(self) -> int:
        """First day of the history."""
        return int(self.start(0))

    def next_business_day(self, days: np.ndarray) -> np.ndarray:
        """The first Monday-to-Friday non-holiday on or after each day."""
        position = np.searchsorted(self.business_days, days)
        return self.business_days[np.minimum(position, len(self.business_days) - 1)]


def build_calendar(end: date, months: int) -> Calendar:
    """The month grid ending with the month of `end`, and national business days around it."""
    last_month = np.datetime64(end, "M")
    first = last_month - (months - 1)
    grid = first + np.arange(-PRE_MONTHS, months + POST_MONTHS + 1)
    month_starts = grid.astype("datetime64[D]").astype(np.int64)
    low = int(month_starts[0])
    high = int(month_starts[-1]) + LADDER_REACH_DAYS
    days = np.arange(low, high + 1, dtype=np.int64)
    weekday = (days + 3) % 7  # 1970-01-01 was a Thursday; 0 = Monday
    years = range(int(str(grid[0])[:4]), int(str(grid[-1])[:4]) + 2)
    holiday_days = np.array([_days(d) for d in holidays.Brazil(years=years)], dtype=np.int64)
    business = (weekday < 5) & ~np.isin(days, holiday_days)
    return Calendar(
        months=months,
        end_day=_days(end),
        month_starts=month_starts,
        business_days=days[business],
    )
