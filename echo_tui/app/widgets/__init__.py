"""The app's widgets: each is a view of the echo screen's EchoSession, bound to it, redrawn when
it changes."""

from .delays import AllDelays
from .footer import KeysFooter
from .help import HelpScreen
from .inspect import InspectView
from .lines import NoticeLine, TextLine
from .memory import MemoryView
from .plots import TrainingPlots
from .prompt import PathPrompt
from .slider import DelaySlider
from .status import CompareStatus, StatusLine
from .tapes import Tapes
from .train_panel import TrainPanel

__all__ = ["AllDelays", "CompareStatus", "DelaySlider", "HelpScreen", "InspectView", "KeysFooter", "MemoryView", "NoticeLine",
           "PathPrompt",
           "StatusLine", "Tapes", "TextLine", "TrainingPlots", "TrainPanel"]
