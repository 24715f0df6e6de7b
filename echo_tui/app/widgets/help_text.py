"""What help (f1) says: the keys, what each view shows, what the status line measures."""

from __future__ import annotations

from ...core.describe import describe_alphabet, short_alphabet

INTRO = ("Each key you type is one step of a GRU, its memory kept from key to key. Under what you "
         "typed is its echo at the chosen delay.")


def help_sections(s, keys: dict[str, list[str]],
                  recent: list[str] = ()) -> list[tuple[str, list[tuple[str, str]]]]:
    """Help's sections for session `s` (None while loading); `keys`: what each bound key does
    (a binding's tooltip) -> the keys that do it, as the footer shows them; `recent`: the
    notice line's recent sentences, oldest first (help lists them whole, newest first)."""
    from ...core.served import served
    from ...training.slot import limits

    browser = served()
    train_key = "f8" if browser else "ctrl+t"  # a browser keeps ctrl+t (it opens a tab)
    alphabet = short_alphabet(s.alphabet) if s is not None else "symbols"
    reads = (f"{describe_alphabet(s.alphabet)}; "
             f"{'upper case folds to lower' if s.alphabet.case == 'fold' else 'case kept'}"
             if s is not None else "the model's symbols")
    return [
        ("Keys", [
            (alphabet, f"one GRU step each: {reads}"),
            ("other keys", "Enter, Tab and any key outside the alphabet: no step, kept as "
                           "typed, marked over the next typed key, named on the notice line"),
            ("paste", "every character in order, exactly as if typed"),
            *((" or ".join(k), what) for what, k in keys.items()),
            ("^p", "commands: reset, set delay, switch, "
                   f"{'compare' if browser else 'open or compare'} a model, views…"),
            ("click the slider", "set the delay"),
            ("mouse wheel", "scroll the tapes"),
        ]),
        ("The tapes", [
            ("·", "a blank: the model's 'nothing yet' (the first keys have no echo)"),
            ("␣", "a space (the text model reads it)"),
            ("red, underlined", "a mistake: not the key typed as many steps back as the "
                                "delay"),
            ("blue tint", "the model was unsure of its answer: light under 99% sure, deeper "
                          "under 90%, deepest under 50% (a tinted answer can be right)"),
            ("marks above", "keys that were no step, over the next typed key: the key "
                            "itself (↵ Enter, ⇥ Tab, ␣ space) or, circled, how many "
                            "(② two … ⑨ nine, ⋯ ten or more)"),
            ("backspace", "takes back the last step and the keys skipped after it"),
        ]),
        ("Every delay at once (f4)", [
            ("rows", "one per delay: that head's echo of the newest keys; ▶ marks the "
                     "current delay; mistakes and doubt as on the tapes"),
        ]),
        ("Memory over time (f2)", [
            ("rows", "hidden units over the newest keys: blue −1, grey 0, orange +1; each "
                     "line is two units, labelled upper/lower (▀ upper, its background "
                     "lower)"),
            ("which units", "all when they fit; else those the heads read most, kept "
                            "while you type; ^p 'Memory: choose…' picks those that vary "
                            "most now"),
        ]),
        ("Look inside (f5)", [
            ("the pick", "one answer at the current delay: the newest (it follows typing); "
                         "shift+← → or a click on a key moves it"),
            ("keys", "each earlier key shaded by how much it moved the answer (orange: "
                     "most): the gradient of the answer's log-probability with respect to "
                     "that key, over up to 128 keys; ▲ marks the strongest. A trained head "
                     "at delay d points d keys back; a half-trained one smears"),
            ("answer", "the head's top three answers and their probabilities, and the true "
                       "symbol: why an answer is tinted"),
            ("delays", "whether each delay's head is right at the picked step"),
        ]),
        ("Gates (f6)", [
            ("f6", "the memory view shows the hidden state, then each gate of the cell, "
                   "on the same units: 0 blue, ½ grey, 1 orange"),
            ("GRU", "update: how much of each unit is kept from the step before; reset: how "
                    "much of the old state the new candidate reads"),
            ("LSTM", "forget: how much of each unit's cell state is kept; input: how much "
                     "of the new candidate is written in"),
            ("plain RNN", "no gates: its whole state is rewritten at every step"),
            ("^p 'pin units…'", "show units by number first, kept while you type"),
            ("^p 'Export…'", "the stream's numbers to .npz, for NumPy"),
        ]),
        (f"Training ({train_key})", [
            ("form", "kind, alphabet, cell (gru, lstm, rnn), delay, hidden size from the "
                     "recipes, and the time they took where it was measured"),
            ("Tab, shift+Tab", "from field to field while the panel shows (from the tapes "
                               "too); the field with the keys is highlighted"),
            ("↑ ↓, ← →", "on a list: ↑ ↓ open it, then ↑ ↓ and Enter pick; ← → step its "
                         "value"),
            ("Enter", "starts a run, from any field (in an open list it picks); nothing "
                      "else does"),
            ("Esc", "cancels a run; else leaves the form: typing goes to the tapes"),
            ("by delay", "held-out accuracy of each delay's head at the last check, on a "
                         "log scale of the error (a row each from 90% to 99%, 99.9%, "
                         "99.99%): green passed the target, blue in training, orange next "
                         "in the curriculum, grey later"),
            ("worst", "the worst held-out accuracy of the delays in training, check by "
                      "check, on the same scale"),
            ("loss", "the training loss on a log scale from 0.001 to 10"),
            ("learning", "your text echoed by the model as it was at the last check"),
        ]),
        ("Compare mode", [
            ("start", "^p 'Compare with…' (a file, or gru, lstm, rnn for a shipped letters "
                      "model), or echo-tui --compare PATH|CELL"),
            ("a second model", "gets every key, paste, undo, reset and delay the model in use "
                               "gets; it must read the same alphabet"),
            ("tapes", "its echo at the same delay is the row under the first one's, "
                      "labelled by cell (gru, lstm, rnn) or 'vs'"),
            ("every delay", "its rows stand on the right, delay for delay: where one breaks "
                            "and the other holds shows at a glance"),
            ("status line", "a second one: its own acc and conf at this delay"),
            ("leaving", "^p 'Stop comparing': what you typed stays"),
        ]),
        ("Lessons", [  # echo_tui/lessons, docs/lessons.md
            ("start", "echo-tui --lesson NAME|PATH, or ^p 'Lessons…': a guided walk whose "
                      "panel above the tapes ticks each step's check as you act"),
            ("f7, f9", "the step before (its checks from then on); skip a step"),
        ]),
        *([("In a browser (echo-tui serve)", [
            ("f10", "ends this tab's session; the server and the other tabs go on (^q too, "
                    "but not in Firefox, where it quits the browser)"),
            ("f8", "the training panel, here in place of ctrl+t, which a browser keeps for "
                   "itself: " + training_here(limits())),
            ("files", "saving a trained model, opening or exporting a file by its path are "
                      "off: the file would be on the teacher's machine (the palette's shipped "
                      "models still open)"),
        ])] if browser else []),
        ("The screen's rows", [
            ("no room: …", "a view you opened that the terminal has no rows for is named on "
                           "the tapes' border (the training panel first, then look inside, "
                           "then the memory view); it shows once the terminal grows"),
        ]),
        ("The status line", [
            ("kind, cell", "fixed or variable; gru, lstm or rnn"),
            ("acc", "share of echoes at this delay that were right, over every step since "
                    "the reset that has a symbol to echo"),
            ("conf", "the model's mean probability for its own answers at this delay"),
            ("µs/step", "time the GRU took per step for the last key or paste"),
        ]),
        *([("Recent notices (newest first)", [("", said) for said in reversed(recent)])]
          if recent else []),
    ]


def training_here(bounds) -> str:
    """What a served session may train (`bounds`: served.TrainingLimits, or None when off)."""
    if bounds is None:
        return "training is off on this server"
    return (f"one run at a time on the server, {bounds.describe()} (the panel says when "
            "another tab is training)")
