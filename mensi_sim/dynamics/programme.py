"""The programme's life: before its start, while it runs, and what goes on after its end.

While the programme runs (``start_week <= week < end_week``) its ties meet and it pays for
coordination, the platform, incentives and travel. In the first week after its end each
cluster draws once whether it goes on (``sustain_prob``); a cluster that goes on meets at
``sustained_rate_share`` of its rate, unfunded; the community of practice and every other
programme tie close. Ties that are not the programme's (proximity, research graphs) are
never affected.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from mensi_sim.scenario.schema import WEEKS_PER_YEAR, ProgrammeParams
from mensi_sim.ties import TieTable

Phase = Literal["before", "running", "after"]


def phase(week: int, params: ProgrammeParams) -> Phase:
    """Where the programme stands in a week."""
    if week < params.start_week:
        return "before"
    return "running" if week < params.end_week else "after"


def years_run(params: ProgrammeParams, weeks: int) -> float:
    """Years the programme ran within the first ``weeks`` weeks."""
    return max(0, min(params.end_week, weeks) - params.start_week) / WEEKS_PER_YEAR


def draw_sustained(
    n_clusters: int, params: ProgrammeParams, rng: np.random.Generator
) -> np.ndarray:
    """Which clusters go on after the end: each with probability ``sustain_prob``.

    One uniform number per cluster (the programme stream), drawn once, at the end.
    """
    return rng.random(n_clusters) < params.sustain_prob


def programme_open(ties: TieTable, now: Phase, sustained: np.ndarray) -> np.ndarray:
    """Per tie: whether the programme lets it meet now (True for ties not in the programme).

    Running: every programme tie; before: none; after: the ties of sustained clusters.
    """
    if now == "running":
        return np.ones(ties.n_ties, dtype=bool)
    if now == "before":
        return ~ties.programme
    in_sustained = np.zeros(ties.n_ties, dtype=bool)
    if sustained.size:
        in_sustained = (ties.event >= 0) & sustained[np.maximum(ties.event, 0)]
    return ~ties.programme | in_sustained


def cluster_scale(now: Phase, sustained: np.ndarray, params: ProgrammeParams) -> np.ndarray:
    """Per cluster: the factor on its meeting rate (1 running, the sustained share after)."""
    if now == "running":
        return np.ones(sustained.size)
    if now == "before":
        return np.zeros(sustained.size)
    return np.where(sustained, params.sustained_rate_share, 0.0)
