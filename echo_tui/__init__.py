"""echo-gru's terminal app: every keystroke through a GRU, its delayed echo under what you typed.

`EchoSession` (the streaming core, no Textual) and `create_app` (the Textual app) load lazily:
`from echo_tui import create_app` must not import torch, or the first frame would wait for it.
"""

__all__ = ["EchoSession", "create_app"]


def __getattr__(name):
    if name == "EchoSession":
        from .core.session import EchoSession

        return EchoSession
    if name == "create_app":
        from .app.app import create_app

        return create_app
    raise AttributeError(f"module 'echo_tui' has no attribute {name!r}")
