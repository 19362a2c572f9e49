"""Reports built from run folders alone: terminal tables, markdown and self-contained HTML.

The API call that writes a run's report is `simbench.report` (simbench/api.py); this package
holds what it and the leaderboard render.
"""
