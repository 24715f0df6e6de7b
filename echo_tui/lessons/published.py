"""What the app publishes for lessons: every fact a lesson's check may read, in one value.

The app builds a `Published` where it already knows each fact (the screen, its views, the
training panel, compare mode) and hands it to the lesson in progress; a check reads nothing
else. A fact the app does not have now (no model compared, no answer picked, no run) is None.

The `count_*` facts only grow, from the start of the app: a check reads how much each grew
since its step began ("did the learner undo"), which state alone cannot say.
"""

from __future__ import annotations

from dataclasses import dataclass

# the views a check may ask about, as a check names them (`view every-delay = open`)
VIEWS = ("memory", "every-delay", "inside", "gates", "training", "help")


@dataclass(frozen=True)
class Published:
    """The app as a lesson sees it now. Accuracies are percentages (0-100)."""

    # the model in use
    delay: int | None = None  # the delay shown (the slider's)
    model_name: str = ""  # as the header shows it: a file's name ("text_delay.safetensors")
    model_kind: str | None = None  # "fixed" or "variable"
    model_cell: str | None = None  # "gru", "lstm" or "rnn"
    model_alphabet: str | None = None  # "letters", "alnum", "text", or "other" (a file's own)
    model_hidden: int | None = None
    model_delays: tuple[int, ...] = ()  # the delays it has
    model_source: str | None = None  # "shipped", "file" or "trained" (here, in the panel)
    # the stream since the last reset
    typed: str = ""  # as typed: Enter and keys outside the alphabet too
    steps: int = 0  # steps of the network (keys in the alphabet)
    accuracy: float | None = None  # the status line's acc at this delay; None before any
    # the views open (VIEWS); "gates": the memory view shows a gate, not the state
    views: frozenset[str] = frozenset()
    # compare mode: the second model, or None
    compare_cell: str | None = None
    compare_name: str = ""
    compare_hidden: int | None = None
    compare_accuracy: float | None = None
    # look inside (f5): the picked answer, while the view shows one
    pick_step: int | None = None  # 1 for the first key since the reset, as the view's title
    pick_delay: int | None = None
    pick_back: int | None = None  # how many keys back the key that moved it most is
    pick_right: bool | None = None  # the answer is the true symbol
    # the training panel's newest run
    training_state: str = "idle"  # idle, running, finished, cancelled, failed
    training_checks: int = 0  # its checks so far
    training_kind: str | None = None
    training_alphabet: str | None = None
    training_cell: str | None = None
    training_max_delay: int | None = None  # the longest delay it trains (fixed: its delay)
    training_hidden: int | None = None
    training_curriculum: int | None = None  # the longest delay in training at the last check
    training_accuracy: float | None = None  # held-out, worst delay in training, last check
    # actions counted since the app started (never going down): a check reads the growth
    count_keys: int = 0  # steps fed (typed or pasted)
    count_undos: int = 0
    count_resets: int = 0
    count_delay_changes: int = 0
    count_model_switches: int = 0  # a new model in use (f3, a file, a trained one)
