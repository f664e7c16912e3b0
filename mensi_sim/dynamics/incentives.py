"""Rule 7a, incentive schemes: who they reach, what they pay, what they do to engagement.

A scheme is a declared object (``IncentiveScheme``: type, target group, amount,
effect, start week, duration). Adding a type is one entry in ``PAYMENT_RULES``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from mensi_sim.codes import ROLE_MENTEE, ROLE_MENTOR
from mensi_sim.scenario.schema import WEEKS_PER_YEAR, IncentiveScheme


def target_group(target: str, role: np.ndarray, member: np.ndarray) -> np.ndarray:
    """Mask of the schools in a target group (mentors, mentees, participants, outside, all)."""
    if target == "mentors":
        return role == ROLE_MENTOR
    if target == "mentees":
        return role == ROLE_MENTEE
    if target == "participants":
        return member.copy()
    if target == "outside":
        return ~member
    return np.ones(role.size, dtype=bool)


def is_running(scheme: IncentiveScheme, week: int) -> bool:
    """Whether the scheme runs in this week of the simulation."""
    return scheme.start_week <= week < scheme.start_week + scheme.duration_weeks


def _per_school_year(
    scheme: IncentiveScheme, week: int, reached: np.ndarray, new_adopters: np.ndarray
) -> np.ndarray:
    return np.where(reached, scheme.payment / WEEKS_PER_YEAR, 0.0)


def _once(
    scheme: IncentiveScheme, week: int, reached: np.ndarray, new_adopters: np.ndarray
) -> np.ndarray:
    return (
        np.where(reached, scheme.payment, 0.0)
        if week == scheme.start_week
        else np.zeros(reached.size)
    )


def _per_adoption(
    scheme: IncentiveScheme, week: int, reached: np.ndarray, new_adopters: np.ndarray
) -> np.ndarray:
    return np.where(reached & new_adopters, scheme.payment, 0.0)


PAYMENT_RULES: dict[str, Callable[..., np.ndarray]] = {
    "funding": _per_school_year,  # amount per school-year, paid weekly
    "release_time": _per_school_year,  # amount per school-year (0.1 FTE), paid weekly
    "recognition": _once,  # amount once, at the start week
    "adoption_reward": _per_adoption,  # amount per adoption while the scheme runs
}


def incentive_effect(
    schemes: Sequence[IncentiveScheme],
    week: int,
    role: np.ndarray,
    member: np.ndarray,
    active: np.ndarray,
) -> np.ndarray:
    """Sum of the engagement-target raises of the running schemes reaching each active school."""
    effect = np.zeros(role.size)
    for scheme in schemes:
        if is_running(scheme, week):
            effect += np.where(
                target_group(scheme.target, role, member) & active, scheme.effect, 0.0
            )
    return effect


def incentive_payments(
    schemes: Sequence[IncentiveScheme],
    week: int,
    role: np.ndarray,
    member: np.ndarray,
    active: np.ndarray,
    new_adopters: np.ndarray,
) -> np.ndarray:
    """EUR paid to each school this week by all running schemes (only active schools are paid)."""
    paid = np.zeros(role.size)
    for scheme in schemes:
        if is_running(scheme, week):
            reached = target_group(scheme.target, role, member) & active
            paid += PAYMENT_RULES[scheme.type](scheme, week, reached, new_adopters)
    return paid
