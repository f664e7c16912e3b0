"""Loading school networks from GraphML, GEXF and edge-list CSV files."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from mensi_sim.errors import NetworkError
from mensi_sim.networks.io import apply_node_attributes, file_population_size, load_graph_file

from .support import population, scenario


def sample_graph() -> nx.Graph:
    """Six schools, one isolated, with school and tie attributes."""
    g = nx.Graph()
    for i in range(6):
        g.add_node(
            i,
            country="IT" if i < 3 else "PT",
            region="north" if i % 2 else "south",
            x=10.0 * i,
            y=5.0,
            teachers=20 + i,
            disadvantaged=0.1 * i,
            capacity=0.5 + 0.05 * i,
            role="mentor" if i == 0 else "mentee",
        )
    g.add_edge(0, 1, kind="mentoring", mode="online", strength=0.6)
    g.add_edge(0, 2, kind="mentoring", mode="in_person", strength=1.0)
    g.add_edge(1, 2, kind="peer", mode="in_person", strength=0.5)
    g.add_edge(3, 4, kind="community", mode="online", strength=0.2)
    return g  # school 5 has no tie


def tie_set(graph):
    return {
        (min(u, v), max(u, v), d["kind"], d["mode"], round(d["strength"], 9))
        for u, v, d in graph.edges(data=True)
    }


def check_round_trip(loaded, table, original):
    assert sorted(loaded.nodes) == list(range(original.number_of_nodes()))
    assert tie_set(loaded) == tie_set(original)
    assert [loaded.nodes[i]["role"] for i in range(6)] == ["mentor"] + ["mentee"] * 5
    assert table is not None and len(table) == 6
    assert table["country"].tolist() == ["IT", "IT", "IT", "PT", "PT", "PT"]
    np.testing.assert_allclose(table["x"], [0, 10, 20, 30, 40, 50])
    np.testing.assert_allclose(table["capacity"], 0.5 + 0.05 * np.arange(6))


def test_graphml_round_trip(tmp_path):
    path = tmp_path / "schools.graphml"
    original = sample_graph()
    nx.write_graphml(original, path)
    loaded, table = load_graph_file(path)
    check_round_trip(loaded, table, original)
    assert file_population_size(path) == 6


def test_gexf_round_trip(tmp_path):
    path = tmp_path / "schools.gexf"
    original = sample_graph()
    nx.write_gexf(original, path)
    loaded, table = load_graph_file(path)
    check_round_trip(loaded, table, original)


def test_csv_round_trip_with_nodes_file(tmp_path):
    original = sample_graph()
    pd.DataFrame([{"source": u, "target": v, **d} for u, v, d in original.edges(data=True)]).to_csv(
        tmp_path / "schools.csv", index=False
    )
    pd.DataFrame([{"id": i, **d} for i, d in original.nodes(data=True)]).to_csv(
        tmp_path / "schools.nodes.csv", index=False
    )
    loaded, table = load_graph_file(tmp_path / "schools.csv")
    check_round_trip(loaded, table, original)
    assert loaded.degree(5) == 0  # only in the nodes file


def test_csv_defaults_and_integer_ids_in_numeric_order(tmp_path):
    path = tmp_path / "ties.csv"
    path.write_text("source,target\n10,2\n2,7\n7,7\n")
    graph, table = load_graph_file(path, default_strength=0.3)
    assert table is None
    # ids 2, 7, 10 become 0, 1, 2; the self-loop 7-7 is dropped
    assert set(graph.edges) == {(0, 2), (0, 1)}
    assert [graph.nodes[i]["label"] for i in range(3)] == ["2", "7", "10"]
    for _, _, d in graph.edges(data=True):
        assert d == {"kind": "peer", "mode": "in_person", "strength": 0.3}
    assert all(d["role"] == "none" and d["cluster"] == -1 for _, d in graph.nodes(data=True))


def test_csv_text_ids_in_order_of_first_appearance(tmp_path):
    path = tmp_path / "ties.csv"
    path.write_text("source,target,strength\nzeta,alpha,0.4\nalpha,mid,\n")
    graph, _ = load_graph_file(path)
    assert [graph.nodes[i]["label"] for i in range(3)] == ["zeta", "alpha", "mid"]
    assert graph[0][1]["strength"] == 0.4
    assert graph[1][2]["strength"] == 1.0  # empty strength: the default


def test_edgeless_graphml_is_allowed(tmp_path):
    path = tmp_path / "isolated.graphml"
    g = nx.Graph()
    g.add_nodes_from(range(5))
    nx.write_graphml(g, path)
    graph, table = load_graph_file(path, n_expected=5)
    assert graph.number_of_nodes() == 5 and graph.number_of_edges() == 0
    assert table is None


def test_directed_graphml_is_read_undirected(tmp_path):
    path = tmp_path / "directed.graphml"
    nx.write_graphml(nx.DiGraph([(0, 1), (1, 0), (1, 2)]), path)
    graph, _ = load_graph_file(path)
    assert not graph.is_directed()
    assert graph.number_of_edges() == 2


GRAPHML_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<graphml xmlns="http://graphml.graphdrawing.org/xmlns">\n'
    '<graph edgedefault="undirected">\n'
)


def error_of(path, **kwargs) -> str:
    with pytest.raises(NetworkError) as err:
        load_graph_file(path, **kwargs)
    message = str(err.value)
    assert message.startswith(f"network.file: {path}: ")
    assert "\n" not in message
    return message


def test_duplicate_graphml_ids_raise(tmp_path):
    path = tmp_path / "dup.graphml"
    path.write_text(
        GRAPHML_HEAD + '<node id="a"/><node id="b"/><node id="a"/>\n'
        '<edge source="a" target="b"/>\n</graph></graphml>\n'
    )
    assert "duplicate node id 'a'" in error_of(path)


def test_graph_without_nodes_raises(tmp_path):
    path = tmp_path / "empty.graphml"
    path.write_text(GRAPHML_HEAD + "</graph></graphml>\n")
    assert "no schools" in error_of(path)


def test_missing_file_raises(tmp_path):
    assert "no such file" in error_of(tmp_path / "nowhere.graphml")


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("broken.graphml", "<graphml><graph>", "cannot read GraphML"),
        ("broken.gexf", "not xml at all", "cannot read GEXF"),
        ("ties.txt", "a b\n", "unknown format '.txt'"),
        ("ties.csv", "from,to\n1,2\n", "needs column(s) source, target"),
        ("ties.csv", "source,target\n1,\n", "line 2 has no target"),
        ("ties.csv", "source,target,kind\n1,2,friendship\n", "unknown tie kind 'friendship'"),
        ("ties.csv", "source,target,mode\n1,2,pigeon\n", "unknown tie mode 'pigeon'"),
        ("ties.csv", "source,target,strength\n1,2,1.5\n", "strength 1.5 outside"),
        ("ties.csv", "source,target,strength\n1,2,strong\n", "'strong' is not a number"),
    ],
)
def test_bad_files_raise_one_line_errors(tmp_path, name, text, expected):
    path = tmp_path / name
    path.write_text(text)
    assert expected in error_of(path)


@pytest.mark.parametrize(
    ("nodes", "expected"),
    [
        ("id,capacity\n1,2.0\n2,0.5\n", "'capacity': 2.0 must be in [0, 1]"),
        ("id,teachers\n1,0\n2,3\n", "'teachers': 0.0 must be > 0"),
        ("id,x\n1,far\n2,3\n", "'x': 'far' is not a number"),
        ("id,role\n1,boss\n2,mentee\n", "unknown role 'boss'"),
        ("id,country\n1,IT\n2,\n", "'country' is missing for 1 of 2 schools"),
    ],
)
def test_bad_node_attributes_raise(tmp_path, nodes, expected):
    (tmp_path / "ties.csv").write_text("source,target\n1,2\n")
    (tmp_path / "ties.nodes.csv").write_text(nodes)
    assert expected in error_of(tmp_path / "ties.csv")


def test_duplicate_ids_in_nodes_file_raise(tmp_path):
    (tmp_path / "ties.csv").write_text("source,target\n1,2\n")
    nodes = tmp_path / "ties.nodes.csv"
    nodes.write_text("id\n1\n2\n1\n")
    with pytest.raises(NetworkError, match=f"^network.file: {nodes}: duplicate node id '1'$"):
        load_graph_file(tmp_path / "ties.csv")


def test_node_count_must_match_population(tmp_path):
    path = tmp_path / "ties.csv"
    path.write_text("source,target\n1,2\n")
    assert "has 2 schools but population.n_schools is 120" in error_of(path, n_expected=120)


def test_apply_node_attributes(tmp_path):
    (tmp_path / "ties.csv").write_text("source,target\n0,1\n2,3\n")
    (tmp_path / "ties.nodes.csv").write_text(
        "id,country,region,x,capacity\n"
        "0,IT,north,1.5,0.9\n1,IT,south,,0.2\n2,XX,north,3.0,\n3,XX,north,4.0,0.3\n"
    )
    _, table = load_graph_file(tmp_path / "ties.csv")
    sc = scenario({"population.n_schools": 4})
    pop = population(sc)
    new = apply_node_attributes(pop, table)
    assert new.country_codes[: len(pop.country_codes)] == pop.country_codes
    assert new.country_codes[-1] == "XX"
    assert [new.country_codes[c] for c in new.country] == ["IT", "IT", "XX", "XX"]
    # regions are per (country, label): IT-north, IT-south, XX-north
    assert new.region.tolist() == [0, 1, 2, 2]
    np.testing.assert_array_equal(new.x, [1.5, pop.x[1], 3.0, 4.0])  # empty keeps generated
    np.testing.assert_array_equal(new.y, pop.y)
    np.testing.assert_array_equal(new.capacity, [0.9, 0.2, pop.capacity[2], 0.3])
    assert apply_node_attributes(pop, None) is pop


def test_apply_country_without_region_makes_one_region_per_country(tmp_path):
    (tmp_path / "ties.csv").write_text("source,target\n0,1\n")
    (tmp_path / "ties.nodes.csv").write_text("id,country\n0,PT\n1,HR\n")
    _, table = load_graph_file(tmp_path / "ties.csv")
    pop = population(scenario({"population.n_schools": 2}))
    new = apply_node_attributes(pop, table)
    assert new.region.tolist() == new.country.tolist()
    assert [new.country_codes[c] for c in new.country] == ["PT", "HR"]


def test_apply_node_attributes_needs_one_row_per_school():
    pop = population(scenario({"population.n_schools": 3}))
    with pytest.raises(NetworkError, match="^network.file: "):
        apply_node_attributes(pop, pd.DataFrame({"x": [1.0, 2.0]}))
