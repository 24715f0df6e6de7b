"""The app's widgets: each is a view of the app's EchoSession, redrawn when it changes."""

from .help import HelpScreen
from .lines import TextLine
from .memory import MemoryView
from .slider import DelaySlider
from .tapes import Tapes

__all__ = ["DelaySlider", "HelpScreen", "MemoryView", "Tapes", "TextLine"]
