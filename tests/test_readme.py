"""The README's Python API section runs as written: simulate, save, load, compare, plot."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure
from support import REPO

from mensi_sim import Results


def python_blocks(markdown: str, section: str) -> list[str]:
    """The ```python blocks of one ``## `` section of a Markdown text."""
    start = markdown.index(f"## {section}\n")
    end = markdown.find("\n## ", start + 1)
    body = markdown[start : end if end != -1 else None]
    return re.findall(r"```python\n(.*?)```", body, flags=re.DOTALL)


def test_python_api_section_runs(tmp_path: Path, monkeypatch) -> None:
    blocks = python_blocks((REPO / "README.md").read_text(encoding="utf-8"), "Python API")
    assert len(blocks) == 2
    for folder in ("scenarios", "experiments"):  # the paths the README uses, from a clean cwd
        (tmp_path / folder).symlink_to(REPO / folder)
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, "README.md", "exec"), namespace)  # noqa: S102 - the README's code

    res, back, fig = namespace["res"], namespace["back"], namespace["fig"]
    assert isinstance(res, Results) and len(res.summary) == 20
    single = Results.load("results/my-run")
    pd.testing.assert_frame_equal(single.summary, res.summary)
    assert isinstance(fig, Figure)
    table = namespace["table"]
    assert list(table["baseline"].unique()) == ["none"]
    assert set(table["scenario"]) == {"none", "top_down", "bottom_up", "virtual", "hybrid"}
    assert set(back.comparison(baseline="top_down")["baseline"]) == {"top_down"}
    assert len(back.to_df()) == 5 * 10
    by_country = namespace["by_country"]
    assert set(by_country["group"]) == {"BE-VLG", "HR", "CZ", "HU", "IT", "PT"}
    assert len(by_country) == 6 * 5


def shell_examples(markdown: str, command: str) -> list[tuple[str, list[str]]]:
    """The ``$ mensi-sim <command> ...`` lines of the README's code blocks, each with the
    output lines printed under it (up to the next ``$`` line or the end of the block)."""
    examples = []
    for block in re.findall(r"```\n(.*?)```", markdown, flags=re.DOTALL):
        lines = block.splitlines()
        for i, line in enumerate(lines):
            if line.startswith(f"$ mensi-sim {command} "):
                out = []
                for follow in lines[i + 1 :]:
                    if follow.startswith("$ "):
                        break
                    out.append(follow)
                examples.append((line[len("$ ") :], out))
    return examples


def test_readme_draft_examples_run_as_shown() -> None:
    # the drafts/*.toml files the README shows exist, and validate and run print what it says
    import sys

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    examples = shell_examples(readme, "validate") + [
        (c, out)
        for c, out in shell_examples(readme, "run")
        if " drafts/" in c and out and out[0].startswith("error:")  # outputs without timings
    ]
    assert len(examples) >= 2, "the README has no validate or run example of drafts/"
    # drafts the repository does not hold are those scripts/update-readme writes for a run
    sys.path.insert(0, str(REPO / "scripts"))
    try:
        from update_readme import DRAFTS
    finally:
        sys.path.remove(str(REPO / "scripts"))
    written = [REPO / "drafts" / n for n in DRAFTS if not (REPO / "drafts" / n).exists()]
    for path in written:
        path.write_text(DRAFTS[path.name], encoding="utf-8")
    try:
        run_examples(examples)
    finally:
        for path in written:
            path.unlink(missing_ok=True)


def run_examples(examples: list[tuple[str, list[str]]]) -> None:
    import subprocess
    import sys

    for command, shown in examples:
        args = command.split()[1:]
        done = subprocess.run(
            [sys.executable, "-m", "mensi_sim.cli", *args],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=300,
        )
        printed = done.stdout.splitlines() + done.stderr.splitlines()
        assert sorted(printed) == sorted(shown), (command, printed)
        failed = any(s.startswith("error:") for s in shown)
        assert done.returncode == ((1 if args[0] == "validate" else 2) if failed else 0)
