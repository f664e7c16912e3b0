"""Rule 7b, running costs: coordination of clusters and the online platform, booked weekly.

Both are paid by the programme (cash) and only while it runs.
"""

from __future__ import annotations

import numpy as np

from mensi_sim.codes import MODE_ONLINE, ROLE_MENTOR
from mensi_sim.registry import Structure
from mensi_sim.scenario.schema import WEEKS_PER_YEAR, CostParams
from mensi_sim.ties import TieTable


def _price(structure: Structure, costs: CostParams, field: str) -> float:
    try:
        return float(getattr(costs, field))
    except AttributeError:
        raise ValueError(
            f"structure {structure.name!r}: coordination field costs.{field} does not exist"
        ) from None


def coordination_rate(structure: Structure, costs: CostParams) -> float | tuple[float, float]:
    """Coordination cost per cluster-year (EUR): the price in the ``costs`` field the
    structure's registry entry names, or the pair (in person, online) of an entry that
    prices each cluster by its mode; 0 only for an entry that says ``coordination=None``."""
    if structure.coordination is None:
        return 0.0
    if isinstance(structure.coordination, tuple):
        in_person, online = (_price(structure, costs, f) for f in structure.coordination)
        return in_person, online
    return _price(structure, costs, structure.coordination)


def rate_pair(rate: float | tuple[float, float]) -> tuple[float, float]:
    """A coordination rate as the pair (in person, online): one price stands for both."""
    return rate if isinstance(rate, tuple) else (rate, rate)


def mentor_rate(
    rates: np.ndarray | tuple[float, float] | float, cluster: np.ndarray, cluster_mode: np.ndarray
) -> float | np.ndarray:
    """The rate each mentor is booked: the in-person or the online price of the mode of the
    school's cluster. ``rates`` is one price, one pair (in person, online) or one pair per
    school (shape (n, 2): its country's structure's); read only for mentors."""
    rates = np.asarray(rates if isinstance(rates, np.ndarray) else rate_pair(rates), float)
    in_person, online = rates[..., 0], rates[..., 1]
    if cluster_mode.size == 0:
        return in_person if in_person.ndim else float(in_person)
    mode = cluster_mode[np.clip(cluster, 0, cluster_mode.size - 1)]
    return np.where(mode == MODE_ONLINE, online, in_person)


def coordinated_mentors(role: np.ndarray, active: np.ndarray) -> np.ndarray:
    """The schools coordination is paid for: active mentors (one mentor = one cluster)."""
    return (role == ROLE_MENTOR) & active


def coordination_cost(
    role: np.ndarray, active: np.ndarray, rate_per_cluster_year: float | np.ndarray
) -> np.ndarray:
    """This week's coordination cost, booked to each active mentor (one mentor = one
    cluster); the rate is one price or one per school (``mentor_rate``: its country's
    structure's, by the mode of its cluster)."""
    return np.where(coordinated_mentors(role, active), rate_per_cluster_year / WEEKS_PER_YEAR, 0.0)


def online_schools(n: int, ties: TieTable, is_open: np.ndarray) -> np.ndarray:
    """Schools with at least one open online programme tie (mentoring, peer or community)."""
    online = is_open & (ties.mode == MODE_ONLINE) & ties.programme
    has = np.zeros(n, dtype=bool)
    has[ties.src[online]] = True
    has[ties.dst[online]] = True
    return has


def platform_week_price(costs: CostParams) -> float:
    """EUR a week of the platform costs each school using it."""
    return costs.platform_per_school_year / WEEKS_PER_YEAR


def platform_cost(uses_platform: np.ndarray, costs: CostParams) -> np.ndarray:
    """This week's platform cost per school using it: ``platform_per_school_year / 52``."""
    return np.where(uses_platform, platform_week_price(costs), 0.0)
