"""`SchoolState`: the mutable per-school state of a run, one array entry per school."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mensi_sim.codes import COST_CATEGORIES

_CATEGORY = {name: i for i, name in enumerate(COST_CATEGORIES)}


@dataclass
class SchoolState:
    """What changes during a run. Index = school id; the model owns one instance.

    Costs are booked twice: to each school (``cost``, ``staff_hours``) and to a running
    ledger of totals (``cost_totals``, ``staff_hours_total``: every amount booked, summed
    booking by booking), so that the totals of a week are read without summing over the
    schools.
    """

    capacity: np.ndarray  # float in [0, 1]: digital innovation capacity c = (SELFIE - 1) / 4
    baseline: np.ndarray  # float in [0, 1]: capacity drifts back toward this without contact
    adopted: np.ndarray  # bool: has mainstreamed the practice
    engagement: np.ndarray  # float in [0, 1]: motivation to take part
    active: np.ndarray  # bool: still participating (False after dropping out)
    member: np.ndarray  # bool: part of the mentoring network (mentor, mentee or community)
    role: np.ndarray  # int8, codes.ROLE_*
    cluster: np.ndarray  # int32, -1 when in no cluster
    weeks_below: np.ndarray  # int: consecutive weeks with engagement below the dropout floor
    threshold: np.ndarray  # float: adoption threshold phi (threshold rule)
    cost: np.ndarray  # float (n, len(COST_CATEGORIES)): cumulative EUR booked to each school
    staff_hours: np.ndarray  # float: cumulative staff hours of each school (meetings, courses)
    cost_totals: np.ndarray = field(default=None)  # type: ignore[assignment]  # EUR per category
    staff_hours_total: float = 0.0

    def __post_init__(self) -> None:
        # a category's column contiguous: a booking adds to one run of memory
        self.cost = np.asfortranarray(self.cost, dtype=float)
        if self.cost_totals is None:
            self.cost_totals = self.cost.sum(axis=0)
            self.staff_hours_total = float(np.add.reduce(self.staff_hours))

    @property
    def n(self) -> int:
        """Number of schools."""
        return int(self.capacity.size)

    def cost_by_category(self) -> np.ndarray:
        """Cumulative cost per category (EUR), in COST_CATEGORIES order (the ledger)."""
        return self.cost_totals.copy()

    def book(self, category: str, amounts: np.ndarray) -> None:
        """Add per-school amounts (EUR, one per school) to a cost category."""
        k = _CATEGORY[category]
        self.cost[:, k] += amounts
        self.cost_totals[k] += np.add.reduce(amounts)

    def book_at(self, category: str, schools: np.ndarray, amounts: np.ndarray | float) -> None:
        """Add amounts (EUR) to a cost category, one per entry of ``schools`` (a school may
        appear more than once), or the same ``amounts`` (a number) to each; the ledger adds
        their sum (``amounts * len(schools)`` for a number)."""
        if schools.size == 0:
            return
        k = _CATEGORY[category]
        np.add.at(self.cost[:, k], schools, amounts)
        self.cost_totals[k] += _total(amounts, schools.size)

    def book_time(self, hours: np.ndarray, hour_rate: np.ndarray) -> None:
        """Add per-school staff hours, valued at each school's hour rate (EUR) as staff time."""
        self.staff_hours += hours
        self.staff_hours_total += np.add.reduce(hours)
        self.book("staff_time", hours * hour_rate)

    def book_time_at(
        self, schools: np.ndarray, hours: np.ndarray | float, hour_rate: np.ndarray
    ) -> None:
        """Add staff hours, one per entry of ``schools`` (or the same number to each),
        valued at each school's hour rate."""
        if schools.size == 0:
            return
        np.add.at(self.staff_hours, schools, hours)
        self.staff_hours_total += _total(hours, schools.size)
        self.book_at("staff_time", schools, hours * hour_rate[schools])


def _total(amounts: np.ndarray | float, count: int) -> float:
    """What a booking adds to the ledger: the sum of its amounts, or a number times the
    number of entries."""
    return amounts * count if np.ndim(amounts) == 0 else np.add.reduce(amounts)
