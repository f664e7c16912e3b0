"""`VizModel`: a MentoringModel built from keyword parameters, for Mesa's SolaraViz.

SolaraViz re-creates the model with ``type(model)(**params)`` when the user presses
Reset, so the model must be built from plain keyword values (structure, incentive
scheme, learning rate ...) rather than from a Scenario. ``VizModel`` applies them to
a base scenario (a file, or the MenSI pilot) with ``Scenario.with_updates``. A value
that makes no valid scenario (say, too few schools for the structure) is not an
error in the app: the model falls back to the base scenario and says why in
``model.problem``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from pydantic import ValidationError

from mensi_sim.errors import MensiError
from mensi_sim.model import MentoringModel
from mensi_sim.scenario import Scenario, load_scenario
from mensi_sim.scenario.schema import WEEKS_PER_YEAR, policy_structures, research_graphs

ENV_SCENARIO = "MENSI_SIM_VIZ_SCENARIO"  # scenario file `mensi-sim viz SCENARIO` passes on
PILOT = "mensi_pilot"  # the shipped MenSI pilot (mensi_sim.shipped)
STRUCTURES = (*policy_structures(), *(g for g in research_graphs() if g != "file"))
# the incentive schemes of experiments/incentives.toml (amounts: the schema defaults)
INCENTIVES: dict[str, list[dict[str, Any]]] = {
    "none": [],
    "funding": [{"type": "funding", "target": "participants", "max_effect": 0.2}],
    "recognition": [{"type": "recognition", "target": "participants", "max_effect": 0.1}],
    "release_time": [{"type": "release_time", "target": "mentors", "max_effect": 0.3}],
    "adoption_reward": [{"type": "adoption_reward", "target": "participants", "max_effect": 0.2}],
}
FROM_FILE = "as in the scenario file"


def base_scenario(path: str | Path | None = None) -> Scenario:
    """The scenario the app starts from: ``path``, else the shipped MenSI pilot."""
    return load_scenario(path or PILOT)


def incentive_of(scenario: Scenario) -> str:
    """The app's name for the scenario's incentives (``FROM_FILE`` when it has its own)."""
    if not scenario.incentives:
        return "none"
    dumped = [i.model_dump(exclude_defaults=True) for i in scenario.incentives]
    for name, schemes in INCENTIVES.items():
        if dumped == schemes:
            return name
    return FROM_FILE


def viz_scenario(
    base: Scenario,
    *,
    structure: str,
    incentive: str,
    learning_rate: float,
    exposure: float,
    p_per_year: float,
    n_schools: int,
    weeks: int,
) -> Scenario:
    """The base scenario with the app's controls applied (validated).

    Raises:
        ValidationError, KeyError: A value outside the schema's range.
    """
    updates: dict[str, Any] = {
        "network.structure": structure,
        "learning.rate": float(learning_rate),
        "adoption.exposure": float(exposure),
        "adoption.p": float(p_per_year) / WEEKS_PER_YEAR,
        "population.n_schools": int(n_schools),
        "time.steps": int(weeks),
    }
    if incentive != FROM_FILE:
        updates["incentives"] = INCENTIVES[incentive]
    sc = base.with_updates(updates)
    return sc.model_copy(update={"name": f"{structure} / {incentive}"})


class VizModel(MentoringModel):
    """A ``MentoringModel`` whose parameters are the app's controls.

    Args:
        structure: Cluster structure (``network.structure``).
        incentive: Incentive scheme: a key of ``INCENTIVES`` or ``FROM_FILE``.
        learning_rate: Learning rate lambda per meeting (``learning.rate``).
        exposure: Adoption hazard per meeting with an adopter (``adoption.exposure``).
        p_per_year: Innovation coefficient per year (``adoption.p`` x 52).
        n_schools: Number of schools.
        weeks: Weeks to run; the model stops (``running = False``) after them.
        seed: Root seed of the run.
        scenario_path: Base scenario file (default: the MenSI pilot).
        colour_by: How the network picture colours schools: capacity or adoption.
    """

    def __init__(
        self,
        structure: str = "top_down",
        incentive: str = "none",
        learning_rate: float = 0.541,
        exposure: float = 0.1,
        p_per_year: float = 0.03,
        n_schools: int = 120,
        weeks: int = 156,
        seed: int = 42,
        scenario_path: str | None = None,
        colour_by: str = "capacity",
    ) -> None:
        from mensi_sim.seeds import replicate_seed, run_streams
        from mensi_sim.world import build_world

        base = base_scenario(scenario_path)
        # the controls this model was built from (the app compares them with the sidebar's)
        self.controls: dict[str, Any] = {
            "structure": structure,
            "incentive": incentive,
            "learning_rate": learning_rate,
            "exposure": exposure,
            "p_per_year": p_per_year,
            "n_schools": n_schools,
            "weeks": weeks,
            "seed": seed,
            "scenario_path": scenario_path,
        }
        self.problem = ""
        try:
            sc = viz_scenario(
                base,
                structure=structure,
                incentive=incentive,
                learning_rate=learning_rate,
                exposure=exposure,
                p_per_year=p_per_year,
                n_schools=n_schools,
                weeks=weeks,
            )
            streams = run_streams(replicate_seed(int(seed), 0))
            build_world(sc, streams.population, streams.network)  # fails fast, ms
        except (ValidationError, KeyError, MensiError) as exc:
            reason = " ".join(str(exc).split())[:300]
            self.problem = f"Cannot build that scenario ({reason}); showing {base.name} instead."
            sc = base
        # replicate 0 of the root seed, as `mensi-sim run --seed` runs it: the same schools
        super().__init__(sc, rng=replicate_seed(int(seed), 0))
        self.colour_by = colour_by if colour_by in ("capacity", "adoption") else "capacity"
        self._drawn: tuple[int, np.ndarray] | None = None
        self.running = self.week < sc.time.steps

    def step(self) -> None:
        """One week; stops the app's play loop after ``time.steps`` weeks."""
        super().step()
        self.running = self.week < self.spec.time.steps

    def drawn_ties(self) -> np.ndarray:
        """Indices of the ties the network picture draws (a fixed sample of the weak ones),
        computed once and again only when ties are added."""
        from mensi_sim.plotting.network import tie_sample

        if self._drawn is None or self._drawn[0] != self.tie_kind.size:
            self._drawn = (self.tie_kind.size, tie_sample(self.tie_kind))
        return self._drawn[1]

    def status(self) -> str:
        """One line: week, adoption, capacity, cost so far."""
        st = self.state
        adopted = int(st.adopted.sum())
        cost = float(st.cost.sum())
        return (
            f"Week {self.week} of {self.spec.time.steps}: {adopted} of {st.n:,} schools have "
            f"adopted ({100 * adopted / max(st.n, 1):.1f}%), mean capacity "
            f"{st.capacity.mean():.3f}, cost so far €{cost:,.0f}"
        )
