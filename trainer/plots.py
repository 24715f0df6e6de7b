"""PNG figures (matplotlib, an optional extra: `pip install '.[plot]'`), drawn to bytes
so the caller writes them atomically."""

from __future__ import annotations

import io

CELL_COLOURS = {"gru": "#1f77b4", "lstm": "#2ca02c", "rnn": "#d62728"}


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # no display needed, and none is opened
    from matplotlib import pyplot

    return pyplot


def _png(fig) -> bytes:
    """`fig` as PNG bytes, and closed."""
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=100)
    _pyplot().close(fig)
    return out.getvalue()


def compare_png(runs, max_delay: int, budget: str) -> bytes:
    """Accuracy against delay, one panel per hidden size, one line per cell, on a linear axis
    from 0 to 100% (chance is 1/27), the threshold dashed."""
    from matplotlib.ticker import MaxNLocator

    from .compare import THRESHOLD

    plt = _pyplot()
    sizes = sorted({r.hidden for r in runs})
    fig, axes = plt.subplots(1, len(sizes), figsize=(3.2 * len(sizes) + 0.8, 3.6), sharey=True,
                             squeeze=False)
    for ax, h in zip(axes[0], sizes):
        for r in (r for r in runs if r.hidden == h and r.accuracy):
            ax.plot(range(len(r.accuracy)), [100 * a for a in r.accuracy], marker=".",
                    color=CELL_COLOURS.get(r.cell), label=r.cell)
        ax.axhline(100 * THRESHOLD, color="grey", linestyle="--", linewidth=0.8)
        ax.set_title(f"hidden {h}")
        ax.set_xlabel("delay")
        ax.set_xlim(0, max_delay)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylim(0, 100)
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("held-out accuracy (%)")
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="center right")
    fig.suptitle(f"Accuracy per delay after {budget} of training (letters; dashed: "
                 f"{100 * THRESHOLD:g}%)")
    fig.tight_layout(rect=(0, 0, 1 - 0.7 / fig.get_figwidth(), 1))  # room for the legend
    return _png(fig)


def curves_png(training: dict) -> bytes:
    """Held-out accuracy (the worst delay) against training seconds, for each recipe and its
    baseline on the same axes: one panel per kind. The error is on a log scale (99%, 99.9%,
    99.99% evenly spaced), so the last nines, which take the time, are visible; so are the
    seconds, so a run of seconds and one of minutes both show whole."""
    plt = _pyplot()
    kinds = list(training)
    fig, axes = plt.subplots(1, len(kinds), figsize=(5.2 * len(kinds), 3.8), squeeze=False)
    for ax, kind in zip(axes[0], kinds):
        for side, colour in (("ours", "#1f77b4"), ("baseline", "#d62728")):
            run = training[kind][side]
            curve = run.get("curve") or []
            seconds = [max(s, 1e-3) for s, _ in curve]
            error = [max(1 - h, 1e-6) for _, h in curve]
            ax.plot(seconds, error, color=colour, marker=".", markersize=3, label=run["name"])
        ax.set_xscale("log")  # seconds to minutes: each recipe's whole course in view
        ax.set_yscale("log")
        ax.set_ylim(1e-5, 1)
        ax.invert_yaxis()  # better is up
        ax.set_yticks([1, 0.1, 0.01, 1e-3, 1e-4, 1e-5],
                      ["0%", "90%", "99%", "99.9%", "99.99%", "99.999%"])
        ax.set_xlabel("training seconds (checks left out; log scale)")
        ax.set_title(f"{kind}: held-out accuracy, worst delay")
        ax.grid(alpha=0.3)
        ax.legend(loc="lower right", fontsize="small")
    fig.tight_layout()
    return _png(fig)
