"""The sizes echo-gru accepts, one set for training (echo-train, the app's panel) and loading.

A weights file that claims more is refused before anything is built from it: these bounds are
what keeps a crafted file from costing gigabytes. They are generous for the lesson (the text
alphabet has 95 symbols, the shipped models use hidden 256 and delays up to 32) and stated in
the README.
"""

from __future__ import annotations

MAX_SYMBOLS = 256  # symbols in an alphabet (the blank is one more)
MAX_HIDDEN = 4096  # units in the GRU
MAX_DELAY = 64  # the longest delay (fixed) or the largest max delay (variable)
MAX_HEADER = 1024 * 1024  # bytes of a weights file's JSON header (trainer/weights.py says why)
