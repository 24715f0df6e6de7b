"""How the app names things: alphabets, counts and durations."""

from __future__ import annotations

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
    return " ".join(runs).replace("  ", " ␣ ")


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


def count(n: int, noun: str) -> str:
    """'1 step', '2,048 steps': the noun plural unless there is exactly one."""
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"
