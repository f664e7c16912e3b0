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

# cost categories, in the order costs are booked
COST_CATEGORIES = (
    "travel",
    "staff_time",
    "platform",
    "coordination",
    "training",
    "incentives",
)
