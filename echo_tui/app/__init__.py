"""The Textual app: the App (`app`), its screens (`screens/`), its widgets (`widgets/`), the
palette, compare mode, training followed from the screen, saving, and the terminal driver
(`terminal`, `hangup`). Its face is `create_app` and `run_app`.

Layer: may import compat, core, lessons, training and trainer; never serve, bench or textual-serve.
"""

from .app import EchoApp, create_app, run_app

__all__ = ["EchoApp", "create_app", "run_app"]
