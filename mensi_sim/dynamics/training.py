"""Rule 3, training: courses enrol targeted schools at their start, complete them at their end."""

from __future__ import annotations

import numpy as np

from mensi_sim.scenario.schema import Course


def course_enrolment(offered: np.ndarray, course: Course, rng: np.random.Generator) -> np.ndarray:
    """Schools that enrol: each offered school with probability ``enrol_prob``.

    One uniform number per school is drawn, offered or not (aligned streams).
    """
    return offered & (rng.random(offered.size) < course.enrol_prob)


def course_completion(enrolled: np.ndarray, course: Course, rng: np.random.Generator) -> np.ndarray:
    """Schools that complete: each enrolled school with probability ``completion_prob``."""
    return enrolled & (rng.random(enrolled.size) < course.completion_prob)


def completion_gain(capacity: np.ndarray, completed: np.ndarray, course: Course) -> np.ndarray:
    """Capacity change on completion: ``capacity_gain * (1 - c)`` for completers, else 0."""
    return np.where(completed, course.capacity_gain * (1.0 - capacity), 0.0)
