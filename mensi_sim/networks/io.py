"""Loading a real school network from a file (``network.structure = "file"``).

Formats, chosen by the file's suffix:

- ``.graphml`` — GraphML (nodes may carry school attributes, edges tie attributes);
- ``.gexf`` — GEXF, likewise;
- ``.csv`` — an edge list with columns ``source`` and ``target`` and optional
  ``strength``, ``kind`` and ``mode``; school attributes, and schools without
  ties, may come from a sibling file ``<stem>.nodes.csv`` with a column ``id``.

Recognised school attributes: ``country``, ``region``, ``x``, ``y`` (km),
``teachers``, ``disadvantaged``, ``capacity`` (also ``role`` and ``cluster``,
which go to the graph). Missing tie attributes get defaults: kind ``peer``, mode
``in_person``, strength ``default_strength`` (the scenario's
``network.graph_strength``). Self-loops are dropped. Repeated ties between the
same pair collapse into one (the last one read counts); directed files are read
as undirected.

Node ids of any type become school ids ``0 .. n-1``: in ascending numeric order
when every id is an integer (so a file numbered 0..n-1 keeps its numbering),
otherwise in order of first appearance (the node list or nodes file first, then
the ties). The original id is kept as the node attribute ``label``.

Every problem is a :class:`~mensi_sim.errors.NetworkError` with a one-line
message naming the file.
"""

from __future__ import annotations

import dataclasses
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from mensi_sim.codes import KIND_NAMES, MODE_NAMES, ROLE_NAMES
from mensi_sim.errors import NetworkError
from mensi_sim.files import exists, os_reason, path_problem
from mensi_sim.population import Population

if TYPE_CHECKING:
    import networkx as nx

#: school attributes read from a graph file (role and cluster go to the graph itself)
NODE_COLUMNS = (
    "country",
    "region",
    "x",
    "y",
    "teachers",
    "disadvantaged",
    "capacity",
    "role",
    "cluster",
)
_NUMERIC_COLUMNS = ("x", "y", "teachers", "disadvantaged", "capacity", "cluster")
_LABEL_COLUMNS = ("country", "region")
_INTEGER_ID = re.compile(r"[+-]?\d+")
#: largest cluster id a file may give (cluster ids are stored as 32-bit integers)
MAX_ID = 2**31 - 1


def _fail(path: Path, reason: object) -> NetworkError:
    """A one-line NetworkError naming the file."""
    text = str(reason).strip().splitlines()
    return NetworkError(f"network.file: {path}: {text[0] if text else type(reason).__name__}")


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA


# ---------------------------------------------------------------------------
# readers: each returns (node labels, node attribute dicts, ties as (u, v, attrs))
# ---------------------------------------------------------------------------

Raw = tuple[list[str], dict[str, dict], list[tuple[str, str, dict]]]


def _check_unique_xml_ids(path: Path, fmt: str) -> None:
    """NetworkError if two ``node`` elements of an XML graph file share an id."""
    seen: set[str] = set()
    try:
        for _, element in ET.iterparse(path, events=("end",)):
            if element.tag.rsplit("}", 1)[-1] == "node":
                node_id = element.get("id")
                if node_id in seen:
                    raise _fail(path, f"duplicate node id {node_id!r} in {fmt}")
                seen.add(node_id)
                element.clear()
    except ET.ParseError as err:
        raise _fail(path, f"cannot read {fmt}: {err}") from None
    except (LookupError, UnicodeError, ValueError) as err:  # e.g. encoding="klingon"
        raise _fail(path, f"cannot read {fmt}: {err}") from None
    except OSError as err:
        raise _fail(path, f"cannot read {fmt}: {os_reason(err)}") from None


def _from_networkx(graph: nx.Graph) -> Raw:
    labels = [str(node) for node in graph.nodes]
    attrs = {str(node): dict(data) for node, data in graph.nodes(data=True)}
    ties = [(str(u), str(v), dict(data)) for u, v, data in graph.edges(data=True)]
    return labels, attrs, ties


def _read_xml(path: Path, fmt: str) -> Raw:
    _check_unique_xml_ids(path, fmt)
    import networkx as nx  # imported where used: the command line starts without it

    reader = nx.read_graphml if fmt == "GraphML" else nx.read_gexf
    try:
        graph = reader(path)
    except Exception as err:  # networkx raises many types for malformed files
        raise _fail(path, f"cannot read {fmt}: {err}") from None
    return _from_networkx(graph)


def _read_table(path: Path, key_columns: tuple[str, ...]) -> pd.DataFrame:
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    except Exception as err:
        raise _fail(path, f"cannot read CSV: {err}") from None
    table.columns = [str(c).strip() for c in table.columns]
    missing = [c for c in key_columns if c not in table.columns]
    if missing:
        raise _fail(path, f"CSV needs column(s) {', '.join(missing)}")
    for column in key_columns:
        empty = table[column].isna()
        if empty.any():
            row = int(np.flatnonzero(empty.to_numpy())[0]) + 2  # header is line 1
            raise _fail(path, f"line {row} has no {column}")
        table[column] = table[column].str.strip()
    return table


def nodes_file(path: Path) -> Path:
    """The sibling node-attribute file of an edge-list CSV: ``<stem>.nodes.csv``."""
    return path.with_name(f"{path.stem}.nodes.csv")


def _read_csv(path: Path) -> Raw:
    edges = _read_table(path, ("source", "target"))
    labels: list[str] = []
    attrs: dict[str, dict] = {}
    node_path = nodes_file(path)
    if exists(node_path):
        problem = path_problem(node_path)
        if problem is not None:
            raise _fail(node_path, problem)
        nodes = _read_table(node_path, ("id",))
        duplicated = nodes["id"].duplicated()
        if duplicated.any():
            raise _fail(node_path, f"duplicate node id {nodes['id'][duplicated].iloc[0]!r}")
        columns = [c for c in nodes.columns if c in NODE_COLUMNS]
        labels = nodes["id"].tolist()
        records = nodes[columns].to_dict("records")
        attrs = {
            label: {k: v for k, v in rec.items() if not _missing(v)}
            for label, rec in zip(labels, records, strict=True)
        }
    tie_columns = [c for c in ("kind", "mode", "strength") if c in edges.columns]
    records = edges[tie_columns].to_dict("records")
    ties = [
        (u, v, {k: val for k, val in rec.items() if not _missing(val)})
        for u, v, rec in zip(
            edges["source"].tolist(), edges["target"].tolist(), records, strict=True
        )
    ]
    return labels, attrs, ties


# ---------------------------------------------------------------------------
# from raw to a school graph
# ---------------------------------------------------------------------------


def _school_ids(labels: list[str]) -> dict[str, int]:
    """Map labels to 0..n-1: numeric order if all are distinct integers, else as given."""
    if labels and all(_INTEGER_ID.fullmatch(label) for label in labels):
        values = [int(label) for label in labels]
        if len(set(values)) == len(values):
            order = np.argsort(values, kind="stable")
            return {labels[i]: rank for rank, i in enumerate(order.tolist())}
    return {label: i for i, label in enumerate(labels)}


def _tie_attrs(path: Path, data: dict, default_strength: float) -> dict:
    kind = "peer" if _missing(data.get("kind")) else str(data["kind"]).strip()
    mode = "in_person" if _missing(data.get("mode")) else str(data["mode"]).strip()
    if kind not in KIND_NAMES:
        raise _fail(path, f"unknown tie kind {kind!r} (use {', '.join(KIND_NAMES)})")
    if mode not in MODE_NAMES:
        raise _fail(path, f"unknown tie mode {mode!r} (use {', '.join(MODE_NAMES)})")
    raw = data.get("strength")
    if _missing(raw) or (isinstance(raw, str) and not raw.strip()):
        strength = default_strength
    else:
        try:
            strength = float(raw)
        except (TypeError, ValueError):
            raise _fail(path, f"tie strength {raw!r} is not a number") from None
        if np.isnan(strength):
            strength = default_strength
        elif not 0.0 <= strength <= 1.0:
            raise _fail(path, f"tie strength {strength} outside 0 <= strength <= 1")
    return {"kind": kind, "mode": mode, "strength": strength}


def _node_table(path: Path, labels: list[str], attrs: dict[str, dict]) -> pd.DataFrame | None:
    """School attributes by school id (rows in id order), validated; None if there are none."""
    table = pd.DataFrame.from_records(
        [{k: v for k, v in attrs.get(label, {}).items() if k in NODE_COLUMNS} for label in labels]
    )
    columns = [c for c in NODE_COLUMNS if c in table.columns]
    if not columns:
        return None
    table = table[columns]
    for column in _NUMERIC_COLUMNS:
        if column in table:
            values = pd.to_numeric(table[column], errors="coerce")
            bad = values.isna() & table[column].notna()
            if bad.any():
                raise _fail(
                    path,
                    f"node attribute {column!r}: {table[column][bad].iloc[0]!r} is not a number",
                )
            table[column] = values.astype(float)
            infinite = table[column].notna() & ~np.isfinite(table[column])
            if infinite.any():
                first = table[column][infinite].iloc[0]
                raise _fail(path, f"node attribute {column!r}: {first} is not finite")
    for column in _LABEL_COLUMNS:
        if column in table:
            missing = int(table[column].isna().sum())
            if missing:
                raise _fail(
                    path,
                    f"node attribute {column!r} is missing for {missing} of {len(table)} schools",
                )
            table[column] = table[column].astype(str).str.strip()
    checks = {
        "teachers": (lambda v: v > 0, "> 0"),
        "disadvantaged": (lambda v: (v >= 0) & (v <= 1), "in [0, 1]"),
        "capacity": (lambda v: (v >= 0) & (v <= 1), "in [0, 1]"),
    }
    for column, (ok, rule) in checks.items():
        if column in table:
            values = table[column]
            bad = values.notna() & ~ok(values)
            if bad.any():
                first = values[bad].iloc[0]
                raise _fail(path, f"node attribute {column!r}: {first} must be {rule}")
    if "cluster" in table:
        cluster = table["cluster"]
        whole = (cluster == np.round(cluster)) & (cluster >= -1) & (cluster <= MAX_ID)
        bad = cluster.notna() & ~whole
        if bad.any():
            raise _fail(
                path,
                f"node attribute 'cluster': {cluster[bad].iloc[0]:g} is not a cluster id "
                f"(a whole number from -1, no cluster, to {MAX_ID:,})",
            )
    if "role" in table:
        role = table["role"].where(table["role"].notna(), "none").astype(str).str.strip()
        unknown = ~role.isin(ROLE_NAMES)
        if unknown.any():
            raise _fail(
                path, f"unknown role {role[unknown].iloc[0]!r} (use {', '.join(ROLE_NAMES)})"
            )
        table["role"] = role
    return table


def load_graph_file(
    path: str | Path, n_expected: int | None = None, default_strength: float = 1.0
) -> tuple[nx.Graph, pd.DataFrame | None]:
    """Read a school network from GraphML, GEXF or an edge-list CSV.

    Args:
        path: the file; the suffix (.graphml, .gexf, .csv) picks the format.
        n_expected: if given, the number of schools the file must have.
        default_strength: strength of ties that have none in the file.

    Returns:
        ``(graph, node_table)``: the graph on schools ``0 .. n-1`` with node
        attributes ``role``, ``cluster`` and ``label`` (the id in the file) and
        edge attributes ``kind``, ``mode``, ``strength``; and the school
        attributes found in the file, one row per school id (NaN where a
        school has no value), or None if the file has none.

    Raises:
        NetworkError: missing or unreadable file, unknown format, duplicate node
            ids, unknown kind, mode or role, strength outside [0, 1], a graph
            without nodes, or a node count other than ``n_expected``.
    """
    path = Path(path)
    problem = path_problem(path)
    if problem is not None:
        raise _fail(path, "no such file" if problem == "file not found" else problem)
    suffix = path.suffix.lower()
    if suffix == ".graphml":
        labels, attrs, ties = _read_xml(path, "GraphML")
    elif suffix == ".gexf":
        labels, attrs, ties = _read_xml(path, "GEXF")
    elif suffix == ".csv":
        labels, attrs, ties = _read_csv(path)
    else:
        fmt = suffix or "(no suffix)"
        raise _fail(path, f"unknown format {fmt!r}; use .graphml, .gexf or .csv")
    known = set(labels)
    for u, v, _ in ties:  # schools that appear only in ties, in order of first appearance
        for label in (u, v):
            if label not in known:
                known.add(label)
                labels.append(label)
    if not labels:
        raise _fail(path, "the network has no schools (nodes)")
    n = len(labels)
    if n_expected is not None and n != n_expected:
        raise _fail(path, f"has {n} schools but population.n_schools is {n_expected}")
    ids = _school_ids(labels)
    ordered = sorted(labels, key=ids.__getitem__)
    table = _node_table(path, ordered, attrs)
    import networkx as nx  # imported where used: the command line starts without it

    graph = nx.Graph()
    role = table["role"].tolist() if table is not None and "role" in table else ["none"] * n
    cluster = (
        table["cluster"].fillna(-1).astype(int).tolist()
        if table is not None and "cluster" in table
        else [-1] * n
    )
    graph.add_nodes_from(
        (i, {"role": role[i], "cluster": cluster[i], "label": label})
        for i, label in enumerate(ordered)
    )
    graph.add_edges_from(
        (ids[u], ids[v], _tie_attrs(path, data, default_strength)) for u, v, data in ties if u != v
    )
    return graph, table


def file_population_size(path: str | Path) -> int:
    """Number of schools (nodes) in a graph file, so that the caller can set n_schools."""
    graph, _ = load_graph_file(path)
    return graph.number_of_nodes()


def apply_node_attributes(population: Population, node_table: pd.DataFrame | None) -> Population:
    """The population with the school attributes found in a graph file put in.

    Numeric attributes (x, y, teachers, disadvantaged, capacity) override the
    generated value where the file has one (NaN keeps the generated value).
    ``country`` codes map to the population's codes,
    unseen codes are appended. ``region`` labels become region ids per
    (country, label); with ``country`` but no ``region`` each country is one
    region.

    Raises:
        NetworkError: the table has another number of rows than the population.
    """
    if node_table is None:
        return population
    n = population.n
    if len(node_table) != n:
        raise NetworkError(
            f"network.file: node attributes for {len(node_table)} schools, population has {n}"
        )
    changes: dict[str, object] = {}
    country = population.country
    if "country" in node_table:
        codes = list(population.country_codes)
        for code in pd.unique(node_table["country"]):
            if code not in codes:
                codes.append(str(code))
        index = {code: i for i, code in enumerate(codes)}
        country = node_table["country"].map(index).to_numpy(np.int32)
        changes["country"] = country
        changes["country_codes"] = tuple(codes)
    if "region" in node_table:
        key = node_table["region"].astype(str)
        if "country" in node_table:
            key = pd.Series(country).astype(str) + "\x1f" + key
        codes_of_region, labels = pd.factorize(key)
        changes["region"] = codes_of_region.astype(np.int32)
        changes["region_names"] = tuple(str(k).rsplit("\x1f", 1)[-1] for k in labels)
    elif "country" in node_table:
        changes["region"] = country.astype(np.int32)
        changes["region_names"] = tuple(changes["country_codes"])
    for column in ("x", "y", "teachers", "disadvantaged", "capacity"):
        if column in node_table:
            values = node_table[column].to_numpy(float)
            changes[column] = np.where(np.isnan(values), getattr(population, column), values)
    return dataclasses.replace(population, **changes)
