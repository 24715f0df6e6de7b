"""The sweep's figure (matplotlib, the [plot] extra): trainability as a heat map over size and
max delay, a panel per cell, and capacity against recurrent parameters."""

from __future__ import annotations

from ..plots import CELL_COLOURS, _png, _pyplot
from .tables import capacity, trainability


def sweep_png(rows: list[dict], settings: dict) -> bytes:
    plt = _pyplot()
    train, cap = trainability(rows), capacity(rows)
    cells = [c for c in settings["cells"] if any(e["cell"] == c for e in train)]
    sizes, delays = sorted({e["size"] for e in train}), sorted({e["max_delay"] for e in train})
    by = {(e["cell"], e["size"], e["max_delay"]): e for e in train}
    fig, axes = plt.subplots(1, len(cells) + 1, squeeze=False,
                             figsize=(3.1 * len(cells) + 4.4, 3.6),
                             gridspec_kw={"width_ratios": [1] * len(cells) + [1.5]})
    for ax, cell in zip(axes[0], cells):
        grid = [[by[(cell, s, d)]["share"] if (cell, s, d) in by else float("nan")
                 for d in delays] for s in sizes]
        image = ax.imshow(grid, vmin=0, vmax=1, cmap="viridis", origin="lower", aspect="auto")
        for i, s in enumerate(sizes):
            for j, d in enumerate(delays):
                e = by.get((cell, s, d))
                if e is not None:
                    ax.text(j, i, f"{e['trained']}/{e['draws']}", ha="center", va="center",
                            color="white" if e["share"] < 0.6 else "black", fontsize=9)
        ax.set_xticks(range(len(delays)), [str(d) for d in delays])
        ax.set_yticks(range(len(sizes)),
                      [_size_label(cell, s, train, settings["by"]) for s in sizes], fontsize=8)
        ax.set_xlabel("max delay D")
        ax.set_title(f"{cell}: trainability")
    fig.colorbar(image, ax=axes[0][len(cells) - 1], fraction=0.08,
                 label="share of draws holding 0..D at 99%")
    ax = axes[0][-1]
    for cell in cells:
        pts = sorted((e["recurrent_parameters"], e["symbols"]) for e in cap if e["cell"] == cell)
        ax.plot([p for p, _ in pts], [s for _, s in pts], marker="o",
                color=CELL_COLOURS.get(cell), label=cell)
    ax.set_xscale("log")
    ticks = sorted({e["size"] for e in cap}) if settings["by"] == "params" else sorted(
        {e["recurrent_parameters"] for e in cap})
    ax.set_xticks(ticks, [f"{t:,}" for t in ticks])
    ax.minorticks_off()  # the log axis's own minor labels crowd the sizes out
    ax.set_xlabel("recurrent parameters (log scale)")
    ax.set_ylabel("symbols kept (largest delay held + 1)")
    ax.set_title("capacity: the best draw")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize="small")
    fig.suptitle(f"{settings['draws']} random draws per point, {settings['steps']:,} steps "
                 "each (letters; every delay 0..D at once)")
    fig.tight_layout()
    return _png(fig)


def _size_label(cell: str, size: int, train: list[dict], by: str) -> str:
    if by == "hidden":
        return f"hidden {size}"
    hidden = next(e["hidden"] for e in train if e["cell"] == cell and e["size"] == size)
    return f"{size:,} p\n(h {hidden})"
