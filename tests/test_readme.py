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
