"""Rule 7a, incentive schemes: who they reach, what they pay, what they do to engagement.

A scheme is a declared object (``IncentiveScheme``: type, target group, amount per school
or per teacher, effect curve, start week, duration). Its type is an entry of
``mensi_sim.registry.INCENTIVE_TYPES`` carrying its payment rule and default amount;
adding a type is one payment function and one ``register`` call. A scheme runs only while
the programme runs.

Effect with a dose: a running scheme raises the engagement target of each school it
reaches by ``max_effect * A / (A + half_effect_amount)`` (A the amount per school, or per
teacher): a larger payment is worth more, with diminishing returns.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mensi_sim.codes import ROLE_MENTEE, ROLE_MENTOR
from mensi_sim.registry import INCENTIVE_TYPES, IncentiveType
from mensi_sim.scenario.schema import WEEKS_PER_YEAR, IncentiveScheme, ProgrammeParams


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


def is_running(scheme: IncentiveScheme, week: int, programme: ProgrammeParams) -> bool:
    """Whether the scheme runs in this week: its own window, within the programme's."""
    own = scheme.start_week <= week < scheme.start_week + scheme.duration_weeks
    return own and programme.start_week <= week < programme.end_week


def running_schemes(
    schemes: Sequence[IncentiveScheme], week: int, programme: ProgrammeParams
) -> list[IncentiveScheme]:
    """The schemes that run in this week (``is_running``), in order."""
    return [scheme for scheme in schemes if is_running(scheme, week, programme)]


def dose_effect(scheme: IncentiveScheme) -> float:
    """``max_effect * A / (A + half_effect)``: the raise of the engagement target."""
    amount = scheme.payment
    return scheme.max_effect * amount / (amount + scheme.half_effect)


def _amount_per_school(scheme: IncentiveScheme, teachers: np.ndarray) -> np.ndarray | float:
    """The amount each school gets: the amount, or the amount times its teachers."""
    return scheme.payment * teachers if scheme.per == "teacher" else scheme.payment


def _per_school_year(
    scheme: IncentiveScheme,
    week: int,
    reached: np.ndarray,
    new_adopters: np.ndarray,
    teachers: np.ndarray,
) -> np.ndarray:
    return np.where(reached, _amount_per_school(scheme, teachers) / WEEKS_PER_YEAR, 0.0)


def _once(
    scheme: IncentiveScheme,
    week: int,
    reached: np.ndarray,
    new_adopters: np.ndarray,
    teachers: np.ndarray,
) -> np.ndarray:
    if week != scheme.start_week:
        return np.zeros(reached.size)
    return np.where(reached, _amount_per_school(scheme, teachers), 0.0)


def _per_adoption(
    scheme: IncentiveScheme,
    week: int,
    reached: np.ndarray,
    new_adopters: np.ndarray,
    teachers: np.ndarray,
) -> np.ndarray:
    return np.where(reached & new_adopters, _amount_per_school(scheme, teachers), 0.0)


INCENTIVE_TYPES.register(
    IncentiveType(
        name="funding",
        pay=_per_school_year,
        default_amount=3000.0,
        description="amount per school-year, paid weekly",
    )
)
INCENTIVE_TYPES.register(
    IncentiveType(
        name="recognition",
        pay=_once,
        default_amount=200.0,
        description="amount once, in the scheme's start week",
    )
)
# Release time: 0.1 FTE a school-year, priced from the project's own staff-time figures:
# the mean over the six MenSI countries of 0.1 x annual working hours x hour rate
# (STAFF_HOUR_RATE_BY_COUNTRY; OECD hours: CZ 1,688, HU 1,656, PT 1,368, else 1,557) =
# mean(6,539, 2,180, 2,363, 1,490, 4,360, 4,651) = EUR 3,597, rounded to EUR 3,600 (about
# 156 hours, 22 days of 7 hours). One amount everywhere: it does not follow a school's own
# country rate. The payment is cash; the hours of the meetings it frees are booked as staff
# time as well (contacts), so under the total cost perspective a mentor's meeting hours, up
# to the ~156 hours it buys, are counted twice (docs/ASSUMPTIONS.md 8.4).
INCENTIVE_TYPES.register(
    IncentiveType(
        name="release_time",
        pay=_per_school_year,
        default_amount=3600.0,
        description="amount per school-year (0.1 FTE release time), paid weekly",
    )
)
INCENTIVE_TYPES.register(
    IncentiveType(
        name="adoption_reward",
        pay=_per_adoption,
        default_amount=2000.0,
        description="amount per adoption while the scheme runs",
    )
)


def incentive_effect(
    schemes: Sequence[IncentiveScheme],
    week: int,
    programme: ProgrammeParams,
    role: np.ndarray,
    member: np.ndarray,
    active: np.ndarray,
) -> np.ndarray:
    """Sum of the engagement-target raises of the running schemes reaching each active school."""
    effect = np.zeros(role.size)
    for scheme in schemes:
        if is_running(scheme, week, programme):
            reached = target_group(scheme.target, role, member) & active
            effect += np.where(reached, dose_effect(scheme), 0.0)
    return effect


def incentive_payments(
    schemes: Sequence[IncentiveScheme],
    week: int,
    programme: ProgrammeParams,
    role: np.ndarray,
    member: np.ndarray,
    active: np.ndarray,
    new_adopters: np.ndarray,
    teachers: np.ndarray,
) -> np.ndarray:
    """EUR paid to each school this week by all running schemes (only active schools are paid)."""
    paid = np.zeros(role.size)
    for scheme in schemes:
        if is_running(scheme, week, programme):
            reached = target_group(scheme.target, role, member) & active
            pay = INCENTIVE_TYPES.get(scheme.type).pay
            paid += pay(scheme, week, reached, new_adopters, teachers)
    return paid
