"""``python -m mensi_sim.cli ...``: the ``mensi-sim`` command line."""

from mensi_sim.cli import main

main()
