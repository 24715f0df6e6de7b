"""Imported by the sessions' preloaded parent only (multiprocessing's forkserver imports the
modules it is told to preload; this one's import is the preloading: see serve_child)."""

from .child import preload

preload()
