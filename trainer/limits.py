"""The sizes echo-gru accepts: defined once, in trainer.config (which says why they are what
they are); importable from here too, as they always were."""

from __future__ import annotations

from .config import MAX_DELAY, MAX_HEADER, MAX_HIDDEN, MAX_SYMBOLS

__all__ = ["MAX_SYMBOLS", "MAX_HIDDEN", "MAX_DELAY", "MAX_HEADER"]
