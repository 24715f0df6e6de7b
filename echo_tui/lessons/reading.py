"""Reading a lesson file: Markdown with a title, an introduction and steps, each step a few
lines of text and its `check:` lines (docs/lessons.md).

    # Memory and delay

    What this lesson is about, for the learner.

    ## Type a sentence

    Type your name. Under it, the echo: the same keys, 8 steps later.

    check: steps >= 12

A file that is not a lesson is refused in one sentence naming the file, the line and what is
wrong (`LessonError`). Every text kept from a file is inert: control characters are written as
escapes, and the app shows it as plain text (no markup).
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from trainer.text import inert

from .checks import EXAMPLE, Check, CheckError, parse_check

MAX_BYTES = 64 * 1024  # a lesson is a few kilobytes: more is a wrong file
MAX_STEPS = 40
MAX_CHECKS = 8  # in one step
MAX_TITLE = 80  # characters of the lesson's or a step's title
SHIPPED_DIR = Path(__file__).parent / "shipped"
SHIPPED_LESSONS = ("memory-and-delay", "where-memory-breaks", "watch-it-learn")

_HEADING = re.compile(r"^(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")  # as CommonMark
_CHECK = re.compile(r"^\s*check\s*:(.*)$", re.IGNORECASE)
_ITEM = re.compile(r"^\s*(?:[-*+]|\d{1,3}[.)])\s")  # a list item starts its own line


class LessonError(ValueError):
    """A file that is not a lesson: one sentence naming it, the line and what is wrong."""


@dataclass(frozen=True)
class Step:
    """One step: its title, its text as paragraphs (inert), its checks, and the line of its
    heading (for the tests' and the teacher's sake)."""

    title: str
    text: tuple[str, ...]
    checks: tuple[Check, ...]
    line: int


@dataclass(frozen=True)
class Lesson:
    """A lesson as read: `name` is how the app and its errors call the file."""

    name: str
    title: str
    intro: tuple[str, ...]
    steps: tuple[Step, ...]


def shipped_path(name: str) -> Path:
    return SHIPPED_DIR / f"{name}.md"


def find_lesson(given: str) -> Lesson:
    """`--lesson NAME|PATH`: a shipped lesson by its name (unless a file of that name is
    here), else the lesson file at the path."""
    if given in SHIPPED_LESSONS and not Path(given).exists():
        return read_lesson(shipped_path(given), name=given)
    path = Path(given).expanduser()
    if not path.exists() and os.sep not in given and not given.endswith(".md"):
        raise LessonError(f"no lesson '{inert(given)}': the shipped lessons are "
                          f"{', '.join(SHIPPED_LESSONS)}, or give a lesson file's path")
    return read_lesson(path)


def read_lesson(path: str | Path, name: str | None = None) -> Lesson:
    """The lesson in the file at `path`, or a LessonError: a file too large, not a regular
    file, not UTF-8, or not a lesson. `name` (default: the path as given) names it."""
    path = Path(path)
    name = inert(name if name is not None else str(path))
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise LessonError(f"{name}: no such lesson file") from None
    except OSError as e:
        raise LessonError(f"{name}: cannot be read ({inert(e.strerror or e)})") from None
    if stat.S_ISDIR(info.st_mode):
        raise LessonError(f"{name}: is a directory, not a lesson file")
    if not stat.S_ISREG(info.st_mode):  # a pipe or a device could block or never end
        raise LessonError(f"{name}: is not a regular file")
    if info.st_size > MAX_BYTES:
        raise LessonError(too_large(name, info.st_size))
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_BYTES + 1)  # it may have grown since
    except OSError as e:
        raise LessonError(f"{name}: cannot be read ({inert(e.strerror or e)})") from None
    if len(data) > MAX_BYTES:
        raise LessonError(too_large(name, len(data)))
    return parse_lesson(decode(name, data), name)


def too_large(name: str, size: int) -> str:
    return (f"{name}: is {size:,} bytes, too large for a lesson (at most {MAX_BYTES:,}): "
            "is it the right file?")


def decode(name: str, data: bytes) -> str:
    """`data` as UTF-8 text (a leading byte-order mark dropped), or the line where it is not."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[:e.start].count(b"\n") + 1
        raise LessonError(f"{name}, line {line}: is not UTF-8 text (byte "
                          f"0x{data[e.start]:02x}): save the lesson as UTF-8") from None


def parse_lesson(text: str, name: str = "the lesson") -> Lesson:
    """The lesson written in `text`; `name` names it in a LessonError."""
    return _Reader(name).read(text)


class _Reader:
    """Reads a lesson line by line: the title, then the introduction, then each step."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.title: str | None = None
        self.intro: list[str] = []
        self.steps: list[dict] = []

    def fail(self, line: int, what: str) -> LessonError:
        return LessonError(f"{self.name}, line {line}: {what}")

    def read(self, text: str) -> Lesson:
        lines = text.split("\n")  # not splitlines: an editor's line numbers are what we name
        for n, raw in enumerate(lines, 1):
            self.line(n, raw.rstrip("\r"))
        if self.title is None:
            raise self.fail(len(lines), "has no title: a lesson starts with '# Its title'")
        if not self.steps:
            raise self.fail(len(lines), "has no steps: a step starts with '## Its title'")
        for step in self.steps:
            self.finish(step)
        return Lesson(self.name, self.title, paragraphs(self.intro),
                      tuple(Step(s["title"], paragraphs(s["text"]), tuple(s["checks"]),
                                 s["line"]) for s in self.steps))

    def line(self, n: int, line: str) -> None:
        heading = _HEADING.match(line)
        if heading:
            self.heading(n, len(heading[1]), (heading[2] or "").strip())
            return
        check = _CHECK.match(line)
        if self.title is None:
            if line.strip():
                raise self.fail(n, "comes before the title: a lesson starts with "
                                "'# Its title'")
            return
        if check:
            self.check(n, check[1])
        elif self.steps:
            self.steps[-1]["text"].append(line)
        else:
            self.intro.append(line)

    def heading(self, n: int, level: int, title: str) -> None:
        if level > 2:
            raise self.fail(n, f"is a heading of level {level}: a lesson has one '# title' "
                            "and '## step' headings")
        if level == 1 and self.title is not None:
            raise self.fail(n, "is a second title: each step starts with '## ', the title "
                            "with '# '")
        if level == 2 and self.title is None:
            raise self.fail(n, "is a step before the title: a lesson starts with "
                            "'# Its title'")
        what = "the title" if level == 1 else "the step's title"
        if not title:
            raise self.fail(n, f"{what} is empty")
        if len(title) > MAX_TITLE:
            raise self.fail(n, f"{what} is {len(title)} characters long: at most {MAX_TITLE}")
        if level == 1:
            self.title = inert(title)
            return
        if len(self.steps) == MAX_STEPS:
            raise self.fail(n, f"is step {MAX_STEPS + 1}: a lesson has at most {MAX_STEPS}")
        self.steps.append({"title": inert(title), "line": n, "text": [], "checks": []})

    def check(self, n: int, body: str) -> None:
        if not self.steps:
            raise self.fail(n, "is a check before the first step: checks belong to a step "
                            "('## Its title')")
        step = self.steps[-1]
        if len(step["checks"]) == MAX_CHECKS:
            raise self.fail(n, f"is check {MAX_CHECKS + 1} of step '{step['title']}': a step "
                            f"has at most {MAX_CHECKS}")
        try:
            step["checks"].append(parse_check(body))
        except CheckError as e:
            raise self.fail(n, str(e)) from None

    def finish(self, step: dict) -> None:
        if not step["checks"]:
            raise self.fail(step["line"], f"step '{step['title']}' has no check: add a line "
                            f"such as '{EXAMPLE}'")
        if not any(t.strip() for t in step["text"]):
            raise self.fail(step["line"], f"step '{step['title']}' has no text: say what "
                            "to do and what to see")


def paragraphs(lines: list[str]) -> tuple[str, ...]:
    """The lines as paragraphs (inert): a blank line ends one, a list item starts one, and
    the lines of one are joined by a space, as Markdown reads them."""
    out: list[list[str]] = []
    fresh = True
    for line in lines:
        if not line.strip():
            fresh = True
            continue
        if fresh or _ITEM.match(line):
            out.append([])
        out[-1].append(line.strip())
        fresh = False
    return tuple(inert(" ".join(p)) for p in out)
