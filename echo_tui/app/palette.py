"""The command palette's own entries (ctrl+p), beside Textual's: what the app and its echo
screen can do, worded for the palette."""

from __future__ import annotations

from functools import partial
from typing import Iterable

from textual.app import SystemCommand

from trainer.text import count

from ..core.models import COMPARISON
from ..core.models import SHIPPED_NAMES, ModelChoice
from ..core.served import served


WHY_NO_COMPARISON = ("the shipped comparison models read letters a–z, the model in use another "
                     "alphabet: f3 to a letters model, then compare")


def palette_commands(app) -> Iterable[SystemCommand]:
    """The entries for `app` (an EchoApp) as it is now: the delays its model has, the
    comparison models when it reads letters, "Stop comparing" while comparing."""
    yield SystemCommand("Reset", "Forget the stream and the GRU's memory (ctrl+r)",
                        app.main.action_reset)
    if app.session is not None:
        # padded with spaces, which sort before digits: the palette lists its entries by
        # title, and "Set delay 10" came before "Set delay 2"
        width = len(str(app.session.delays[-1]))
        for d in app.session.delays:
            yield SystemCommand(f"Set delay {d:>{width}}",
                                f"Echo each key {count(d, 'step')} later",
                                partial(app.main.set_delay, d),
                                discover=len(app.session.delays) <= 17)
    yield SystemCommand("Switch model", "The next model: shipped text, letters variable, "
                        "letters fixed, and your own (f3)", app.action_switch_model)
    browser = served()  # no file of the teacher's machine is offered to a browser's tab
    if not browser:
        yield SystemCommand("Open weights…", "Load a weights file made by echo-train, keeping "
                            "what you typed", app.action_open_weights)
    yield SystemCommand("Compare with…", "A second model gets every key you type; its "
                        "echo is drawn under this one's (a file, or gru, lstm, rnn)",
                        app.action_compare_with)
    if app.session is not None and app.session.alphabet.name == "letters":
        for cell, name in COMPARISON.items():
            yield SystemCommand(f"Compare with the shipped {cell.upper()}",
                                f"{SHIPPED_NAMES[name]}: letters, delays 0–4, as many "
                                "recurrent parameters as the other cells", partial(
                                    app.compare_with, ModelChoice.shipped(name)))
    elif app.session is not None:  # the entries stay findable, saying why they cannot act
        yield SystemCommand("Compare with the shipped RNN, LSTM or GRU",
                            "They read letters a–z, this model another alphabet: f3 to a "
                            "letters model first", partial(app.main.say, WHY_NO_COMPARISON))
    if app.main.compared is not None:
        yield SystemCommand("Stop comparing", "Back to one model; what you typed stays",
                            app.action_stop_comparing)
    yield SystemCommand("Toggle memory view", "Show or hide the memory over time (f2)",
                        app.main.action_toggle_memory)
    yield SystemCommand("Memory: choose the units that vary most now",
                        "The memory view keeps its units while you type; this picks those "
                        "that vary most over the keys on screen (after any pinned), and keeps "
                        "them", app.main.choose_varying_units)
    yield SystemCommand("Look inside an answer", "Which past key moved it most, its top "
                        "answers, every delay's verdict (f5; shift+← → picks)",
                        app.main.action_toggle_inspect)
    yield SystemCommand("Memory: the state, then each gate", "What the memory view colours: "
                        "the hidden state, a GRU's update and reset gates, an LSTM's forget "
                        "and input gates (f6)", app.main.action_cycle_gates)
    yield SystemCommand("Memory: pin units…", "Show these units first, by number, and keep "
                        "them while you type", app.main.ask_pinned_units)
    if not browser:
        yield SystemCommand("Export the stream to .npz…", "The symbols, hidden states, gates, "
                            "every head's answers and the picked answer's look-back, for NumPy",
                            app.main.ask_export)
    yield SystemCommand("Every delay at once", "Each delay's echo in its own row, or the "
                        "tapes (f4)", app.main.action_toggle_delays)
    yield SystemCommand("Train a model…", "Train one here and watch it learn; it takes over "
                        f"when done ({'f8' if browser else 'ctrl+t'})",
                        app.main.action_toggle_train)
    from .screens.lessons import lesson_commands

    yield from lesson_commands(app)

