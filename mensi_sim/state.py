"""`SchoolState`: the mutable per-school state of a run, one array entry per school."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mensi_sim.codes import COST_CATEGORIES


@dataclass
class SchoolState:
    """What changes during a run. Index = school id; the model owns one instance."""

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

    @property
    def n(self) -> int:
        """Number of schools."""
        return int(self.capacity.size)

    def cost_by_category(self) -> np.ndarray:
        """Cumulative cost per category (EUR), in COST_CATEGORIES order."""
        return self.cost.sum(axis=0)

    def book(self, category: str, amounts: np.ndarray) -> None:
        """Add per-school amounts (EUR) to a cost category."""
        self.cost[:, COST_CATEGORIES.index(category)] += amounts

    def book_time(self, hours: np.ndarray, hour_rate: np.ndarray) -> None:
        """Add per-school staff hours, valued at each school's hour rate (EUR) as staff time."""
        self.staff_hours += hours
        self.book("staff_time", hours * hour_rate)
