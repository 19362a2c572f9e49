"""Teachability map: per built-in preference, whether a model can teach it to itself with
SDPO before anyone spends a long run on it (issue 12, item 1).

`run.teachability` does the work (`simbench.teachability` and the CLI's `simbench teachability` wrap it);
`rows` holds the pure row logic, `measure` the model passes, `report` the md/json/png.
"""
