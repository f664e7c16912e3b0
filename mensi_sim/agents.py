"""`School`: a Mesa agent that is a thin view of one slot of the model's arrays.

Reading ``school.capacity`` reads ``model.state.capacity[school.index]``; assigning
writes it back. The dynamics never loop over agents: they work on the arrays.
The agents exist so that the Mesa ecosystem (AgentSet verbs, SolaraViz) sees schools.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import mesa

from mensi_sim.codes import ROLE_NAMES

if TYPE_CHECKING:
    from mensi_sim.model import MentoringModel


def _state_view(name: str, cast: type) -> property:
    """A property reading and writing ``model.state.<name>[self.index]``."""

    def get(self: School) -> Any:
        return cast(getattr(self.model.state, name)[self.index])

    def set_(self: School, value: Any) -> None:
        getattr(self.model.state, name)[self.index] = value

    return property(get, set_, doc=f"This school's entry of ``model.state.{name}``.")


def _population_view(name: str, cast: type) -> property:
    """A read-only property of ``model.population.<name>[self.index]``."""

    def get(self: School) -> Any:
        return cast(getattr(self.model.population, name)[self.index])

    return property(get, doc=f"This school's ``model.population.{name}`` (fixed).")


class School(mesa.Agent):
    """One school. ``index`` is its slot in the model's arrays (and its node id in the network)."""

    capacity = _state_view("capacity", float)
    adopted = _state_view("adopted", bool)
    engagement = _state_view("engagement", float)
    active = _state_view("active", bool)
    member = _state_view("member", bool)
    cluster = _state_view("cluster", int)
    region = _population_view("region", int)
    x = _population_view("x", float)
    y = _population_view("y", float)
    teachers = _population_view("teachers", float)
    disadvantaged = _population_view("disadvantaged", float)

    def __init__(self, model: MentoringModel, index: int) -> None:
        super().__init__(model)
        self.index = index

    @property
    def role(self) -> str:
        """``"mentor"``, ``"mentee"`` or ``"none"``."""
        return ROLE_NAMES[int(self.model.state.role[self.index])]

    @property
    def country(self) -> str:
        """Country code."""
        pop = self.model.population
        return pop.country_codes[int(pop.country[self.index])]

    def __repr__(self) -> str:
        return (
            f"School({self.index}, role={self.role}, capacity={self.capacity:.2f}, "
            f"adopted={self.adopted})"
        )
