"""Degenerate configurations in which the simulator must reduce to textbook diffusion models."""

from __future__ import annotations

from typing import Any

import numpy as np

from mensi_sim.scenario import Scenario


def pure_diffusion(n: int, steps: int, structure: str = "complete", **adoption: Any) -> Scenario:
    """A scenario with mentoring, training, engagement and capacity effects switched off.

    Only rule 4 acts, with the share-of-neighbours rule (``rule = "bass"`` unless set):
    no learning, no courses, engagement fixed at 1, theta = 0 (capacity irrelevant), no
    advanced schools (one capacity distribution), no proximity ties, no meetings, all
    term weeks irrelevant. Extra keyword arguments set adoption parameters; ``network``
    ones go through ``adoption["network"]``.
    """
    network = {"structure": structure, "proximity": False, **adoption.pop("network", {})}
    population = {
        "n_schools": n,
        "countries": ["X"],
        "regions_per_country": 1,
        "advanced_share": 0.0,
        **adoption.pop("population", {}),
    }
    zero_rates = {
        f"rate_{k}": 0.0 for k in ("in_person", "online", "peer", "community", "proximity")
    }
    return Scenario.model_validate(
        {
            "name": f"pure_{structure}",
            "time": {"steps": steps},
            "population": population,
            "network": network,
            "contacts": zero_rates,
            "learning": {"enabled": False},
            "engagement": {"enabled": False},
            "adoption": {"rule": "bass", "theta": 0.0, "initial": "none", **adoption},
        }
    )


def bass_map(p: float, q: float, steps: int, f0: float = 0.0) -> np.ndarray:
    """Discrete Bass map ``F(t+1) = F(t) + (1 - F(t)) min(1, p + q F(t))``, t = 0..steps."""
    f = np.empty(steps + 1)
    f[0] = f0
    for t in range(steps):
        f[t + 1] = f[t] + (1 - f[t]) * min(1.0, p + q * f[t])
    return f


def sis_level(p: float, q: float, delta: float) -> float:
    """Mean-field endemic share I* of a synchronous SIS process on a complete graph.

    Solves ``(1 - I)(p + q I) = delta I``: q I^2 + (delta + p - q) I - p = 0, the root in [0, 1].
    With p = 0 it is ``max(0, 1 - delta / q)``.
    """
    a, b, c = q, delta + p - q, -p
    if a == 0:
        return p / (p + delta) if p + delta > 0 else 0.0
    root = (-b + np.sqrt(b * b - 4 * a * c)) / (2 * a)
    return float(min(max(root, 0.0), 1.0))


# ---------------------------------------------------------------------------
# threshold cascades on random graphs (Watts 2002; Gleeson & Cahalane 2007)
# ---------------------------------------------------------------------------


def binomial_degrees(n: int, p: float, k_max: int | None = None) -> np.ndarray:
    """Degree distribution p_k of G(n, p): Binomial(n - 1, p), k = 0..k_max (the tail beyond
    k_max, below 1e-12 by default, is dropped)."""
    from scipy.stats import binom

    if k_max is None:
        k_max = int(binom.isf(1e-12, n - 1, p)) + 1
    return binom.pmf(np.arange(k_max + 1), n - 1, p)


def threshold_response(k: int, phi: float, min_count: int = 1) -> np.ndarray:
    """F(m / k) for m = 0..k: 1 when ``m / k >= phi`` and ``m >= min_count``, else 0.

    The simulator's threshold rule (rule 4) exactly: it compares the adopting share of
    neighbours, computed as ``m / k`` in floating point, with phi, and needs at least
    ``min_adopting_neighbours`` adopting neighbours; a school with no ties never adopts
    when ``min_count >= 1``.
    """
    m = np.arange(k + 1)
    if k == 0:
        return (m >= min_count).astype(float) * (phi <= 0)
    return ((m / k >= phi) & (m >= min_count)).astype(float)


def cascade_size(
    pk: np.ndarray,
    phi: float,
    rho0: float,
    min_count: int = 1,
    tol: float = 1e-14,
    max_iter: int = 100_000,
) -> float:
    """Expected final adopting share of the threshold model on a tree-like random graph.

    Gleeson & Cahalane (2007), Phys. Rev. E 75, 056103, eqs. (1)-(2), for a random seed
    share rho0 and response F (``threshold_response``), with z the mean degree:

        q_{n+1} = rho0 + (1 - rho0) sum_k (k / z) p_k sum_{m=0}^{k-1} C(k-1, m)
                  q_n^m (1 - q_n)^{k-1-m} F(m / k),          q_0 = rho0
        rho     = rho0 + (1 - rho0) sum_k p_k sum_{m=0}^{k} C(k, m) q^m (1 - q)^{k-m} F(m / k)

    q is the probability that a neighbour reached along a random edge has adopted,
    iterated to its fixed point (the first one reached from q_0 = rho0: the cascade
    that spreads from the seeds).
    """
    from scipy.stats import binom

    ks = np.arange(pk.size)
    z = float((ks * pk).sum())
    if z == 0:
        return rho0 + (1 - rho0) * float(pk[0] * threshold_response(0, phi, min_count)[0])
    responses = [threshold_response(int(k), phi, min_count) for k in ks]

    def edge_sum(q: float) -> float:
        total = 0.0
        for k in ks[1:]:
            if pk[k] == 0:
                continue
            m = np.arange(k)  # adopting neighbours among the other k - 1
            total += k / z * pk[k] * float((binom.pmf(m, k - 1, q) * responses[k][:k]).sum())
        return total

    q = rho0
    for _ in range(max_iter):
        q_next = rho0 + (1 - rho0) * edge_sum(q)
        if abs(q_next - q) < tol:
            q = q_next
            break
        q = q_next
    node = sum(pk[k] * float((binom.pmf(np.arange(k + 1), k, q) * responses[k]).sum()) for k in ks)
    return float(rho0 + (1 - rho0) * node)


# ---------------------------------------------------------------------------
# complex contagion on a ring lattice (Centola & Macy 2007)
# ---------------------------------------------------------------------------


def ring_spreading_time(n: int, degree: int, seeds: int, min_adopting: int) -> int:
    """Exact number of steps until every school of a ring lattice has adopted.

    Deterministic threshold rule "adopt when at least ``a = min_adopting`` neighbours
    have adopted" on a ring of n schools, each tied to its k = degree / 2 nearest
    schools on each side, seeded with ``s = seeds >= a`` adjacent adopters.

    Derivation. A school at distance d from the end of a block of at least a adopters
    has ``min(s, k + 1 - d)`` adopting neighbours in it, so it adopts iff d <= k + 1 - a:
    each step the block grows by ``v = k + 1 - a`` schools on each side (v = 1 for
    z = 4, a = 2). When the gap g between the two ends of the block (one block on a
    ring) is small, a school in it counts neighbours on both sides: if both ends are
    within reach (its distances d1 + d2 = g + 1 are both <= k) it has
    ``2k + 1 - g`` adopting neighbours, and otherwise the nearer end alone gives at
    least a once g <= 2k + 1 - a. So a gap ``g <= G = 2v + a - 1`` closes in one step,
    and a larger one shrinks by exactly 2v (its middle schools reach at most a - 1
    adopters on one side and none on the other). From g_0 = n - s:

        T = max(1, ceil((n - s - (a - 1)) / (2 v))),   v = degree / 2 - a + 1.

    For simple contagion (a = 1) this is ``ceil((n - s) / (2 v))``. For a >= 2 the
    last step fills a gap of up to 2v + a - 1 schools, so ``ceil((n - s) / (2 v))``
    (without the a - 1) overstates T by one step when (n - s) mod 2v is in 1..a - 1
    (e.g. n - s odd for z = 4, a = 2). Requires 1 <= a <= k, s >= a and n - s >= 1.
    """
    k = degree // 2
    a = min_adopting
    if not (degree % 2 == 0 and 1 <= a <= k and seeds >= a and n - seeds >= 1):
        raise ValueError("need an even degree, 1 <= a <= degree / 2, seeds >= a, n > seeds")
    v = k + 1 - a
    return max(1, -(-(n - seeds - (a - 1)) // (2 * v)))


def ring_adopters_after(n: int, degree: int, seeds: int, min_adopting: int, t: int) -> int:
    """Adopters on the ring lattice after t steps: ``min(n, s + 2 v t)`` before the last step."""
    v = degree // 2 + 1 - min_adopting
    return n if t >= ring_spreading_time(n, degree, seeds, min_adopting) else seeds + 2 * v * t


# ---------------------------------------------------------------------------
# capacity learning in one mentoring cluster
# ---------------------------------------------------------------------------


def pure_learning(
    mentees: int,
    steps: int,
    *,
    rate: float,
    meeting_rate: float,
    strength: float = 1.0,
    gamma: float = 0.0,
) -> Scenario:
    """One mentor and ``mentees`` mentees, nothing but rule 2 acting on capacity.

    top_down on one region of ``mentees + 1`` schools (the most capable school mentors
    all the others); no peer, community or proximity ties; every week a term week
    (term_weeks = 52); engagement off (e = 1), absorption 1 (disadvantaged_absorption
    0), no reciprocity (the mentor's capacity stays fixed), no drift, no courses; every
    school has 25 teachers (teachers_sigma 0), so each sends 2 delegates and its staff
    reach is 1. One school is advanced (advanced_share = 1 / n) and initial capacities
    have sd 0.01, so the mentor (mean 0.75) is the more capable side of every tie (the
    others' mean is 0.40). The programme runs for the whole run.
    """
    return Scenario.model_validate(
        {
            "name": "pure_learning",
            "time": {"steps": steps, "term_weeks": 52},
            "population": {
                "n_schools": mentees + 1,
                "countries": ["X"],
                "regions_per_country": 1,
                "capacity_sd": 0.01,
                "advanced_share": 1 / (mentees + 1),
                "teachers_median": 25.0,
                "teachers_sigma": 0.0,
            },
            "programme": {"end_week": steps + 1},
            "network": {
                "structure": "top_down",
                "mentors_per_region": 1,
                "mentees_per_mentor": mentees,
                "peer_ties": False,
                "proximity": False,
                "community": False,
            },
            "contacts": {"rate_in_person": meeting_rate, "strength_in_person": strength},
            "learning": {
                "rate": rate,
                "gamma": gamma,
                "reciprocity": 0.0,
                "drift": 0.0,
                "disadvantaged_absorption": 0.0,
            },
            "engagement": {"enabled": False},
            "adoption": {"initial": "none"},
        }
    )


def gap_moments(
    g0: float, meeting_rate: float, a: float, t: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Mean and variance of a mentee's gap after t weeks when each week's meeting (with
    probability r) closes the share a of it: g_t = g_0 (1 - a)^M_t, M_t ~ Binomial(t, r).

        E[g_t]   = g_0 (1 - r a)^t
        E[g_t^2] = g_0^2 (1 - r + r (1 - a)^2)^t
    """
    t = np.asarray(t, dtype=float)
    mean = g0 * (1 - meeting_rate * a) ** t
    second = g0**2 * (1 - meeting_rate + meeting_rate * (1 - a) ** 2) ** t
    return mean, second - mean**2


# ---------------------------------------------------------------------------
# tolerances
# ---------------------------------------------------------------------------

#: two-sided false-alarm probability of one statistical assertion
ALPHA = 1e-4


def mean_tolerance(samples: np.ndarray, alpha: float = ALPHA) -> float:
    """Half-width of the (1 - alpha) t-interval of the mean of R independent replicates:
    ``t_{R-1, 1-alpha/2} * s / sqrt(R)``, s the sample sd. A correct simulator run with
    fresh seeds fails the assertion ``|mean - expected| <= this`` with probability alpha."""
    from scipy.stats import t

    x = np.asarray(samples, dtype=float)
    r = x.size
    return float(t.isf(alpha / 2, r - 1) * x.std(ddof=1) / np.sqrt(r))
