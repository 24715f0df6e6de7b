"""The app's screens."""

from .echo import EchoScreen, ServedEchoScreen

__all__ = ["EchoScreen", "ServedEchoScreen"]
