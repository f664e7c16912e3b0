"""What the command line imports (issue 14: a small sweep should not pay for what it does
not use). Checked in a fresh interpreter, by module names, never by timing."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from support import REPO

# what the start of the command line must not import; the model (and Mesa with it) only
# when a scenario is simulated, matplotlib only when a figure is drawn
HEAVY = (
    "mesa",
    "mensi_sim.model",
    "networkx",
    "scipy.spatial",
    "scipy.sparse",
    "scipy.stats",
    "matplotlib",
)


def _imported_after(argv: list[str], cwd: Path) -> dict[str, bool]:
    code = textwrap.dedent(
        f"""
        import json, sys
        from mensi_sim.cli import app
        try:
            app({argv!r}, standalone_mode=False)
        except SystemExit:
            pass
        print(json.dumps({{m: m in sys.modules for m in {HEAVY!r}}}))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def _tiny_experiment(folder: Path, *, replications: int, executor: str) -> Path:
    """An experiment of the pilot scenario, 3 weeks per run."""
    exp = folder / "exp.toml"
    exp.write_text(
        textwrap.dedent(
            f"""\
            name = "tiny"
            replications = {replications}
            root_seed = 1
            steps = 3
            executor = "{executor}"

            [base]
            scenario = "{REPO / "scenarios" / "mensi_pilot.toml"}"
            """
        ),
        encoding="utf-8",
    )
    return exp


def test_the_command_line_starts_without_the_model_or_plotting_libraries():
    loaded = _imported_after(["--help"], REPO)
    assert not any(loaded.values()), loaded


def test_a_sweep_without_plots_imports_no_matplotlib(tmp_path: Path):
    exp = _tiny_experiment(tmp_path, replications=2, executor="serial")
    loaded = _imported_after(["sweep", str(exp), "--out", str(tmp_path / "out")], tmp_path)
    assert (tmp_path / "out" / "summary.parquet").exists()
    assert loaded["mensi_sim.model"]  # it did simulate
    assert not loaded["matplotlib"], loaded
    loaded = _imported_after(
        ["sweep", str(exp), "--out", str(tmp_path / "drawn"), "--plots"], tmp_path
    )
    assert loaded["matplotlib"] and (tmp_path / "drawn" / "adoption.png").exists()


def test_a_local_sweep_imports_its_figures_meanwhile_and_draws_them_in_forked_workers(
    tmp_path: Path,
):
    """With --plots on a local pool, matplotlib is imported on a thread while the workers
    compute; that thread is joined before the figures are drawn, so that they too are
    drawn in forked processes (a process does not fork beside a thread)."""
    exp = _tiny_experiment(tmp_path, replications=4, executor="local")
    code = textwrap.dedent(
        f"""
        import json, sys, threading
        from mensi_sim.experiments import execution, runner
        pools, imported = [], []
        forked_pool, import_meanwhile = execution.forked_pool, runner.import_meanwhile
        def counted(n):
            pools.append(threading.active_count())
            return forked_pool(n)
        def recorded(modules):
            imported.extend(modules)
            return import_meanwhile(modules)
        execution.forked_pool, runner.import_meanwhile = counted, recorded
        from mensi_sim.cli import app
        app(["sweep", {str(exp)!r}, "--out", {str(tmp_path / "out")!r}, "--plots",
             "--workers", "2"], standalone_mode=False)
        print(json.dumps({{"pools": pools, "imported": imported}}))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout.strip().splitlines()[-1])
    assert "mensi_sim.plotting" in got["imported"]
    # the sweep's pool and the figures' pool, each forked beside no other thread
    assert got["pools"] == [1, 1]
    assert (tmp_path / "out" / "adoption.png").exists()
