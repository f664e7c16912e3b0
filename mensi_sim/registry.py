"""Registries: network structures, adoption rules and incentive types, each chosen by name.

A registry maps a name to one entry that carries *everything* about the thing named
(Starsim's ``Module.create`` by name): a structure's builder, whether it is a programme,
its participation default, its tie modes and its coordination cost; an adoption rule's
step function; an incentive type's payment rule. The scenario schema accepts exactly the
registered names, so adding a structure, a rule or an incentive type is one new function
and one ``register`` call, and a forgotten field is an error at registration, never a
silent default.

This module is the lowest floor: it imports nothing of mensi_sim. The built-in entries
are registered by the floors that define them (``mensi_sim.networks`` for structures,
``mensi_sim.dynamics.adoption`` and ``mensi_sim.dynamics.incentives`` for rules and
incentive types); importing ``mensi_sim`` imports them all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields
from typing import Any, Literal


class Registry[Entry]:
    """Named entries of one kind, in registration order."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, Entry] = {}

    def register(self, entry: Entry, *, replace: bool = False) -> Entry:
        """Add ``entry`` under ``entry.name``; re-registering a name needs ``replace=True``."""
        name = getattr(entry, "name", None)
        if not isinstance(name, str) or not name:
            raise ValueError(f"{self.kind}: an entry needs a non-empty name")
        if name in self._entries and not replace:
            raise ValueError(f"{self.kind} {name!r} is already registered")
        for f in fields(entry):  # type: ignore[arg-type]
            if getattr(entry, f.name) is MISSING:
                raise ValueError(f"{self.kind} {name!r}: field {f.name!r} is not set")
        self._entries[name] = entry
        return entry

    def unregister(self, name: str) -> None:
        """Remove an entry (tests that register a toy entry clean up with this)."""
        self._entries.pop(name, None)

    def get(self, name: str) -> Entry:
        """The entry of ``name``; KeyError naming the registered ones."""
        try:
            return self._entries[name]
        except KeyError:
            raise KeyError(
                f"unknown {self.kind} {name!r} (use {', '.join(self._entries)})"
            ) from None

    def names(self) -> tuple[str, ...]:
        """Registered names, in registration order."""
        return tuple(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[Entry]:
        return iter(self._entries.values())


#: marks a field an entry must set (dataclass defaults would let it be forgotten)
MISSING: Any = object()

Participation = Literal["voluntary", "compulsory"]


@dataclass(frozen=True)
class Structure:
    """Everything about one value of ``network.structure``.

    Attributes:
        name: The name scenarios use.
        family: ``"policy"`` (a way to organise mentoring, or ``none``) or ``"research"``
            (a graph for validation and research: the ties are the network under study).
        builder: ``(population, net, contacts, community, rng) -> networkx.Graph`` or a
            ``SchoolNetwork`` (see ``mensi_sim.networks``).
        programme: Whether its mentoring, peer and community ties are a funded programme
            (they stop at ``programme.end_week``) rather than a network under study.
        participation: ``"voluntary"`` or ``"compulsory"`` (engagement's default).
        community: Whether an online community of practice is on by default.
        modes: The tie modes it creates (documentation and checks), e.g. ``("in_person",)``.
        coordination: The ``costs`` field with its coordination price per cluster-year,
            a pair of fields ``(in person, online)`` when each cluster is priced by its
            mode, or ``None`` for a structure that has no paid coordination (said explicitly).
        description: One line for the documentation.
    """

    name: str = MISSING
    family: Literal["policy", "research"] = MISSING
    builder: Callable[..., Any] = MISSING
    programme: bool = MISSING
    participation: Participation = MISSING
    community: bool = MISSING
    modes: tuple[str, ...] = MISSING
    coordination: str | tuple[str, str] | None = MISSING
    description: str = MISSING


@dataclass(frozen=True)
class AdoptionRule:
    """One value of ``adoption.rule``: ``step(inputs, params, rng) -> (adopts, abandons)``.

    ``inputs`` is a ``mensi_sim.dynamics.adoption.AdoptionInputs``; the rule reads what it
    needs from it (the meetings' exposure, or the neighbour shares) and draws only from
    ``rng``, its own stream.
    """

    name: str = MISSING
    step: Callable[..., Any] = MISSING
    description: str = MISSING


@dataclass(frozen=True)
class IncentiveType:
    """One value of an incentive scheme's ``type``.

    Attributes:
        name: The name scenario files use.
        pay: ``(scheme, week, reached, new_adopters, teachers) -> EUR per school`` this week.
        default_amount: EUR when the scheme gives no ``amount`` (also the default
            ``half_effect_amount`` of its effect curve).
        description: What the amount is (per school-year, once, per adoption).
    """

    name: str = MISSING
    pay: Callable[..., Any] = MISSING
    default_amount: float = MISSING
    description: str = MISSING


STRUCTURES: Registry[Structure] = Registry("structure")


def structure_names(family: str | None = None) -> tuple[str, ...]:
    """Registered structure names, all or those of one family (``"policy"``, ``"research"``)."""
    return tuple(s.name for s in STRUCTURES if family is None or s.family == family)


ADOPTION_RULES: Registry[AdoptionRule] = Registry("adoption rule")
INCENTIVE_TYPES: Registry[IncentiveType] = Registry("incentive type")
