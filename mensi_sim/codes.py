"""Integer codes of the categorical school and tie attributes held in arrays."""

from __future__ import annotations

# school roles
ROLE_NONE, ROLE_MENTOR, ROLE_MENTEE = 0, 1, 2
ROLE_NAMES = ("none", "mentor", "mentee")

# tie kinds
KIND_MENTORING, KIND_PEER, KIND_COMMUNITY, KIND_PROXIMITY = 0, 1, 2, 3
KIND_NAMES = ("mentoring", "peer", "community", "proximity")

# tie modes
MODE_IN_PERSON, MODE_ONLINE = 0, 1
MODE_NAMES = ("in_person", "online")

# cost categories, in the order costs are booked. Every category is cash the programme
# pays except staff_time, the schools' staff hours valued at their country's hour rate
# (an opportunity cost); "training" is course fees (the course hours are staff time).
COST_CATEGORIES = (
    "travel",
    "staff_time",
    "platform",
    "coordination",
    "training",
    "incentives",
)
TIME_CATEGORIES = ("staff_time",)
CASH_CATEGORIES = tuple(c for c in COST_CATEGORIES if c not in TIME_CATEGORIES)

#: the largest n for which every sort key ``a * n + b`` (0 <= a, b < n) fits in int64
#: (floor of the square root of 2**63 - 1): above it, keys are sorted as pairs instead
INT64_KEY_MAX_N = 3_037_000_499
