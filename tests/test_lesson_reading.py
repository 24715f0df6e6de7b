"""Lesson files: the reader against a corpus of bad files (each refused in one sentence naming
the file, the line and what is wrong), text made inert, and the shipped lessons: 5-8 steps,
none of whose checks holds on a fresh app (a check that holds from the start is a defect)."""

from __future__ import annotations

import os

import pytest

from echo_tui.cli import main as cli_main
from echo_tui.lessons import (FIELDS, SHIPPED_LESSONS, LessonError, LessonRun, Published,
                              find_lesson, parse_lesson, read_lesson)
from echo_tui.serve.command import lesson_for_sessions, parse_args, problem
from echo_tui.serve.server import session_starter

GOOD = "# Title\n\nIntro.\n\n## Step one\n\nDo it.\n\ncheck: delay = 3\n"

BAD = [  # (file text, the exact sentence after "bad.md, ")
    ("# T\n\n## S\n\nx\n\ncheck: dealy = 3\n",
     "line 7: unknown check field 'dealy' (did you mean 'delay'?)"),
    ("# T\n\n## S\n\nx\ncheck: frobs = 3\n",
     "line 6: unknown check field 'frobs' (docs/lessons.md lists the fields)"),
    ("# T\n## S\nx\ncheck: model cell = rnm\n",
     "line 4: 'model cell' is one of gru, lstm, rnn, not 'rnm'"),
    ("# T\n## S\nx\ncheck: delay = three\n", "line 4: 'delay' is a number, not 'three'"),
    ("# T\n## S\nx\ncheck: typed contains hello\n",
     "line 4: 'typed' takes a text in double quotes, as in typed contains \"hello\": not hello"),
    ("# T\n## S\nx\ncheck: delay contains 3\n", "line 4: 'delay' takes = or != or < or <= or "
     "> or >=, not 'contains'"),
    ("# T\n## S\nx\ncheck: delay == 3\n", "line 4: write '=' for equal, not '==': 'delay == 3'"),
    ("# T\n## S\nx\ncheck: delay\n", "line 4: no operator in the check 'delay': use =, !=, <, "
     "<=, >, >=, contains, as in 'check: delay = 3'"),
    ("# T\n## S\nx\ncheck:\n", "line 4: the check is empty: write one as 'check: delay = 3'"),
    ("# T\n\n## Type\n\nType a key.\n",
     "line 3: step 'Type' has no check: add a line such as 'check: delay = 3'"),
    ("# T\n## Quiet\ncheck: delay = 3\n",
     "line 2: step 'Quiet' has no text: say what to do and what to see"),
    ("hello\n# T\n", "line 1: comes before the title: a lesson starts with '# Its title'"),
    ("# T\n\nonly an intro\n", "line 4: has no steps: a step starts with '## Its title'"),
    ("# T\n## S\nx\n### sub\ncheck: delay = 3\n", "line 4: is a heading of level 3: a lesson "
     "has one '# title' and '## step' headings"),
    ("# T\n## S\nx\ncheck: delay = 3\n# Again\n",
     "line 5: is a second title: each step starts with '## ', the title with '# '"),
    ("# T\ncheck: delay = 3\n## S\nx\n", "line 2: is a check before the first step: checks "
     "belong to a step ('## Its title')"),
    ("# T\n## S\nx\ncheck: typed = \"a\\qb\"\n",
     "line 4: '\\q' is no escape in a quoted text: use \\\" \\\\ \\n or \\t"),
    ("# T\n## S\nx\ncheck: typed = \"open\n", "line 4: the text \"open has no closing quote"),
    ("# T\n## S\x1b[2J\nx\ncheck: steps >= 1\ncheck: view nope = open\n",
     "line 5: unknown check field 'view nope' (did you mean 'view inside'?)"),
]


@pytest.mark.parametrize("text, said", BAD, ids=[s.split(":")[1][:30] for _, s in BAD])
def test_a_bad_lesson_is_refused_in_one_sentence_naming_file_and_line(tmp_path, text, said):
    path = tmp_path / "bad.md"
    path.write_text(text)
    with pytest.raises(LessonError) as e:
        read_lesson(path, name="bad.md")
    assert str(e.value) == f"bad.md, {said}"
    assert "\n" not in str(e.value)


def test_a_10_mb_file_is_refused_by_its_size_before_it_is_read(tmp_path, monkeypatch):
    path = tmp_path / "big.md"
    with open(path, "wb") as f:
        f.truncate(10 * 2 ** 20)  # sparse: its size, without writing 10 MB
    opened = []
    monkeypatch.setattr("builtins.open", lambda *a, **k: opened.append(a) or 1 / 0)
    with pytest.raises(LessonError) as e:
        read_lesson(path, name="big.md")
    assert str(e.value) == ("big.md: is 10,485,760 bytes, too large for a lesson (at most "
                            "65,536): is it the right file?")
    assert opened == []


def test_not_utf8_a_directory_and_a_pipe_are_refused(tmp_path):
    bad = tmp_path / "bad.md"
    bad.write_bytes(b"# T\n## S\n\xff\n")
    with pytest.raises(LessonError, match=r"^bad.md, line 3: is not UTF-8 text \(byte 0xff\): "
                                          "save the lesson as UTF-8$"):
        read_lesson(bad, name="bad.md")
    with pytest.raises(LessonError, match="is a directory, not a lesson file$"):
        read_lesson(tmp_path)
    fifo = tmp_path / "fifo.md"
    os.mkfifo(fifo)
    with pytest.raises(LessonError, match="is not a regular file$"):
        read_lesson(fifo)  # never opened: it would block


def test_markup_and_escapes_in_a_lesson_are_kept_inert():
    lesson = parse_lesson("# [b]Bold[/b] \x1b]0;pwned\x07\n\n## Step [red]x[/red]\n\n"
                          "Text with \x1b[31mred\x1b[0m and [link=file:///etc]here[/link].\n\n"
                          'check: typed = "[b]\\n"\n', "x.md")
    assert lesson.title == "[b]Bold[/b] \\x1b]0;pwned\\x07"
    step = lesson.steps[0]
    assert step.title == "Step [red]x[/red]"
    assert step.text == ("Text with \\x1b[31mred\\x1b[0m and [link=file:///etc]here[/link].",)
    assert step.checks[0].text == 'typed = "[b]\\n"' and step.checks[0].value == "[b]\n"
    assert not any(ch == "\x1b" for ch in lesson.title + step.text[0])


def test_a_good_lesson_reads_and_its_checks_hold_only_after_the_action():
    lesson = parse_lesson(GOOD + "\n## Two\n\nUndo.\n\ncheck: count undos >= 2\n"
                          'check: typed contains "ab"\n')
    assert [s.title for s in lesson.steps] == ["Step one", "Two"] and lesson.intro == ("Intro.",)
    run = LessonRun(lesson, Published(delay=8))
    assert not run.update(Published(delay=7)) and run.index == 0
    assert run.update(Published(delay=3)) and run.index == 1
    assert run.last_done.title == "Step one"
    assert run.update(Published(delay=3, typed="abc", count_undos=1))  # a tick, not the step
    assert run.holding == (False, True) and run.index == 1
    assert run.update(Published(delay=3, typed="abc", count_undos=2)) and run.over
    assert run.tally() == (2, 0)
    assert run.back() and run.index == 1 and run.outcomes[1] is None
    assert run.skip() and run.over and run.tally() == (1, 1)


def fresh() -> Published:
    """What a fresh app publishes: the text model at delay 8, the memory view open."""
    return Published(delay=8, model_name="text_delay.safetensors", model_kind="variable",
                     model_cell="gru", model_alphabet="text", model_hidden=192,
                     model_delays=tuple(range(17)), model_source="shipped",
                     views=frozenset({"memory"}))


@pytest.mark.parametrize("name", SHIPPED_LESSONS)
def test_no_shipped_check_holds_on_a_fresh_app(name):
    lesson = find_lesson(name)
    assert 5 <= len(lesson.steps) <= 8
    for step in lesson.steps:
        assert step.text and len(" ".join(step.text)) <= 320, step.title
        for check in step.checks:
            assert not check.holds(fresh(), fresh()), f"{name}: {step.title}: {check.text}"
            assert check.field.name in FIELDS


def test_echo_tui_and_serve_refuse_a_bad_lesson_in_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.md"
    bad.write_text("# T\n## S\nx\ncheck: model cell = rnm\n")
    assert cli_main(["--lesson", str(bad)]) == 2
    assert capsys.readouterr().err == f"{bad}, line 4: 'model cell' is one of gru, lstm, rnn, "\
                                      "not 'rnm'\n"
    assert cli_main(["--lesson", "memory-and-dealy"]) == 2
    assert capsys.readouterr().err == ("no lesson 'memory-and-dealy': the shipped lessons are "
                                       "memory-and-delay, where-memory-breaks, watch-it-learn, "
                                       "or give a lesson file's path\n")
    assert problem(parse_args(["--lesson", str(bad)])).startswith(f"--lesson: {bad}, line 4:")


def test_serve_hands_the_lesson_to_every_session(tmp_path, monkeypatch):
    assert problem(parse_args(["--lesson", "watch-it-learn"])) is None
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mine.md").write_text(GOOD)
    assert lesson_for_sessions("mine.md") == str(tmp_path / "mine.md")
    assert lesson_for_sessions("watch-it-learn") == "watch-it-learn"
    start = session_starter(None, None, None, None, False, "watch-it-learn")
    assert start.keywords["lesson"] == "watch-it-learn"


def test_the_lesson_panel_gives_way_as_other_views_do():
    from echo_tui.app.screens.fitting import LESSON_MIN, fit

    small = fit(18, comparing=False, training=False, inspecting=False, memory=True,
                memory_lines=8, lesson_rows=9)
    assert small.lesson == 9 and small.left_out == ("f2 memory",)  # half of 18, at most
    training = fit(18, comparing=False, training=True, inspecting=False, memory=False,
                   memory_lines=8, lesson_rows=9)
    assert training.panel and training.lesson == 0 and training.left_out == ("lesson",)
    roomy = fit(40, comparing=False, training=False, inspecting=True, memory=True,
                memory_lines=8, lesson_rows=7)
    assert roomy.lesson == 7 and roomy.inspect and roomy.memory_rows >= LESSON_MIN


def test_the_example_in_the_docs_is_a_lesson():
    from pathlib import Path

    docs = (Path(__file__).parent.parent / "docs" / "lessons.md").read_text()
    example = docs.split("```markdown\n", 1)[1].split("```", 1)[0]
    lesson = parse_lesson(example, "docs/lessons.md")
    assert lesson.title == "Memory and delay" and len(lesson.steps) == 2
