"""What the app's benchmarks share: their median and percentile (of the sorted values, the one
at or above the rank: a measured time, never one between two), and the shipped weights, found
when first asked for (the app's first frame is measured before torch loads)."""

from __future__ import annotations


def median(values) -> float:
    return percentile(values, 0.5)


def percentile(values, q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def shipped(name: str):
    """The path of the shipped weights `name`."""
    from trainer import shipped_weights

    return shipped_weights(name)
