"""Symbol ids: 0 is the blank (no output), the alphabet's symbols are 1..n.

The blank is no symbol, so it must never look like one. The seed writes it as ' ', which is fine
while the alphabet has no space; an alphabet that holds the space (`text`) writes it as '·'.
"""

from __future__ import annotations

import string

import torch

N = 26  # the seed's alphabet size: the letters a-z
BLANK = " "  # how the blank is written for alphabets without a space (the seed's way)
BLANK_BESIDE_SPACE = "·"  # ... and for alphabets with one (U+00B7, not a printable-ASCII symbol)
FOLD, EXACT = "fold", "exact"  # case rules: upper case folds to lower, or is its own symbol
PRINTABLE_ASCII = "".join(chr(c) for c in range(32, 127))  # space through '~', in code order
ALPHABETS = {  # name -> (symbols, case rule)
    "letters": (string.ascii_lowercase, FOLD),
    "alnum": (string.ascii_lowercase + string.digits, FOLD),
    "text": (PRINTABLE_ASCII, EXACT),
}


def idx_to_onehot(x: torch.Tensor, k: int = N + 1) -> torch.Tensor:
    """One-hot float encoding of integer ids, shape x.shape + (k,), as in the seed."""
    return torch.nn.functional.one_hot(x.long(), k).float()


class Alphabet:
    """Maps text to symbol ids and back, under a case rule (`fold`: 'A' reads as 'a')."""

    def __init__(self, symbols: str, case: str | None = None):
        case = default_case(symbols) if case is None else case
        problem = alphabet_problem(symbols, case)
        if problem:
            raise ValueError(f"alphabet {symbols!r} {problem}")
        self.symbols = symbols
        self.case = case
        self.blank = BLANK_BESIDE_SPACE if " " in symbols else BLANK
        self._ids = {ch: i for i, ch in enumerate(symbols, start=1)}
        self._fold = case == FOLD

    @classmethod
    def named(cls, name: str) -> "Alphabet":
        if name not in ALPHABETS:
            raise ValueError(f"unknown alphabet {name!r}; choose one of: {', '.join(ALPHABETS)}")
        return cls(*ALPHABETS[name])

    @property
    def name(self) -> str:
        """The preset's name where there is one, else the symbols themselves."""
        return next((k for k, v in ALPHABETS.items() if v == (self.symbols, self.case)),
                    self.symbols)

    def __len__(self) -> int:
        return len(self.symbols)

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Alphabet) and other.symbols == self.symbols
                and other.case == self.case)

    def __hash__(self) -> int:
        return hash((self.symbols, self.case))

    def __repr__(self) -> str:
        return f"Alphabet({self.symbols!r}, case={self.case!r})"

    def id_of(self, ch: str) -> int | None:
        """The id of one typed character, or None when it is outside the alphabet."""
        i = self._ids.get(ch)
        if i is None and self._fold:
            i = self._ids.get(ch.lower())
        return i

    def encode(self, text: str) -> list[int]:
        ids = []
        for ch in text:
            i = self.id_of(ch)
            if i is None:
                raise ValueError(f"{ch!r} is not in the alphabet {self.symbols!r}")
            ids.append(i)
        return ids

    def decode(self, ids) -> str:
        """Ids back to text; 0 (and anything out of range) becomes `blank`."""
        syms, blank = self.symbols, self.blank
        return "".join(syms[i - 1] if 0 < i <= len(syms) else blank for i in ids)


def default_case(symbols: str) -> str:
    """`fold` for symbols with no upper-case letter (the seed's letters), else `exact`."""
    return FOLD if symbols == symbols.lower() else EXACT


def alphabet_problem(symbols: str, case: str = FOLD) -> str | None:
    """Why `symbols` cannot be an alphabet under `case`, or None when it can."""
    if not isinstance(symbols, str) or not symbols:
        return "is empty"
    if case not in (FOLD, EXACT):
        return f"has the case rule {case!r}, expected {FOLD!r} or {EXACT!r}"
    if len(set(symbols)) != len(symbols):
        return "has duplicate symbols"
    if BLANK_BESIDE_SPACE in symbols:
        return f"contains the blank {BLANK_BESIDE_SPACE!r}"
    if any(not (ch.isprintable() and len(ch) == 1) for ch in symbols):
        return "must hold printable symbols only"
    if case == FOLD and symbols != symbols.lower():
        return "has upper-case symbols, which its case rule 'fold' reads as lower case"
    return None
