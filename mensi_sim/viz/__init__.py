"""The interactive browser app (Mesa SolaraViz) and the headless-browser helpers.

``mensi-sim viz [SCENARIO]`` serves ``mensi_sim/viz/app.py`` with ``solara run``;
``mensi_sim.viz.model.VizModel`` is the model it drives (a ``MentoringModel``
built from keyword parameters); ``mensi_sim.viz.browser`` starts the app on a
free port and drives Debian's Chromium through Playwright (tests, screenshots).
Only the command line (``mensi_sim.cli``) imports it.
"""
