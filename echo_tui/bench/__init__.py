"""The app's benchmarks and the scripted tabs: `python -m echo_tui.bench` (the session, the app,
the views, training in the panel; `--long`, `--lesson`), `python -m echo_tui.bench.serve` (a
room under load), and `room`, the scripted tabs the serve tests share. Not part of the product:
what needs a test-only package (`room`, `serve`: pyte) is left out of the wheel.

Layer: may import anything; nothing in the product imports it (only tests do).
"""
