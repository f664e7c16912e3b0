"""Regenerate the example outputs of README.md (and other docs) from the code.

Every fenced block whose first line starts with ``$ `` is a terminal session: each
``$ command`` line is run (from the repository root, with ``.venv/bin`` first on PATH
and a terminal $README_COLUMNS (default 100) columns wide) and the lines after it, up to
the next ``$`` line or the end of the block, are replaced by what the command printed
(stdout and stderr, as a terminal shows them). The bad scenario files the sessions show
are in ``drafts/`` (the repository holds them, so a reader can run the examples); one
that is missing is written for the run and removed afterwards, and one that is there is
used and left alone. ``results/<name>`` folders a session writes with ``--out`` are
removed first, so a session reruns as a user would run it the first time.

Usage: scripts/update-readme [FILE ...]   (default: README.md)

A block that should not be regenerated (a long run, a server) starts with a line other
than ``$ ...``: the script leaves it alone. ``--check`` prints which blocks would change
and exits 1 if any would, without writing.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# the invalid scenarios the README's error examples read, for a checkout without drafts/;
# written only for the run
DRAFTS = {
    "bad_p.toml": "[adoption]\np = 1.5\n",
    "typo.toml": '[netwrok]\nstructure = "top_down"\n',
    "wrong_type.toml": '[population]\nn_schools = "many"\n',
    "impossible.toml": (
        '[population]\nn_schools = 6\ncountries = ["IT"]\nregions_per_country = 6\n\n'
        '[network]\nstructure = "top_down"\nmentors_per_region = 5\n'
    ),
    # a ministry's own school list (issue 16), and the same list with a bad value
    "schools.csv": (
        "id,country,region,lat,lon,teachers,disadvantaged,selfie,volunteers_to_mentor\n"
        "HR-0001,HR,HR03,45.33,14.44,34,0.12,3.4,yes\n"
        "HR-0002,HR,HR03,45.35,14.40,18,0.31,,\n"
        "HR-0003,HR,HR03,44.87,13.85,25,0.22,2.6,no\n"
        "HR-0004,HR,HR05,45.81,15.98,52,0.17,4.1,yes\n"
        "HR-0005,HR,HR05,45.80,15.95,,0.28,2.9,\n"
        "HR-0006,HR,HR05,45.49,15.55,21,0.40,,no\n"
    ),
    "my_schools.toml": (
        'name = "my_schools"\n'
        "description = \"Six schools of a ministry's list, top-down hubs of 1 mentor + 2 "
        'mentees per region"\n\n[population]\nroster = "schools.csv"\n\n'
        '[network]\nstructure = "top_down"\nmentors_per_region = 1\nmentees_per_mentor = 2\n'
    ),
    "bad_schools.csv": (
        "id,country,region,lat,lon,teachers,disadvantaged,selfie,volunteers_to_mentor\n"
        "HR-0001,HR,HR03,45.33,14.44,34,0.12,3.4,yes\n"
        "HR-0002,HR,HR03,45.35,14.40,18,0.31,,\n"
        "HR-0003,HR,HR03,44.87,13.85,25,1.7,2.6,no\n"
        "HR-0004,HR,HR05,45.81,15.98,52,0.17,4.1,yes\n"
        "HR-0005,HR,HR05,45.80,15.95,,0.28,2.9,\n"
        "HR-0006,HR,HR05,45.49,15.55,21,0.40,,no\n"
    ),
    "bad_roster.toml": '[population]\nroster = "bad_schools.csv"\n',
}

FENCE = re.compile(r"^```[a-z]*\n(.*?)^```\n", re.MULTILINE | re.DOTALL)
# a folder name ends at a blank or a shell separator (run() appends "; echo ...")
OUT = re.compile(r"(?:--out|-o)[ =](results/[^\s;&|]+)")


def run(command: str) -> str:
    """What ``command`` prints, as one terminal would show it (stderr folded in)."""
    for folder in OUT.findall(command):
        shutil.rmtree(REPO / folder, ignore_errors=True)
    env = dict(
        os.environ,
        COLUMNS=os.environ.get("README_COLUMNS", "100"),
        PATH=f"{REPO / '.venv' / 'bin'}:{os.environ['PATH']}",
    )
    done = subprocess.run(
        command,
        shell=True,  # noqa: S602 - the README's own commands, as a user types them
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    return done.stdout


def session(block: str) -> str:
    """The block with each command's output replaced by what it prints now."""
    segments = re.split(r"^(?=\$ )", block, flags=re.MULTILINE)
    parts, last = [], "0"
    for segment in filter(None, segments):
        command, _, old = segment.partition("\n")
        text = command[2:]
        if text.strip() == "echo $?":
            out = last + "\n"  # the exit status of the command before
        else:
            out = run(text + '; echo "__status=$?"')
            out, _, status = out.rpartition("__status=")
            last = status.strip()
        gap = len(old) - len(old.rstrip("\n")) - 1  # blank lines kept before the next $
        parts.append(command + "\n" + out.rstrip("\n") + "\n" + "\n" * max(gap, 0))
    return "".join(parts)


def regenerate(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        body = match.group(1)
        if not body.startswith("$ "):
            return match.group(0)
        opening = match.group(0).split("\n", 1)[0]
        return f"{opening}\n{session(body)}```\n"

    return FENCE.sub(replace, text)


def main(argv: list[str]) -> int:
    check = "--check" in argv
    files = [Path(a) for a in argv if a != "--check"] or [REPO / "README.md"]
    drafts = REPO / "drafts"
    made = not drafts.exists()
    drafts.mkdir(exist_ok=True)
    written = [name for name in DRAFTS if not (drafts / name).exists()]
    for name in written:  # the repository's own drafts are used as they are
        (drafts / name).write_text(DRAFTS[name], encoding="utf-8")
    changed = False
    try:
        for path in files:
            old = path.read_text(encoding="utf-8")
            new = regenerate(old)
            if new != old:
                changed = True
                print(f"{path}: example outputs {'differ' if check else 'regenerated'}")
                if not check:
                    tmp = path.with_suffix(path.suffix + ".tmp")
                    tmp.write_text(new, encoding="utf-8")
                    tmp.replace(path)  # atomic: a reader never sees half a README
    finally:
        for name in written:
            (drafts / name).unlink(missing_ok=True)
        if made:
            shutil.rmtree(drafts, ignore_errors=True)
    return 1 if (check and changed) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
