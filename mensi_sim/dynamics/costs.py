"""Rule 7b, running costs: coordination of clusters and the online platform, booked weekly."""

from __future__ import annotations

import numpy as np

from mensi_sim.codes import KIND_PROXIMITY, MODE_ONLINE, ROLE_MENTOR
from mensi_sim.scenario.schema import WEEKS_PER_YEAR, CostParams


def coordination_rate(structure: str, costs: CostParams) -> float:
    """Coordination cost per cluster-year (EUR) of a structure; research graphs have none."""
    return {
        "top_down": costs.coordination_top_down,
        "hybrid": costs.coordination_top_down,
        "bottom_up": costs.coordination_bottom_up,
        "virtual": costs.coordination_virtual,
    }.get(structure, 0.0)


def coordination_cost(
    role: np.ndarray, active: np.ndarray, rate_per_cluster_year: float
) -> np.ndarray:
    """This week's coordination cost, booked to each active mentor (one mentor = one cluster)."""
    return np.where((role == ROLE_MENTOR) & active, rate_per_cluster_year / WEEKS_PER_YEAR, 0.0)


def online_schools(
    n: int,
    src: np.ndarray,
    dst: np.ndarray,
    kind: np.ndarray,
    mode: np.ndarray,
    is_active: np.ndarray,
) -> np.ndarray:
    """Schools with at least one active online programme tie (mentoring, peer or community)."""
    online = is_active & (mode == MODE_ONLINE) & (kind != KIND_PROXIMITY)
    has = np.zeros(n, dtype=bool)
    has[src[online]] = True
    has[dst[online]] = True
    return has


def platform_cost(uses_platform: np.ndarray, costs: CostParams) -> np.ndarray:
    """This week's platform cost per school using it: ``platform_per_school_year / 52``."""
    return np.where(uses_platform, costs.platform_per_school_year / WEEKS_PER_YEAR, 0.0)
