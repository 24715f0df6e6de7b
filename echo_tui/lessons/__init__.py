"""Lessons: a guided walk through the app that checks the learner did each step, written by a
teacher as a data file (docs/lessons.md): a title, an introduction, and steps, each a few lines
of text and `check:` lines over what the app publishes (`Published`). A lesson never runs code:
a check is a named fact, an operator and a literal value, so a shared file is safe to open.

Layer: may import trainer's light helpers and core's; never Textual, app, serve or training.

May import: the standard library, `trainer`'s and the app core's light helpers (nothing that
loads torch: `echo-tui --lesson` checks a file before the first frame). Never Textual, the app,
the server or the training link: the app builds a `Published` and shows a `LessonRun`; this
folder reads nothing else. The shipped lessons are data beside it
(`shipped/*.md`), in the wheel with the package.
"""

from .checks import FIELDS, OPERATORS, Check, CheckError, Field, parse_check
from .progress import DONE, SKIPPED, LessonRun
from .published import VIEWS, Published
from .reading import (MAX_BYTES, SHIPPED_LESSONS, Lesson, LessonError, Step, find_lesson,
                      parse_lesson, read_lesson, shipped_path)

__all__ = ["FIELDS", "OPERATORS", "Check", "CheckError", "Field", "parse_check", "DONE",
           "SKIPPED", "LessonRun", "VIEWS", "Published", "MAX_BYTES", "SHIPPED_LESSONS",
           "Lesson", "LessonError", "Step", "find_lesson", "parse_lesson", "read_lesson",
           "shipped_path"]
