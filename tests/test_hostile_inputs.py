"""Issue 15: bad input that used to end in a traceback or a resource blow-up, case by case.

Each case is made inside the test (deep TOML, huge keys, graph files with non-finite
attributes in CSV, GraphML and GEXF, bad encodings, long and unreadable paths, services
that are not Dask, schema-valid scenarios and designs that cannot fit in memory) and must
end as one ``error:`` line naming the file and the field, a non-zero exit, and nothing
written. ``assert_clean_failure`` also asserts that the line is not the guard's internal
error: an expected bad input never reaches the guard at the top.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from hostile import (
    GRAPH_FORMATS,
    cli,
    deep_array,
    deep_inline_table,
    dotted_key,
    fake_service,
    file_scenario,
    graph_with_attribute,
    one_error_line,
    warm_matplotlib,
)
from test_fuzz_inputs import BASE, TINY, assert_clean_failure, invoke, listing, to_toml

from mensi_sim.experiments import execution, load_experiment
from mensi_sim.scenario.toml_limits import MAX_KEY_PARTS, MAX_NESTING, nesting_problem

TINY_SWEEP = """\
name = "sw"
replications = 2
executor = "serial"
[base]
scenario = "tiny.toml"
[factors.grid]
"adoption.q" = [0.005, 0.01]
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "tiny.toml").write_text(TINY, encoding="utf-8")
    (tmp_path / "sweep.toml").write_text(TINY_SWEEP, encoding="utf-8")
    return tmp_path


def refused_by_all(folder: Path, path: Path, *needles: str) -> None:
    """``validate`` and ``run`` refuse a scenario file with one line, nothing written."""
    before = listing(folder)
    assert_clean_failure(invoke("validate", path), str(path), *needles, codes=(1,))
    assert_clean_failure(invoke("run", path, "-r", "1", "--out", folder / "out"), *needles)
    assert listing(folder) == before


# ---------------------------------------------------------------------------------------
# TOML nested too deep, keys too long: measured before parsing
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", [deep_array(1000), deep_inline_table(1000)], ids=["array", "table"]
)
def test_deep_nesting_is_refused_before_parsing(folder: Path, text: str) -> None:
    path = folder / "deep.toml"
    path.write_text(text, encoding="utf-8")
    refused_by_all(folder, path, "nested more than")
    # an experiment file, and an experiment whose base scenario nests too deep
    (folder / "deep_sweep.toml").write_text(text.replace('"deep"', '"sw"'), encoding="utf-8")
    (folder / "base_deep.toml").write_text(
        TINY_SWEEP.replace("tiny.toml", "deep.toml"), encoding="utf-8"
    )
    for experiment in ("deep_sweep.toml", "base_deep.toml"):
        before = listing(folder)
        res = invoke("sweep", folder / experiment, "--out", folder / "out")
        assert_clean_failure(res, experiment, "nested more than")
        assert listing(folder) == before


def test_a_dotted_key_of_50000_parts_is_refused_before_parsing(folder: Path) -> None:
    # 100 KB; parsed, it took 2.7 GB and ended in a MemoryError
    path = folder / "dotted.toml"
    path.write_text(dotted_key(50_000), encoding="utf-8")
    assert 99_000 < path.stat().st_size < 101_000
    refused_by_all(folder, path, "dotted key of more than")


def test_nesting_limits_count_only_what_nests() -> None:
    assert nesting_problem(deep_array(MAX_NESTING)) is None
    assert "nested more than" in nesting_problem(deep_array(MAX_NESTING + 1))
    assert nesting_problem(dotted_key(MAX_KEY_PARTS)) is None
    assert "dotted key" in nesting_problem(dotted_key(MAX_KEY_PARTS + 1))
    # brackets and dots inside strings and comments, and the dots of numbers, do not count
    assert nesting_problem('name = "' + "[" * 500 + '"\n') is None
    assert nesting_problem('"' + "a." * 500 + '" = 1\n') is None
    assert nesting_problem("# " + "[{" * 500 + "\nx = 1\n") is None
    assert nesting_problem('x = """\n' + "[" * 500 + '\n"""\ny = 0.5\n') is None
    assert nesting_problem("x = '''" + "." * 500 + "'''\n") is None
    assert nesting_problem("x = [0.1, 0.2, 0.3]\n[a.b.c]\nd.e = 1.5\n") is None
    # a table header counts its parts too; a line's key starts afresh
    assert "dotted key" in nesting_problem("[" + ".".join("a" * (MAX_KEY_PARTS + 1)) + "]\n")
    assert nesting_problem("a.b.c = 1\n" * 1000) is None


def test_every_shipped_scenario_and_experiment_is_within_the_limits() -> None:
    root = Path(__file__).resolve().parents[1]
    files = sorted((root / "scenarios").glob("*.toml")) + sorted(
        (root / "experiments").glob("*.toml")
    )
    assert len(files) >= 8
    for path in files:
        assert nesting_problem(path.read_text(encoding="utf-8")) is None, path


def test_a_file_over_4_mb_is_refused_unread(folder: Path) -> None:
    path = folder / "big.toml"
    path.write_text('name = "big"\n' + "# padding\n" * 500_000, encoding="utf-8")
    refused_by_all(folder, path, "is 5.0 MB", "at most 4 MB")


# ---------------------------------------------------------------------------------------
# encodings, byte-order marks, NUL bytes
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        (b"\xef\xbb\xbf" + TINY.encode(), "byte-order mark (BOM); save it as UTF-8 without BOM"),
        (TINY.encode("utf-16"), "UTF-16"),
        ('name = "caf\xe9"\n'.encode("latin-1"), "not UTF-8 (byte 0xe9 at line 1, column 12)"),
        (TINY.encode() + b"x = 1\x00\n", "NUL byte at line"),
    ],
    ids=["bom", "utf16", "latin1", "nul"],
)
def test_encodings_get_a_hint(folder: Path, data: bytes, needle: str) -> None:
    path = folder / "enc.toml"
    path.write_bytes(data)
    refused_by_all(folder, path, needle)


# ---------------------------------------------------------------------------------------
# paths: too long, unreadable, NUL, a folder
# ---------------------------------------------------------------------------------------


def test_a_path_component_of_300_characters(folder: Path) -> None:
    path = folder / ("x" * 300 + ".toml")
    assert_clean_failure(invoke("validate", path), "File name too long", codes=(1,))
    experiment = folder / "long.toml"
    experiment.write_text(TINY_SWEEP.replace("tiny.toml", "y" * 300 + ".toml"), encoding="utf-8")
    assert_clean_failure(invoke("sweep", experiment), "base.scenario", "File name too long")


def test_a_file_in_an_unreadable_folder(folder: Path) -> None:
    # a real process without the power to ignore file modes (the tests may run as root)
    locked = folder / "locked"
    locked.mkdir()
    (locked / "tiny.toml").write_text(TINY, encoding="utf-8")
    locked.chmod(0o000)
    try:
        done = cli("validate", "locked/tiny.toml", cwd=folder, permissions=True)
    finally:
        locked.chmod(0o755)
    one_error_line(done, "locked/tiny.toml: permission denied", codes=(1,))


def test_a_folder_given_as_a_scenario(folder: Path) -> None:
    assert_clean_failure(invoke("validate", folder), "is a folder, not a file", codes=(1,))


def test_a_nul_byte_in_network_file(folder: Path) -> None:
    path = folder / "nul.toml"
    path.write_text(
        to_toml({**BASE, "network": {"structure": "file", "file": "a\x00b.csv"}}), encoding="utf-8"
    )
    refused_by_all(folder, path, "network.file", "NUL byte")


# ---------------------------------------------------------------------------------------
# graph files with node attributes that are not finite, in CSV, GraphML and GEXF
# ---------------------------------------------------------------------------------------

NON_FINITE = [
    ("x", "inf", "'x': inf is not finite"),
    ("y", "-inf", "'y': -inf is not finite"),
    ("teachers", "inf", "'teachers': inf is not finite"),
    ("cluster", "inf", "'cluster': inf is not finite"),
    ("cluster", "1e30", "'cluster': 1e+30 is not a cluster id"),
    ("cluster", "2.5", "'cluster': 2.5 is not a cluster id"),
    ("capacity", "1e30", "'capacity': 1e+30 must be in [0, 1]"),
]


@pytest.mark.parametrize("fmt", GRAPH_FORMATS)
@pytest.mark.parametrize(("column", "value", "needle"), NON_FINITE, ids=lambda v: str(v)[:12])
def test_graph_attributes_that_are_not_finite(folder, fmt, column, value, needle) -> None:
    graph = graph_with_attribute(folder, fmt, column, value)
    refused_by_all(folder, file_scenario(folder, graph), f"network.file: {graph}", needle)


@pytest.mark.parametrize("fmt", GRAPH_FORMATS)
def test_huge_but_finite_coordinates_are_accepted(folder: Path, fmt: str) -> None:
    graph = graph_with_attribute(folder, fmt, "x", "1e30")
    res = invoke("run", file_scenario(folder, graph), "-r", "1", "--out", folder / "out")
    assert res.exit_code == 0, res.output
    assert (folder / "out" / "summary.parquet").is_file()


@pytest.mark.parametrize("fmt", ["graphml", "gexf"])
def test_an_unknown_xml_encoding(folder: Path, fmt: str) -> None:
    graph = graph_with_attribute(folder, fmt, "x", "1")
    graph.write_text(graph.read_text().replace('encoding="UTF-8"', 'encoding="klingon"'))
    refused_by_all(folder, file_scenario(folder, graph), "unknown encoding: klingon")


def test_a_latin1_nodes_file(folder: Path) -> None:
    graph = graph_with_attribute(folder, "csv", "region", "x")
    (folder / "g.nodes.csv").write_bytes("id,region\na,Genève\nb,Zürich\n".encode("latin-1"))
    refused_by_all(folder, file_scenario(folder, graph), "g.nodes.csv", "cannot read CSV")


# ---------------------------------------------------------------------------------------
# options checked up front: seeds, precision, executors
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [str(2**64), str(2**63), str(10**30)])
def test_a_seed_beyond_64_bits_is_refused_before_running(folder: Path, seed: str) -> None:
    before = listing(folder)
    res = invoke("run", folder / "tiny.toml", "--seed", seed, "-r", "1", "--out", folder / "o")
    assert_clean_failure(res, "--seed", "9223372036854775807", codes=(2,))
    assert listing(folder) == before


def test_the_largest_seed_runs(folder: Path) -> None:
    res = invoke(
        "run", folder / "tiny.toml", "--seed", str(2**63 - 1), "-r", "1", "-o", folder / "o"
    )
    assert res.exit_code == 0, res.output


@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "0"])
def test_precision_must_be_finite(folder: Path, value: str) -> None:
    before = listing(folder)
    res = invoke("sweep", folder / "sweep.toml", "--precision", value, "--out", folder / "o")
    assert_clean_failure(res, "--precision", codes=(2,))
    assert listing(folder) == before


def test_adaptive_precision_inf_in_the_file(folder: Path) -> None:
    (folder / "a.toml").write_text(TINY_SWEEP + "[adaptive]\nprecision = inf\n", encoding="utf-8")
    assert_clean_failure(invoke("sweep", folder / "a.toml", "--out", folder / "o"), "precision")
    assert not (folder / "o").exists()


@pytest.mark.parametrize(
    ("address", "needle"),
    [
        ("tcp://localhost:notaport", "port 'notaport' is not a number"),
        ("tcp://localhost", "give host and port"),
        ("tcp://:8786", "give host and port"),
        ("tcp://127.0.0.1:99999", "port '99999' is not a number from 1 to 65535"),
        ("tcp://127.0.0.1:1", "cannot reach Dask scheduler tcp://127.0.0.1:1"),
    ],
)
def test_scheduler_addresses(folder: Path, address: str, needle: str) -> None:
    before = listing(folder)
    res = invoke("sweep", folder / "sweep.toml", "--executor", address, "--out", folder / "o")
    assert_clean_failure(res, needle, codes=(2,))
    assert listing(folder) == before


@pytest.mark.parametrize(
    ("greeting", "needle"),
    [
        (b"SSH-2.0-OpenSSH_9.2\r\n", "does not speak Dask's protocol (it began with 'SSH-2.0-')"),
        (b"HTTP/1.1 400 Bad Request\r\n\r\n", "does not speak Dask's protocol"),
        ((10**15).to_bytes(8, "little"), "does not speak Dask's protocol"),
        (b"", "closed the connection without a Dask greeting"),
        (None, "sent no Dask greeting within 1 s"),
    ],
    ids=["ssh", "http", "huge-length", "closes", "silent"],
)
def test_a_service_that_is_not_dask(folder, monkeypatch, greeting, needle) -> None:
    # before the probe, Client read "HTTP/1.1" as a message length and asked for 3.07 EiB
    monkeypatch.setattr(execution, "CONNECT_TIMEOUT_S", 1.0)
    with fake_service(greeting) as address:
        res = invoke("sweep", folder / "sweep.toml", "-e", address, "-o", folder / "o")
    assert_clean_failure(res, "cannot reach Dask scheduler", needle, codes=(2,))
    assert not (folder / "o").exists()


def test_tls_without_tls_settings(folder, monkeypatch) -> None:
    monkeypatch.setattr(execution, "CONNECT_TIMEOUT_S", 1.0)
    with fake_service(None) as address:
        tls = address.replace("tcp://", "tls://")
        res = invoke("sweep", folder / "sweep.toml", "--executor", tls, "--out", folder / "o")
    assert_clean_failure(res, "cannot reach Dask scheduler tls://", "TLS settings", codes=(2,))
    assert not (folder / "o").exists()


# ---------------------------------------------------------------------------------------
# messages a user can act on
# ---------------------------------------------------------------------------------------


def test_a_one_megabyte_unknown_key_is_cut(folder: Path) -> None:
    path = folder / "key.toml"
    path.write_text("[population]\n" + "k" * 1_000_000 + " = 1\n", encoding="utf-8")
    line = assert_clean_failure(invoke("validate", path), str(path), "unknown key", codes=(1,))
    assert "(1,000,000 characters)" in line


@pytest.mark.parametrize("name", ["x\x1b[31mred", "\x1b]0;pwned\x07", "a\u202eb", "nul\x00x"])
def test_control_characters_in_names_are_neutralised(folder: Path, name: str) -> None:
    path = folder / "ansi.toml"
    path.write_text(to_toml({**BASE, "name": name}), encoding="utf-8")
    res = invoke("validate", path)
    assert res.exit_code == 0, res.output
    assert "\x1b" not in res.stdout and "\u202e" not in res.stdout and "\x00" not in res.stdout
    assert "\\x1b" in res.stdout or "\\u202e" in res.stdout or "\\x00" in res.stdout
    # in an error line too: a hostile key
    bad = folder / "bad.toml"
    bad.write_text(to_toml({**BASE, "population": {name: 1}}), encoding="utf-8")
    assert_clean_failure(invoke("validate", bad), "unknown key", codes=(1,))


def test_viz_host_that_is_not_an_address(folder: Path) -> None:
    res = invoke("viz", "--host", "999.1.1.1", "--no-open")
    line = assert_clean_failure(res, "--host", codes=(2,))
    assert "in use" not in line
    res = invoke("viz", "--host", "10.255.255.1", "--no-open")
    assert_clean_failure(res, "--host: 10.255.255.1 is not an address of this machine", codes=(2,))


def test_viz_port_in_use(folder: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        res = invoke("viz", "--host", "127.0.0.1", "--port", port, "--no-open")
    assert_clean_failure(res, f"--port: 127.0.0.1:{port} is in use", codes=(2,))


def test_integer_parameters_in_ranges_are_rounded(folder: Path) -> None:
    # docs/EXPERIMENTS.md: integer parameters are rounded (they were refused: "got 1.0")
    text = TINY_SWEEP.replace(
        '[factors.grid]\n"adoption.q" = [0.005, 0.01]\n',
        '[factors.ranges]\n"network.mentees_per_mentor" = [1.0, 4.0]\n"adoption.q" = [0.001, 0.01]'
        '\n[[factors.samples]]\nmethod = "lhs"\nn = 12\n',
    )
    (folder / "ranges.toml").write_text(text, encoding="utf-8")
    exp = load_experiment(folder / "ranges.toml")
    values = [p.overrides["network.mentees_per_mentor"] for p in exp.points]
    assert all(isinstance(v, int) and 1 <= v <= 4 for v in values), values
    assert len(set(values)) > 1
    bad = text.replace("[1.0, 4.0]", "[1.0, 1e6]")
    (folder / "bad_ranges.toml").write_text(bad, encoding="utf-8")
    assert_clean_failure(invoke("sweep", folder / "bad_ranges.toml"), "mentees_per_mentor")


# ---------------------------------------------------------------------------------------
# schema-valid input that cannot fit in memory: refused with the estimate and the limit
# ---------------------------------------------------------------------------------------


def write(folder: Path, name: str, doc: dict) -> Path:
    path = folder / name
    path.write_text(to_toml(doc), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "network",
    [
        {"structure": "ring_lattice", "graph_degree": 10_000},
        {"structure": "erdos_renyi", "graph_p": 0.5},
        {"structure": "complete"},
        {"structure": "top_down", "mentees_per_mentor": 1000, "mentors_per_region": 10_000},
    ],
    ids=["ring", "dense-er", "complete", "huge-clusters"],
)
def test_a_network_that_cannot_fit_is_refused_before_it_is_built(folder, network) -> None:
    doc = {"name": "huge", "population": {"n_schools": 2_000_000}, "network": network}
    if network["structure"] == "erdos_renyi":
        doc["population"]["n_schools"] = 200_000
    path = write(folder, "huge.toml", doc)
    refused_by_all(folder, path, "network.structure", "needs about", "this machine allows")


def test_the_limit_is_the_machine_s(folder, monkeypatch) -> None:
    from mensi_sim import resources

    doc = {
        "name": "m",
        "population": {"n_schools": 20_000},
        "network": {"structure": "ring_lattice", "graph_degree": 40},
    }
    path = write(folder, "m.toml", doc)
    assert invoke("validate", "--no-build", path).exit_code == 0
    monkeypatch.setattr(resources, "machine_memory", lambda: 2**27)  # a 128 MiB machine
    line = assert_clean_failure(invoke("validate", path), codes=(1,))
    # 400,000 ring ties + 100,000 proximity ties x 300 bytes + 20,000 schools x 2,000 bytes
    assert "needs about 181 MiB" in line and "102 MiB this machine allows (80% of 128 MiB)" in line


@pytest.mark.parametrize(
    ("factors", "needle"),
    [
        (
            {
                "grid": {
                    f"contacts.rate_{k}": [0.1 * i for i in range(1, 11)]
                    for k in ("in_person", "online", "peer", "community")
                }
                | {f"adoption.{k}": [0.001 * i for i in range(1, 11)] for k in ("p", "q")}
                | {
                    "learning.rate": [0.1 * i for i in range(1, 11)],
                    "engagement.floor": [0.01 * i for i in range(1, 11)],
                }
            },
            "100,000,000 points",
        ),
        (
            {
                "ranges": {"adoption.q": [0.001, 0.01]},
                "samples": [{"method": "lhs", "n": 1_000_000}],
            },
            "1,000,000 points",
        ),
        (
            {
                "ranges": {"adoption.q": [0.001, 0.01], "adoption.p": [0.0, 0.01]},
                "samples": [{"method": "sobol", "n": 2**18}],
            },
            "1,048,576 points",
        ),
    ],
    ids=["grid-1e8", "lhs-1e6", "sobol"],
)
def test_a_design_that_cannot_be_held_is_refused_before_expanding(folder, factors, needle):
    doc = {"name": "big", "base": {"scenario": "tiny.toml"}, "factors": factors}
    path = write(folder, "big.toml", doc)
    before = listing(folder)
    assert_clean_failure(invoke("sweep", path, "--out", folder / "o"), "factors", needle)
    assert listing(folder) == before


@pytest.mark.parametrize("command", ["run", "sweep"])
def test_replications_1e23(folder: Path, command: str) -> None:
    target = folder / ("tiny.toml" if command == "run" else "sweep.toml")
    before = listing(folder)
    res = invoke(command, target, "--replications", str(10**23), "--out", folder / "o")
    assert_clean_failure(res, "replications", "runs", "needs about", codes=(2,))
    res = invoke(command, target, "--replications", "1e23", "--out", folder / "o")
    assert_clean_failure(res, "--replications", codes=(2,))  # not a whole number
    assert listing(folder) == before


def test_duplicate_design_names_are_still_found(folder: Path) -> None:
    # the check is linear now (a Counter); it must still catch a collision
    text = (
        TINY_SWEEP + '[[factors.scenarios]]\nname = "q=0.005"\n[[factors.scenarios]]\nname = "x"\n'
    )
    text = text.replace('[factors.grid]\n"adoption.q" = [0.005, 0.01]\n', "")
    text += '[[factors.scenarios]]\nname = "x"\n'
    (folder / "dup.toml").write_text(text, encoding="utf-8")
    assert_clean_failure(invoke("sweep", folder / "dup.toml"), "duplicate name 'x'")


# ---------------------------------------------------------------------------------------
# writing: a full disk, report --out a folder, a read-only results folder
# ---------------------------------------------------------------------------------------


def test_a_full_disk_names_the_file_and_leaves_nothing(folder: Path) -> None:
    warm_matplotlib(folder)  # its font cache is written once, before the disk "fills"
    done = cli("run", "tiny.toml", "-r", "2", "--out", "res", cwd=folder, max_file_bytes=3000)
    line = one_error_line(done, codes=(2,))
    assert line.startswith("error: res/") and "the disk is full" in line, line
    assert not (folder / "res").exists()
    assert not [p for p in folder.iterdir() if p.name.startswith(".res")]


def test_report_out_an_existing_folder(folder: Path) -> None:
    res = invoke("run", folder / "tiny.toml", "-r", "2", "--out", folder / "res")
    assert res.exit_code == 0, res.output
    (folder / "reports").mkdir()
    res = invoke("report", folder / "res", "--out", folder / "reports", "--no-network")
    assert res.exit_code == 0, res.output
    assert (folder / "reports" / "report.html").is_file()
    done = cli("report", ".", "--out", ".", "--no-network", cwd=folder / "res")
    assert done.returncode == 0, done.stderr
    assert (folder / "res" / "report.html").is_file()


def test_report_into_a_folder_that_cannot_be_written_names_it(folder: Path) -> None:
    res = invoke("run", folder / "tiny.toml", "-r", "2", "--out", folder / "res")
    assert res.exit_code == 0, res.output
    (folder / "ro").mkdir()
    (folder / "ro").chmod(0o555)
    try:
        done = cli("report", "res", "--out", "ro", "--no-network", cwd=folder, permissions=True)
    finally:
        (folder / "ro").chmod(0o755)
    one_error_line(done, "ro/report.html: cannot write: the folder ro is not writable", codes=(2,))
    assert not list((folder / "ro").iterdir())


def test_compare_on_a_read_only_folder(folder: Path) -> None:
    res = invoke("sweep", folder / "sweep.toml", "--out", folder / "res")
    assert res.exit_code == 0, res.output
    before = listing(folder / "res")
    (folder / "res").chmod(0o555)
    try:
        done = cli("compare", "res", cwd=folder, permissions=True)
    finally:
        (folder / "res").chmod(0o755)
    one_error_line(done, "res: cannot write into the folder: Permission denied", codes=(2,))
    assert listing(folder / "res") == before


def test_manifest_written_as_json_only_with_finite_numbers(folder: Path) -> None:
    # --precision inf used to fail while writing the manifest, the folder left "running"
    res = invoke("sweep", folder / "sweep.toml", "--precision", "0.5", "--out", folder / "res")
    assert res.exit_code == 0, res.output
    manifest = json.loads((folder / "res" / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["adaptive"]["precision"] == 0.5
