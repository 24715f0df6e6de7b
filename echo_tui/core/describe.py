"""How the app names things: alphabets and durations (counts, and text made inert: trainer.text)."""

from __future__ import annotations

from trainer.text import inert

SHORT_MOST = 24  # characters of a short alphabet name
PRESET_SHORT = {"letters": "a–z", "alnum": "a–z 0–9", "text": "ASCII"}
PRESET_LONG = {"letters": "letters a–z", "alnum": "letters a–z and digits 0–9",
               "text": "printable ASCII (letters of both cases, digits, space, punctuation)"}


def short_alphabet(alphabet) -> str:
    """A preset's short name ('a–z', 'ASCII'), or the symbols as runs ('a–f x–z')."""
    if alphabet.name in PRESET_SHORT:
        return PRESET_SHORT[alphabet.name]
    runs, syms, i = [], alphabet.symbols, 0
    while i < len(syms):
        j = i
        while j + 1 < len(syms) and ord(syms[j + 1]) == ord(syms[j]) + 1:
            j += 1
        runs.append(syms[i:j + 1] if j - i < 2 else f"{syms[i]}–{syms[j]}")
        i = j + 1
    text = " ".join(runs).replace("  ", " ␣ ")
    # a file's alphabet can be hundreds of scattered symbols: the status line has other news
    return text if len(text) <= SHORT_MOST else f"{text[:SHORT_MOST - 1]}… ({len(syms)} symbols)"


def describe_alphabet(alphabet) -> str:
    """'letters a–z', 'printable ASCII: …', or the runs when it is no preset."""
    return PRESET_LONG.get(alphabet.name, short_alphabet(alphabet))


def duration(seconds: float) -> str:
    """A step's time, in the unit that reads best."""
    if seconds < 1e-5:
        return f"{seconds * 1e6:.1f} µs"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    return f"{seconds * 1e3:.1f} ms"


# what each background job of the app is called when it fails: "loading the model failed: …"
JOBS = {"load": "loading the model", "save": "saving the model", "relay": "following the training",
        "feed": "feeding the keys", "compare": "loading the model to compare",
        "export": "exporting the stream"}


def failure_sentence(worker) -> str:
    """One line naming a failed worker's job and its error, for the notice line."""
    what = JOBS.get(worker.group, worker.name or "a background job")
    return f"{what} failed: {error_text(worker.error)}"


def error_text(error: BaseException) -> str:
    """'RuntimeError: boom' (or the kind alone), as one line of plain text."""
    return inert(f"{type(error).__name__}: {error}" if str(error) else type(error).__name__)


KEY_NAMES = {" ": "space", "\n": "Enter (↵)", "\r": "Enter (↵)", "\t": "Tab (⇥)",
             "\x1b": "Escape", "\ufffd": "a byte that is not UTF-8 (U+FFFD)"}


def key_name(ch: str) -> str:
    """A typed character as the notice line names it: 'é', 'Enter (↵)', 'ctrl+a', 'U+200B'."""
    if ch in KEY_NAMES:
        return KEY_NAMES[ch]
    if ch.isprintable():
        return repr(ch)
    if ord(ch) < 32:
        return f"ctrl+{chr(ord(ch) + 96)}"
    return f"U+{ord(ch):04X}"


def minutes_or_seconds(seconds: float) -> str:
    """A run's length as a person says it: '11 s', '1.4 min', '69 min'."""
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes = seconds / 60
    return f"{minutes:.1f} min" if minutes < 10 else f"{minutes:.0f} min"


def delay_range(delays) -> str:
    """'delay 4' (a fixed-delay model) or 'delays 0–8'."""
    return f"delay {delays[0]}" if len(delays) == 1 else f"delays {delays[0]}–{delays[-1]}"
