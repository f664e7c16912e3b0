"""Degenerate configurations in which the simulator must reduce to textbook diffusion models."""

from __future__ import annotations

from typing import Any

import numpy as np

from mensi_sim.scenario import Scenario


def pure_diffusion(n: int, steps: int, structure: str = "complete", **adoption: Any) -> Scenario:
    """A scenario with mentoring, training, engagement and capacity effects switched off.

    Only rule 4 acts: no learning, no courses, engagement fixed at 1, theta = 0
    (capacity irrelevant), no proximity ties, no meetings, all term weeks irrelevant.
    Extra keyword arguments set adoption parameters; ``network`` ones go through
    ``adoption["network"]``.
    """
    network = {"structure": structure, "proximity": False, **adoption.pop("network", {})}
    population = {"n_schools": n, "countries": ["X"], "regions_per_country": 1,
                  **adoption.pop("population", {})}
    zero_rates = {f"rate_{k}": 0.0 for k in ("in_person", "online", "peer", "community",
                                             "proximity")}
    return Scenario.model_validate({
        "name": f"pure_{structure}",
        "time": {"steps": steps},
        "population": population,
        "network": network,
        "contacts": zero_rates,
        "learning": {"enabled": False},
        "engagement": {"enabled": False},
        "adoption": {"theta": 0.0, "initial": "none", **adoption},
    })


def bass_map(p: float, q: float, steps: int, f0: float = 0.0) -> np.ndarray:
    """Discrete Bass map ``F(t+1) = F(t) + (1 - F(t)) min(1, p + q F(t))``, t = 0..steps."""
    f = np.empty(steps + 1)
    f[0] = f0
    for t in range(steps):
        f[t + 1] = f[t] + (1 - f[t]) * min(1.0, p + q * f[t])
    return f


def sis_level(p: float, q: float, delta: float) -> float:
    """Mean-field endemic share I* of a synchronous SIS process on a complete graph.

    Solves ``(1 - I)(p + q I) = delta I``: q I^2 + (delta + p - q) I - p = 0, the root in [0, 1].
    With p = 0 it is ``max(0, 1 - delta / q)``.
    """
    a, b, c = q, delta + p - q, -p
    if a == 0:
        return p / (p + delta) if p + delta > 0 else 0.0
    root = (-b + np.sqrt(b * b - 4 * a * c)) / (2 * a)
    return float(min(max(root, 0.0), 1.0))
