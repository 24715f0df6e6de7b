"""What `echo-tui` and `echo-tui serve` check of their arguments before they start: the model
loads, the delay is one of its own, a compared model reads the same alphabet."""

from __future__ import annotations


def check(weights: str | None, delay: int | None,
          compare: str | None = None) -> tuple[int, str] | None:
    """(exit code, one-line message) when the arguments cannot work, else None.

    Only runs when --weights, --delay or --compare is given: it loads the models, so the
    default launch skips it and draws its first frame before torch has even been imported.
    """
    from trainer import WeightsError, load_model, shipped_weights

    from .describe import short_alphabet
    from .models import COMPARISON, comparison_choice
    from .session import EchoSession

    if weights is None:
        weights = shipped_weights(COMPARISON["gru"] if compare in COMPARISON else "text_delay")
    try:
        model = load_model(weights)
        compared = (load_model(comparison_choice(compare).resolved_path())
                    if compare is not None else None)
    except WeightsError as e:
        return 1, str(e)
    try:
        EchoSession(model, delay, undo_steps=0, keep_steps=1)
    except ValueError as e:
        return 2, f"--delay {delay}: {e}"
    if compared is not None and compared.alphabet != model.alphabet:
        return 2, (f"--compare {compare}: it reads {short_alphabet(compared.alphabet)}, the "
                   f"model in use {short_alphabet(model.alphabet)}; compare needs the same alphabet")
    return None
