"""Where the time goes: exclusive wall time per phase of set-up and step.

``PhaseTimer.install()`` wraps the functions the model calls (the dynamics rules, the
network builders, Mesa agent creation, the metrics) so that each call adds its
*exclusive* time (time in nested wrapped calls is booked to those) to its phase. It
is a deterministic profile of the known phases; the benchmark uses it on a separate
run from the timed one, so the wrappers never slow the reported timings.
"""

from __future__ import annotations

import functools
import importlib
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

# (module or "module:Class", attribute, phase label); order is irrelevant
SETUP_PHASES = [
    ("mensi_sim.world", "generate_population", "population"),
    ("mensi_sim.networks", "build_structure", "structure (builder)"),
    ("mensi_sim.networks.graphs", "research_ties", "research graph"),
    (
        "mensi_sim.networks.school_network:SchoolNetwork",
        "from_graph",
        "graph to arrays (from_graph)",
    ),
    ("mensi_sim.networks", "proximity_ties", "proximity ties (k-d tree)"),
    ("mensi_sim.agents:School", "create_agents", "Mesa agents"),
]
STEP_PHASES = [
    ("mensi_sim.dynamics.contacts", "draw_meetings", "meeting draws"),
    ("mensi_sim.dynamics.contacts", "meeting_costs", "cost booking"),
    ("mensi_sim.state:SchoolState", "book", "cost booking"),
    ("mensi_sim.state:SchoolState", "book_time", "cost booking"),
    ("mensi_sim.dynamics.incentives", "incentive_payments", "cost booking"),
    ("mensi_sim.dynamics.costs", "coordination_cost", "cost booking"),
    ("mensi_sim.dynamics.costs", "platform_cost", "cost booking"),
    ("mensi_sim.dynamics.learning", "learning_change", "learning"),
    ("mensi_sim.dynamics.training", "course_enrolment", "training"),
    ("mensi_sim.dynamics.training", "course_completion", "training"),
    ("mensi_sim.dynamics.adoption", "adopting_neighbour_share", "adoption: sparse matvec"),
    ("mensi_sim.dynamics.adoption", "adopting_neighbour_count", "adoption: sparse matvec"),
    ("mensi_sim.dynamics.adoption", "contact_exposure", "adoption: exposure"),
    ("mensi_sim.dynamics.adoption", "contact_probability", "adoption: probability"),
    ("mensi_sim.dynamics.adoption", "bass_probability", "adoption: probability"),
    ("mensi_sim.dynamics.engagement", "engagement_target", "engagement"),
    ("mensi_sim.dynamics.engagement", "relax_engagement", "engagement"),
    ("mensi_sim.dynamics.engagement", "dropout_step", "engagement"),
    ("mensi_sim.dynamics.incentives", "incentive_effect", "engagement"),
    ("mensi_sim.model:MentoringModel", "_open_up", "opening up"),
    ("mensi_sim.model:MentoringModel", "_refresh_ties", "tie refresh (influence matrix)"),
    ("mensi_sim.model:MentoringModel", "_record", "metrics"),
    ("mensi_sim.metrics", "gini", "metrics: Gini (sort)"),
    ("mensi_sim.state:SchoolState", "cost_by_category", "metrics: cost totals"),
]
REST = "rest (array updates, clipping, Python overhead)"


def _resolve(target: str) -> Any:
    module, _, cls = target.partition(":")
    obj = importlib.import_module(module)
    return getattr(obj, cls) if cls else obj


class PhaseTimer:
    """Accumulates exclusive wall time per phase label."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self._stack: list[list[Any]] = []

    def wrap(self, label: str, fn: Callable) -> Callable:
        """``fn`` booking its exclusive time to ``label``."""

        @functools.wraps(fn)
        def timed(*args: Any, **kwargs: Any) -> Any:
            now = time.perf_counter()
            if self._stack:
                parent = self._stack[-1]
                self.seconds[parent[0]] += now - parent[1]
            self._stack.append([label, now])
            try:
                return fn(*args, **kwargs)
            finally:
                end = time.perf_counter()
                lab, start = self._stack.pop()
                self.seconds[lab] += end - start
                self.calls[lab] += 1
                if self._stack:
                    self._stack[-1][1] = end

        return timed

    def install(self, phases: list[tuple[str, str, str]]) -> None:
        """Wrap every listed function in place (for the rest of this process)."""
        for target, name, label in phases:
            owner = _resolve(target)
            raw = owner.__dict__.get(name) if isinstance(owner, type) else None
            if isinstance(raw, classmethod) or (
                isinstance(owner, type) and name not in owner.__dict__
            ):
                bound = getattr(owner, name)  # a classmethod, possibly inherited
                timed = self.wrap(label, bound)
                setattr(owner, name, classmethod(lambda cls, *a, _t=timed, **k: _t(*a, **k)))
            else:
                setattr(owner, name, self.wrap(label, getattr(owner, name)))

    def reset(self) -> None:
        """Forget what was booked."""
        self.seconds.clear()
        self.calls.clear()

    def breakdown(self, total: float) -> dict[str, float]:
        """Seconds per phase, plus the rest of ``total`` not in any phase, largest first."""
        out = dict(self.seconds)
        out[REST] = max(0.0, total - sum(out.values()))
        return dict(sorted(out.items(), key=lambda kv: -kv[1]))


def timed_phases(run: Callable[[], Any], timer: PhaseTimer) -> tuple[Any, dict[str, float]]:
    """Call ``run()`` and return its result and the time per phase during it."""
    timer.reset()
    start = time.perf_counter()
    result = run()
    return result, timer.breakdown(time.perf_counter() - start)
