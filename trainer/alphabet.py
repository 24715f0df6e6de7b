"""Symbol ids: 0 is the blank (no output), the alphabet's symbols are 1..n."""

from __future__ import annotations

import string

import torch

N = 26  # the seed's alphabet size: the letters a-z
BLANK = " "
ALPHABETS = {
    "letters": string.ascii_lowercase,
    "alnum": string.ascii_lowercase + string.digits,
}


def idx_to_onehot(x: torch.Tensor, k: int = N + 1) -> torch.Tensor:
    """One-hot float encoding of integer ids, shape x.shape + (k,), as in the seed."""
    return torch.nn.functional.one_hot(x.long(), k).float()


class Alphabet:
    """Maps text to symbol ids and back; upper case folds to lower case."""

    def __init__(self, symbols: str):
        problem = alphabet_problem(symbols)
        if problem:
            raise ValueError(f"alphabet {symbols!r} {problem}")
        self.symbols = symbols
        self._ids = {ch: i for i, ch in enumerate(symbols, start=1)}

    @classmethod
    def named(cls, name: str) -> "Alphabet":
        if name not in ALPHABETS:
            raise ValueError(f"unknown alphabet {name!r}; choose one of: {', '.join(ALPHABETS)}")
        return cls(ALPHABETS[name])

    @property
    def name(self) -> str:
        """The preset's name where there is one, else the symbols themselves."""
        return next((k for k, v in ALPHABETS.items() if v == self.symbols), self.symbols)

    def __len__(self) -> int:
        return len(self.symbols)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Alphabet) and other.symbols == self.symbols

    def __repr__(self) -> str:
        return f"Alphabet({self.symbols!r})"

    def id_of(self, ch: str) -> int | None:
        """The id of one typed character, or None when it is outside the alphabet."""
        return self._ids.get(ch) or self._ids.get(ch.lower())

    def encode(self, text: str) -> list[int]:
        ids = []
        for ch in text:
            i = self.id_of(ch)
            if i is None:
                raise ValueError(f"{ch!r} is not in the alphabet {self.symbols!r}")
            ids.append(i)
        return ids

    def decode(self, ids) -> str:
        """Ids back to text; 0 (and anything out of range) becomes the blank ' '."""
        syms = self.symbols
        return "".join(syms[i - 1] if 0 < i <= len(syms) else BLANK for i in ids)


def alphabet_problem(symbols: str) -> str | None:
    """Why `symbols` cannot be an alphabet, or None when it can."""
    if not symbols:
        return "is empty"
    if len(set(symbols)) != len(symbols):
        return "has duplicate symbols"
    if BLANK in symbols:
        return "contains the blank ' '"
    if any(not ch.isprintable() or ch != ch.lower() for ch in symbols):
        return "must hold printable lower-case symbols only"
    return None
