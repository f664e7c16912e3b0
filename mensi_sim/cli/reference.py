"""``python -m mensi_sim.cli.reference``: print the parameter table of docs/ODD.md.

The table is generated from the scenario schema by
``mensi_sim.scenario.reference.parameter_table_markdown``; ``scripts/update-odd-parameters``
writes it into docs/ODD.md between its markers.
"""

from __future__ import annotations

from mensi_sim.scenario.reference import parameter_table_markdown

if __name__ == "__main__":
    print(parameter_table_markdown(), end="")
