"""The built wheel, installed into a clean virtual environment, runs its own scenarios and
experiments by name from any folder (issue 12: the wheel used to hold only .py files).

The wheel is built from a copy of the sources (so the checkout gets no build/ folder)
with ``pip wheel --no-build-isolation`` and installed with ``--no-deps --no-index``
into a new venv made from the same Python; nothing is downloaded. The new venv sees
the project venv's site-packages through a ``.pth`` line, for the dependencies only:
a path line of a ``.pth`` file is appended to ``sys.path`` but the ``.pth`` files in
that folder (the editable install's finder of this checkout) are not run, so
``mensi_sim`` is imported from the wheel, which the test checks.
"""

from __future__ import annotations

import json
import os
import shutil
import site
import subprocess
import sys
from pathlib import Path

import pytest

from mensi_sim import shipped

REPO = Path(__file__).resolve().parents[1]
BUILD_FILES = ("pyproject.toml", "setup.py", "README.md", "MANIFEST.in")


def _run(*args: str | Path, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    done = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, f"{args}: exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv with the wheel of this checkout installed; its bin/ folder."""
    root = tmp_path_factory.mktemp("install")
    src = root / "src"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    shutil.copytree(REPO / "mensi_sim", src / "mensi_sim", ignore=ignore)
    for name in shipped.FOLDERS:
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, src / name, ignore=ignore)
    for name in BUILD_FILES:
        shutil.copy2(REPO / name, src / name)
    pip = [sys.executable, "-m", "pip"]
    wheel_args = ("wheel", "-q", "--no-deps", "--no-build-isolation", "-w", root / "dist", src)
    _run(*pip, *wheel_args, cwd=root)
    (wheel,) = (root / "dist").glob("mensi_sim-*.whl")
    venv = root / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=root)
    (target,) = (venv / "lib").glob("python*/site-packages")
    (target / "_project_dependencies.pth").write_text(
        "\n".join(site.getsitepackages()) + "\n", encoding="utf-8"
    )
    _run(*pip, "--python", venv / "bin" / "python", "install", "-q", "--no-deps", "--no-index",
         wheel, cwd=root)  # fmt: skip
    return venv / "bin"


def test_the_wheel_holds_the_shipped_folders(installed: Path, tmp_path: Path) -> None:
    done = _run(
        installed / "python",
        "-c",
        "import mensi_sim, mensi_sim.shipped as s; print(mensi_sim.__file__); "
        "print(s.folder('scenarios')); print(s.folder('experiments'))",
        cwd=tmp_path,
    )
    package, scenarios, experiments = done.stdout.split()
    venv = installed.parent
    assert Path(package).is_relative_to(venv), package  # the wheel's copy, not the checkout's
    assert Path(scenarios) == Path(package).parent / "shipped" / "scenarios"
    assert Path(experiments) == Path(package).parent / "shipped" / "experiments"
    # the app without a file starts from the shipped pilot, course and all (it used to fall
    # back to schema defaults labelled "mensi_pilot")
    app = _run(
        installed / "python",
        "-c",
        "from mensi_sim.viz.model import base_scenario; s = base_scenario(); "
        "print(s.source_path); print(s.training.courses[0].name)",
        cwd=tmp_path,
    )
    source, course = app.stdout.split()
    assert Path(source) == Path(scenarios) / "mensi_pilot.toml" and course == "mentor_course"
    for name in shipped.FOLDERS:  # every shipped folder of the checkout, file for file
        if (REPO / name).is_dir():
            ours = sorted(p.relative_to(REPO / name) for p in (REPO / name).rglob("*.*"))
            theirs = Path(package).parent / "shipped" / name
            assert sorted(p.relative_to(theirs) for p in theirs.rglob("*.*")) == ours


def test_installed_commands_take_shipped_names(installed: Path, tmp_path: Path) -> None:
    cli = installed / "mensi-sim"
    listed = _run(cli, "scenarios", cwd=tmp_path).stdout
    assert "mensi_pilot.toml" in listed and "virtual.toml" in listed
    assert str(installed.parent) in listed  # the folder listed is the installed one

    ran = _run(cli, "run", "mensi_pilot", "-r", "2", "--steps", "4", "--out", "pilot",
               cwd=tmp_path).stdout  # fmt: skip
    assert ran.startswith("mensi_pilot: 2 replicates x 4 weeks, 120 schools (top_down)")
    assert (tmp_path / "pilot" / "summary.parquet").is_file()
    assert (tmp_path / "pilot" / "adoption_cost.png").is_file()

    swept = _run(cli, "sweep", "structures", "-r", "2", "--steps", "4", "--executor", "serial",
                 "--out", "structures", cwd=tmp_path).stdout  # fmt: skip
    assert swept.startswith("structures: 5 scenarios, 10 runs x 4 weeks")
    assert (tmp_path / "structures" / "runs.parquet").is_file()
    # the shipped experiment's base scenario (../scenarios/mensi_pilot.toml) resolved
    manifest = json.loads((tmp_path / "structures" / "manifest.json").read_text())
    assert manifest["base_parameters"]["name"] == "mensi_pilot"
    assert Path(manifest["source_path"]).is_relative_to(installed.parent)


def test_a_shipped_name_reads_the_shipped_file(tmp_path: Path, monkeypatch) -> None:
    from mensi_sim import load_scenario
    from mensi_sim.errors import ScenarioError
    from mensi_sim.experiments import load_experiment
    from mensi_sim.scenario import scenario_hash

    monkeypatch.chdir(tmp_path)  # no scenarios/ here
    by_path = load_scenario(REPO / "scenarios" / "mensi_pilot.toml")
    for given in ("mensi_pilot", "mensi_pilot.toml", "scenarios/mensi_pilot.toml"):
        sc = load_scenario(given)
        assert Path(sc.source_path).resolve() == REPO / "scenarios" / "mensi_pilot.toml"
        assert scenario_hash(sc) == scenario_hash(by_path)
    exp = load_experiment("structures")
    assert exp.base.name == "mensi_pilot" and len(exp.points) == 5
    with pytest.raises(ScenarioError) as err:
        load_scenario("mensi_plot")
    assert str(err.value).startswith("mensi_plot: file not found (nor a shipped scenario: ")
    assert "mensi_pilot" in str(err.value)
    with pytest.raises(ScenarioError, match="nor a shipped experiment: budget, ") as err:
        load_experiment("structure")
    assert "structures" in str(err.value)
    # a file of that name in the working folder comes first
    (tmp_path / "mensi_pilot").write_text('name = "local"\n')
    assert load_scenario("mensi_pilot").name == "local"
