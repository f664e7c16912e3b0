"""Rule 4, adoption: the adoption rules (a registry), abandonment, and the initial adopters.

Three rules are registered in ``mensi_sim.registry.ADOPTION_RULES``:

- ``contact`` (the default): influence through contact. A non-adopter adopts this week
  with probability ``1 - exp(-r(c) (p + exposure * E))``, where E is the summed strength
  of the meetings it had this week with schools that have adopted, and the readiness
  ``r(c) = 1 / (1 + exp(-slope (c - midpoint)))`` rises with its capacity. A tie that did
  not meet, or whose other school has not adopted, adds nothing: adding a tie between two
  non-adopters never lowers anyone's probability.
- ``bass``: the share-of-neighbours rule ``min(1, c^theta (p + q m))``, m the
  strength-weighted share of adopting neighbours over every open tie, met or not; it
  reduces to the discrete Bass map on a complete graph (docs/VALIDATION.md).
- ``threshold``: adopt when ``m >= phi`` and at least ``min_adopting_neighbours``
  neighbours have adopted (Granovetter / Watts, complex contagion).

Every rule draws two uniform numbers per school per step from its own stream (adoption,
abandonment), whatever the state, so arms of a comparison adopt on the same numbers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from mensi_sim.dynamics.contacts import met_ties
from mensi_sim.population import most_capable
from mensi_sim.registry import ADOPTION_RULES, AdoptionRule
from mensi_sim.scenario.schema import AdoptionParams
from mensi_sim.ties import TieTable

if TYPE_CHECKING:  # imported where used: the command line starts without scipy.sparse
    import scipy.sparse as sp


def influence_matrix(n: int, src: np.ndarray, dst: np.ndarray, weight: np.ndarray) -> sp.csr_matrix:
    """Symmetric n x n matrix of summed tie weights (several ties between two schools add up)."""
    keep = weight > 0
    rows = np.concatenate([src[keep], dst[keep]])
    cols = np.concatenate([dst[keep], src[keep]])
    vals = np.concatenate([weight[keep], weight[keep]])
    import scipy.sparse as sp

    return sp.csr_matrix((vals, (rows, cols)), shape=(n, n))


def adopting_neighbour_share(
    influence: sp.csr_matrix, adopted: np.ndarray, weighted_degree: np.ndarray | None = None
) -> np.ndarray:
    """m_i: the strength-weighted share of i's neighbours that have adopted (0 with no ties).

    ``weighted_degree`` (the row sums of ``influence``) may be passed when already known.
    """
    if weighted_degree is None:
        weighted_degree = np.asarray(influence.sum(axis=1)).ravel()
    pressure = influence @ adopted.astype(float)
    return np.divide(
        pressure, weighted_degree, out=np.zeros_like(pressure), where=weighted_degree > 0
    )


def adopting_neighbour_count(influence: sp.csr_matrix, adopted: np.ndarray) -> np.ndarray:
    """Number of distinct neighbours of each school that have adopted."""
    pattern = influence.copy()
    pattern.data[:] = 1.0
    return pattern @ adopted.astype(float)


def contact_exposure(ties: TieTable, met: np.ndarray, adopted: np.ndarray) -> np.ndarray:
    """E_i: summed strength of the ties of school i that met this week with an adopter
    (``met``: tie ids, or a bool mask per tie)."""
    n = adopted.size
    e = met_ties(met)
    u, v = ties.src[e], ties.dst[e]
    s = ties.strength[e]
    return np.bincount(u, weights=s * adopted[v], minlength=n) + np.bincount(
        v, weights=s * adopted[u], minlength=n
    )


def readiness(capacity: np.ndarray, midpoint: float, slope: float) -> np.ndarray:
    """``r(c) = 1 / (1 + exp(-slope (c - midpoint)))``: how ready a school is to adopt."""
    return 1.0 / (1.0 + np.exp(-slope * (capacity - midpoint)))


def contact_probability(
    capacity: np.ndarray, exposure: np.ndarray, params: AdoptionParams
) -> np.ndarray:
    """Probability a non-adopter adopts this week: ``1 - exp(-r(c) (p + exposure * E))``."""
    ready = readiness(capacity, params.readiness_midpoint, params.readiness_slope)
    return -np.expm1(-ready * (params.p + params.exposure * exposure))


def bass_probability(
    capacity: np.ndarray, share: np.ndarray, p: float, q: float, theta: float
) -> np.ndarray:
    """Probability a non-adopter adopts this step: ``min(1, c^theta * (p + q * m))``."""
    return np.minimum(1.0, capacity**theta * (p + q * share))


@dataclass
class AdoptionInputs:
    """What an adoption rule may read about the week; the neighbour matrix of the open ties
    and the shares and counts from it are computed on demand (the default contact rule
    needs none of them)."""

    adopted: np.ndarray
    capacity: np.ndarray
    threshold: np.ndarray
    exposure: np.ndarray  # contact_exposure of this week's meetings
    #: returns (influence, weighted_degree): the open ties' strengths as a symmetric
    #: matrix (``influence_matrix``) and its row sums
    neighbours: Callable[[], tuple[sp.csr_matrix, np.ndarray]] | None = None

    @cached_property
    def influence(self) -> sp.csr_matrix:
        """The open ties' strengths (``influence_matrix``)."""
        return self._neighbours[0]

    @cached_property
    def weighted_degree(self) -> np.ndarray:
        """Row sums of ``influence``."""
        return self._neighbours[1]

    @cached_property
    def _neighbours(self) -> tuple[sp.csr_matrix, np.ndarray]:
        if self.neighbours is None:
            raise ValueError("AdoptionInputs: no neighbours given (the rule needs the ties)")
        return self.neighbours()

    @cached_property
    def share(self) -> np.ndarray:
        """m: the strength-weighted share of adopting neighbours over open ties."""
        return adopting_neighbour_share(self.influence, self.adopted, self.weighted_degree)

    @cached_property
    def count(self) -> np.ndarray:
        """Number of adopting neighbours over open ties."""
        return adopting_neighbour_count(self.influence, self.adopted)


def _abandons(inputs: AdoptionInputs, params: AdoptionParams, u: np.ndarray) -> np.ndarray:
    """Adopters abandoning: with probability ``r (1 - c)`` (none when r = 0)."""
    if params.abandonment <= 0:
        return np.zeros(inputs.adopted.size, dtype=bool)
    return inputs.adopted & (u < params.abandonment * (1.0 - inputs.capacity))


def contact_rule(
    inputs: AdoptionInputs, params: AdoptionParams, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """``contact`` rule: adopt with ``1 - exp(-r(c) (p + exposure * E))``; abandon ``r (1 - c)``."""
    u_adopt, u_abandon = rng.random(inputs.adopted.size), rng.random(inputs.adopted.size)
    prob = contact_probability(inputs.capacity, inputs.exposure, params)
    return ~inputs.adopted & (u_adopt < prob), _abandons(inputs, params, u_abandon)


def bass_rule(
    inputs: AdoptionInputs, params: AdoptionParams, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """``bass`` rule: adopt with ``min(1, c^theta (p + q m))``; abandon ``r (1 - c)``."""
    u_adopt, u_abandon = rng.random(inputs.adopted.size), rng.random(inputs.adopted.size)
    prob = bass_probability(inputs.capacity, inputs.share, params.p, params.q, params.theta)
    return ~inputs.adopted & (u_adopt < prob), _abandons(inputs, params, u_abandon)


def threshold_rule(
    inputs: AdoptionInputs, params: AdoptionParams, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """``threshold`` rule: adopt when ``m >= phi`` and at least ``min_adopting_neighbours``
    neighbours have adopted; abandon ``r (1 - c)``."""
    rng.random(inputs.adopted.size)  # the adoption number, unused: keeps the stream aligned
    u_abandon = rng.random(inputs.adopted.size)
    enough = inputs.count >= params.min_adopting_neighbours
    adopts = ~inputs.adopted & (inputs.share >= inputs.threshold) & enough
    return adopts, _abandons(inputs, params, u_abandon)


ADOPTION_RULES.register(
    AdoptionRule(
        name="contact",
        step=contact_rule,
        description="exposure in meetings with adopters, capacity as readiness (default)",
    )
)
ADOPTION_RULES.register(
    AdoptionRule(name="bass", step=bass_rule, description="share of adopting neighbours (Bass map)")
)
ADOPTION_RULES.register(
    AdoptionRule(
        name="threshold",
        step=threshold_rule,
        description="adopting-neighbour share at least phi (Granovetter / Watts)",
    )
)


def draw_thresholds(n: int, params: AdoptionParams, rng: np.random.Generator) -> np.ndarray:
    """Each school's threshold phi in [0, 1].

    Fixed, uniform on phi +- spread, or normal(phi, spread), clipped to [0, 1].
    """
    phi, spread = params.threshold, params.threshold_spread
    if params.threshold_distribution == "uniform":
        values = rng.uniform(phi - spread, phi + spread, n)
    elif params.threshold_distribution == "normal":
        values = rng.normal(phi, spread, n)
    else:
        values = np.full(n, phi)
    return np.clip(values, 0.0, 1.0)


def initial_adopters(
    n: int,
    params: AdoptionParams,
    is_mentor: np.ndarray,
    capacity: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """Schools that have adopted at the start.

    none; a random share or count; the ``initial_share`` most capable schools by initial
    ``capacity`` (the same schools under every structure); the mentors (the one choice
    that depends on the structure); or listed ids. One permutation is drawn in every case
    (aligned streams).
    """
    adopted = np.zeros(n, dtype=bool)
    order = rng.permutation(n)
    k_share = int(round(params.initial_share * n))
    if params.initial == "share":
        adopted[order[:k_share]] = True
    elif params.initial == "most_capable":
        adopted[most_capable(capacity, k_share)] = True
    elif params.initial == "count":
        adopted[order[: params.initial_count]] = True
    elif params.initial == "mentors":
        adopted |= is_mentor
    elif params.initial == "ids":
        adopted[np.asarray(params.initial_ids, dtype=np.int64)] = True
    return adopted
