"""Rule 4, adoption: Bass-type or threshold adoption, and abandonment."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from mensi_sim.scenario.schema import AdoptionParams


def influence_matrix(n: int, src: np.ndarray, dst: np.ndarray, weight: np.ndarray) -> sp.csr_matrix:
    """Symmetric n x n matrix of summed tie weights (several ties between two schools add up)."""
    keep = weight > 0
    rows = np.concatenate([src[keep], dst[keep]])
    cols = np.concatenate([dst[keep], src[keep]])
    vals = np.concatenate([weight[keep], weight[keep]])
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


def bass_probability(
    capacity: np.ndarray, share: np.ndarray, p: float, q: float, theta: float
) -> np.ndarray:
    """Probability a non-adopter adopts this step: ``min(1, c^theta * (p + q * m))``."""
    return np.minimum(1.0, capacity**theta * (p + q * share))


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


def adoption_step(
    adopted: np.ndarray,
    capacity: np.ndarray,
    share: np.ndarray,
    count: np.ndarray | None,
    thresholds: np.ndarray,
    params: AdoptionParams,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """New adopters and abandoners this step, both read from the state at t.

    Bass rule: a non-adopter adopts with probability ``min(1, c^theta (p + q m))``.
    Threshold rule: a non-adopter adopts when ``m >= phi`` and it has at least
    ``min_adopting_neighbours`` adopting neighbours (count). An adopter abandons
    with probability ``r (1 - c)``. Two uniform numbers per school are drawn every step.
    """
    u_adopt = rng.random(adopted.size)
    u_abandon = rng.random(adopted.size)
    if params.rule == "bass":
        prob = bass_probability(capacity, share, params.p, params.q, params.theta)
        adopts = ~adopted & (u_adopt < prob)
    else:
        enough = count >= params.min_adopting_neighbours if count is not None else True
        adopts = ~adopted & (share >= thresholds) & enough
    abandons = adopted & (u_abandon < params.abandonment * (1.0 - capacity))
    return adopts, abandons


def initial_adopters(
    n: int,
    params: AdoptionParams,
    is_mentor: np.ndarray,
    latent_capacity: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """Schools that have adopted at the start.

    none; a random share or count; the ``initial_share`` most capable schools by
    ``latent_capacity`` (capacity as an ordinary school, identical under every
    structure); the mentors; or listed ids. One permutation is drawn in every case
    (aligned streams).
    """
    adopted = np.zeros(n, dtype=bool)
    order = rng.permutation(n)
    k_share = int(round(params.initial_share * n))
    if params.initial == "share":
        adopted[order[:k_share]] = True
    elif params.initial == "most_capable":
        adopted[np.argsort(-latent_capacity, kind="stable")[:k_share]] = True
    elif params.initial == "count":
        adopted[order[: params.initial_count]] = True
    elif params.initial == "mentors":
        adopted |= is_mentor
    elif params.initial == "ids":
        adopted[np.asarray(params.initial_ids, dtype=np.int64)] = True
    return adopted
