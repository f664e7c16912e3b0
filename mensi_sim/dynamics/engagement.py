"""Rule 5, engagement: relaxation toward a target, and dropping out after long disengagement.

Two engagements per school: ``engagement``, what it brings to the programme (compulsion
and a mentor's load lower it, incentives raise it), and the informal engagement it brings
to its proximity ties, which is what it would have outside any programme: a volunteer's
start and target, raised by the incentives that reach it, with no compulsion and no mentor
fatigue (``informal_target``). A school outside the programme has the two equal, bit for
bit; so a programme whose ties never meet leaves every school's informal learning as it is
without the programme.
"""

from __future__ import annotations

import numpy as np

from mensi_sim.scenario.schema import EngagementParams


def engagement_target(
    base: float | np.ndarray,
    incentive_effect: np.ndarray,
    load: np.ndarray,
    fatigue_per_mentee: float,
) -> np.ndarray:
    """``target = base + incentive effects - fatigue_per_mentee * load``, clipped to [0, 1].

    ``base`` is the voluntary or compulsory target (per school: compulsory for the schools
    a compulsory structure assigned, voluntary for every other); ``load`` is a mentor's
    number of open mentoring ties (0 for others; a tie goes quiet when a side drops out,
    and a programme tie closes at the end unless its cluster goes on).
    """
    return np.clip(base + incentive_effect - fatigue_per_mentee * load, 0.0, 1.0)


def informal_target(incentive_effect: float | np.ndarray, params: EngagementParams) -> np.ndarray:
    """The informal engagement's target: a volunteer's (``target_voluntary``) plus the
    incentive effects, with no load (``engagement_target``'s arithmetic: for a school
    outside the programme, the same number as its ``engagement`` target)."""
    return engagement_target(
        params.target_voluntary, incentive_effect, 0.0, params.fatigue_per_mentee
    )


def relax_engagement(engagement: np.ndarray, target: np.ndarray, rate: float) -> np.ndarray:
    """``e(t+1) = e + rate * (target - e)``."""
    return np.clip(engagement + rate * (target - engagement), 0.0, 1.0)


def dropout_step(
    engagement: np.ndarray,
    weeks_below: np.ndarray,
    active: np.ndarray,
    member: np.ndarray,
    params: EngagementParams,
) -> tuple[np.ndarray, np.ndarray]:
    """Count consecutive weeks below the floor; members at ``dropout_weeks`` drop out.

    Returns the new weeks-below counter and the mask of schools dropping out this week.
    """
    below = engagement < params.dropout_floor
    weeks = np.where(below, weeks_below + 1, 0)
    drops = active & member & (weeks >= params.dropout_weeks)
    return weeks, drops


def initial_engagement(
    n: int, mean: float | np.ndarray, spread_sd: float, motivation: np.ndarray
) -> np.ndarray:
    """Initial engagement: the mean shifted by the school's motivation (uniform in [0, 1]).

    ``e0 = mean + spread_sd * sqrt(12) * (motivation - 0.5)`` has the given mean and sd.
    """
    return np.clip(mean + spread_sd * np.sqrt(12.0) * (motivation - 0.5), 0.0, 1.0)
