"""A lesson's checks: `FIELD OPERATOR VALUE`, read from a `check:` line, held against what the
app publishes. Nothing here runs anything a file says: a check is a field name looked up in
FIELDS, an operator looked up in OPERATORS and a literal value.

    check: delay = 3
    check: typed contains "hello"
    check: view every-delay = open
    check: count undos >= 2

A field is a number, a text or one word of a few (a choice); each takes its own operators.
`count ...` fields read how much an action's count grew since the step began. A number the app
does not have now (no model compared, no answer picked) makes a check on it fail; a choice it
does not have reads as `none`, a text as empty.
"""

from __future__ import annotations

import difflib
import operator
import re
from dataclasses import dataclass
from typing import Callable

from trainer.text import inert

from .published import VIEWS, Published

NUMBER, TEXT, CHOICE = "number", "text", "choice"
OPERATORS: dict[str, Callable[[object, object], bool]] = {
    "=": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt,
    ">=": operator.ge, "contains": operator.contains}
TAKES = {NUMBER: ("=", "!=", "<", "<=", ">", ">="), TEXT: ("=", "!=", "contains"),
         CHOICE: ("=", "!=")}
MODEL_KINDS, CELLS = ("fixed", "variable"), ("gru", "lstm", "rnn")
OPEN = ("open", "shut")


@dataclass(frozen=True)
class Field:
    """One fact a check can read: its `name` as a check writes it, its kind, how it is read
    from a Published, what it means (docs/lessons.md lists them all), and for a choice the
    words it takes."""

    name: str
    kind: str
    read: Callable[[Published], object]
    about: str
    choices: tuple[str, ...] = ()
    counted: bool = False  # read as the growth since the step began


def _attr(name: str) -> Callable[[Published], object]:
    return lambda p: getattr(p, name)


def _max_delay(p: Published) -> int | None:
    return max(p.model_delays) if p.model_delays else None


def _view(view: str) -> Callable[[Published], str]:
    return lambda p: "open" if view in p.views else "shut"


def _pick_answer(p: Published) -> str | None:
    return None if p.pick_right is None else "right" if p.pick_right else "wrong"


VIEW_ABOUT = {"memory": "the memory view (f2)", "every-delay": "every delay at once (f4)",
              "inside": "look inside an answer (f5)",
              "gates": "the memory view showing a gate, not the state (f6)",
              "training": "the training panel (ctrl+t, f8)", "help": "help (f1)"}
_FIELDS = [
    Field("delay", NUMBER, _attr("delay"), "the delay in use (the slider's)"),
    Field("typed", TEXT, _attr("typed"), "what was typed since the last reset, as typed "
          "(Enter and keys outside the alphabet too)"),
    Field("steps", NUMBER, _attr("steps"), "steps of the network since the last reset (keys "
          "in the model's alphabet): the status line's steps"),
    Field("accuracy", NUMBER, _attr("accuracy"), "the status line's acc, in percent: right "
          "echoes at this delay since the reset (none before the first)"),
    Field("model name", TEXT, _attr("model_name"), "the model in use as the header names it "
          "(a file's name, e.g. \"text_delay.safetensors\")"),
    Field("model kind", CHOICE, _attr("model_kind"), "a fixed delay or variable delays",
          MODEL_KINDS),
    Field("model cell", CHOICE, _attr("model_cell"), "its recurrent cell", CELLS),
    Field("model alphabet", CHOICE, _attr("model_alphabet"), "what it reads (other: a "
          "file's own)", ("letters", "alnum", "text", "other")),
    Field("model hidden", NUMBER, _attr("model_hidden"), "its hidden size"),
    Field("model max-delay", NUMBER, _max_delay, "the longest delay it has"),
    Field("model source", CHOICE, _attr("model_source"), "where it came from: shipped, a "
          "file opened, or trained here in the panel", ("shipped", "file", "trained")),
    *[Field(f"view {v}", CHOICE, _view(v), VIEW_ABOUT[v], OPEN) for v in VIEWS],
    Field("compare cell", CHOICE, _attr("compare_cell"), "compare mode's second model's cell "
          "(none: not comparing)", CELLS + ("none",)),
    Field("compare name", TEXT, _attr("compare_name"), "its file's name, as its status line "
          "shows it"),
    Field("compare hidden", NUMBER, _attr("compare_hidden"), "its hidden size"),
    Field("compare accuracy", NUMBER, _attr("compare_accuracy"), "its acc at this delay, in "
          "percent"),
    Field("pick step", NUMBER, _attr("pick_step"), "look inside's picked answer: its step (1 "
          "for the first key since the reset), as the view's title says"),
    Field("pick delay", NUMBER, _attr("pick_delay"), "the delay it was answered at"),
    Field("pick back", NUMBER, _attr("pick_back"), "how many keys back the key that moved it "
          "most is (the ▲)"),
    Field("pick answer", CHOICE, _pick_answer, "whether it is the true symbol (none: no "
          "answer picked)", ("right", "wrong", "none")),
    Field("training state", CHOICE, _attr("training_state"), "the panel's newest run: none "
          "yet (idle), running, or how it ended",
          ("idle", "running", "finished", "cancelled", "failed")),
    Field("training checks", NUMBER, _attr("training_checks"), "its checks so far (each "
          "redraws the plots and the learning row)"),
    Field("training kind", CHOICE, _attr("training_kind"), "what it trains", MODEL_KINDS
          + ("none",)),
    Field("training alphabet", CHOICE, _attr("training_alphabet"), "its alphabet",
          ("letters", "alnum", "text", "none")),
    Field("training cell", CHOICE, _attr("training_cell"), "its cell", CELLS + ("none",)),
    Field("training max-delay", NUMBER, _attr("training_max_delay"), "the longest delay it "
          "trains (a fixed run: its delay)"),
    Field("training hidden", NUMBER, _attr("training_hidden"), "its hidden size"),
    Field("training curriculum", NUMBER, _attr("training_curriculum"), "the longest delay "
          "in training at its last check (the curriculum widens it)"),
    Field("training accuracy", NUMBER, _attr("training_accuracy"), "held-out accuracy at "
          "its last check, in percent, the worst delay in training"),
    Field("count keys", NUMBER, _attr("count_keys"), "keys typed or pasted (each character)",
          counted=True),
    Field("count undos", NUMBER, _attr("count_undos"), "undos (backspace)", counted=True),
    Field("count resets", NUMBER, _attr("count_resets"), "resets (ctrl+r)", counted=True),
    Field("count delay-changes", NUMBER, _attr("count_delay_changes"), "delay changes (← →, "
          "the slider, the palette)", counted=True),
    Field("count model-switches", NUMBER, _attr("count_model_switches"), "models taking "
          "over (f3, a file, a model trained here)", counted=True),
]
FIELDS: dict[str, Field] = {f.name: f for f in _FIELDS}

EXAMPLE = "check: delay = 3"
_SPLIT = re.compile(r"^(?P<field>.*?)\s*(?P<op>!=|<=|>=|=|<|>|(?<![\w-])contains(?![\w-]))"
                    r"\s*(?P<value>.*)$", re.IGNORECASE)
_NUMBER = re.compile(r"^-?\d{1,12}(\.\d{1,6})?$")
_ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "t": "\t"}


class CheckError(ValueError):
    """What is wrong with one check, in words (the reader adds the file and line)."""


@dataclass(frozen=True)
class Check:
    """`field op value`, as parsed; `text` is how the lesson panel shows it."""

    field: Field
    op: str
    value: object
    text: str

    def holds(self, now: Published, start: Published) -> bool:
        """Whether it holds on what the app publishes `now` (`start`: when the step began,
        which a `count ...` field reads its growth from)."""
        value = self.field.read(now)
        if self.field.counted:
            value = value - self.field.read(start)
        if value is None:
            if self.field.kind == NUMBER:
                return False  # nothing to compare: no model compared, no answer picked
            value = "none" if self.field.kind == CHOICE else ""
        if self.op == "contains":
            return self.value in value
        return OPERATORS[self.op](value, self.value)


def parse_check(body: str) -> Check:
    """The check written after `check:`; a CheckError says what is wrong with it."""
    body = body.strip()
    if not body:
        raise CheckError(f"the check is empty: write one as '{EXAMPLE}'")
    split = _SPLIT.match(body)
    if split is None:
        raise CheckError(f"no operator in the check '{inert(body)}': use "
                         f"{', '.join(OPERATORS)}, as in '{EXAMPLE}'")
    name = " ".join(split["field"].lower().split())
    op, written = split["op"].lower(), split["value"].strip()
    if not name:
        raise CheckError(f"the check '{inert(body)}' names no field before '{op}'")
    field = FIELDS.get(name)
    if field is None:
        raise CheckError(unknown_field(name))
    if op not in TAKES[field.kind]:
        raise CheckError(f"'{name}' takes {' or '.join(TAKES[field.kind])}, not '{op}'")
    if not written:
        raise CheckError(f"the check '{inert(body)}' has no value after '{op}'")
    if op == "=" and written.startswith("="):
        raise CheckError(f"write '=' for equal, not '==': '{inert(body)}'")
    value = parse_value(field, written)
    shown = f'"{inert(value)}"' if field.kind == TEXT else written.lower()
    return Check(field, op, value, f"{name} {op} {shown}")


def unknown_field(name: str) -> str:
    near = difflib.get_close_matches(name, FIELDS, n=1, cutoff=0.6)
    hint = f"did you mean '{near[0]}'?" if near else "docs/lessons.md lists the fields"
    return f"unknown check field '{inert(name)}' ({hint})"


def parse_value(field: Field, written: str) -> object:
    """The value a check compares with, as its field's kind reads it."""
    if field.kind == NUMBER:
        if not _NUMBER.match(written):
            raise CheckError(f"'{field.name}' is a number, not '{inert(written)}'")
        return float(written) if "." in written else int(written)
    if field.kind == CHOICE:
        word = written.lower()
        if word not in field.choices:
            raise CheckError(f"'{field.name}' is one of {', '.join(field.choices)}, not "
                             f"'{inert(written)}'")
        return word
    return quoted(field, written)


def quoted(field: Field, written: str) -> str:
    """A text value: in double quotes, with \\" \\\\ \\n \\t as the only escapes."""
    if not written.startswith('"'):
        raise CheckError(f"'{field.name}' takes a text in double quotes, as in "
                         f"{field.name} contains \"hello\": not {inert(written)}")
    out, k = [], 1
    while k < len(written):
        ch = written[k]
        if ch == '"':
            rest = written[k + 1:].strip()
            if rest:
                raise CheckError(f"'{inert(rest)}' follows the quoted text of '{field.name}'")
            return "".join(out)
        if ch == "\\":
            nxt = written[k + 1:k + 2]
            if nxt not in _ESCAPES:
                raise CheckError(f"'\\{inert(nxt)}' is no escape in a quoted text: "
                                 "use \\\" \\\\ \\n or \\t")
            out.append(_ESCAPES[nxt])
            k += 2
            continue
        out.append(ch)
        k += 1
    raise CheckError(f"the text {inert(written)} has no closing quote")
