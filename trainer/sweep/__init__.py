"""`echo-train sweep`: trainability and capacity of the cells, measured as Collins, Sohl-Dickstein
and Sussillo (2017) and Jozefowicz, Zaremba and Sutskever (2015) measured them: many trials,
each a random draw of the training settings, run by Ray Tune on this machine or a cluster.

- `space`: the grid (cells, sizes, max delays), the draws' ranges (the one place they live)
  and the trials' specs;
- `trial`: one spec trained and checked, as a row (no Ray: `echo-train compare` runs the same);
- `ledger`: a sweep's folder, its plan and its rows, appended as trials finish (resume reads it);
- `tables`: trainability (with Wilson intervals) and capacity, from rows;
- `figures`: the heat maps and the capacity plot (matplotlib);
- `engine`: the trials through Ray Tune, with progress;
- `recipes`: a shipped recipe over seeds, end to end; `bench`: Ray's own costs.

Only `engine` and `bench` import Ray, and only when called: the rest is plain Python, so the
tables, the compare command and the tests of them need no extra.
"""
