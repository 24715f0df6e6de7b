"""The app's screens."""

from .echo import EchoScreen

__all__ = ["EchoScreen"]
