"""The README's commands are the ones CI and users run; its pages in docs/ are found from it,
and every relative link in them resolves."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _bash_blocks():
    return re.findall(r"```bash\n(.*?)```", (ROOT / "README.md").read_text(), re.S)


def test_ci_runs_exactly_the_readme_test_command():
    test_command = next(b.strip() for b in _bash_blocks() if "pytest" in b)
    ci_lines = [l for l in (ROOT / ".ci/run").read_text().splitlines() if l.strip()]
    assert ci_lines[-1] == test_command
    assert any(l.endswith("pip install -q torch==2.13.0") for l in ci_lines[:-1])


def test_readme_names_the_remake_command_of_each_shipped_file():
    text = (ROOT / "README.md").read_text()
    for path in sorted((ROOT / "weights").glob("*.safetensors")):
        assert f"--out weights/{path.name}" in text, path.name


def test_the_remake_commands_are_the_ones_each_file_records():
    from trainer import load_model

    text = (ROOT / "README.md").read_text()
    for path in sorted((ROOT / "weights").glob("*.safetensors")):
        command = load_model(path).metadata["command"]
        assert command.endswith(f"--out weights/{path.name}")
        assert f"\n{command}\n" in text, command


def _python_blocks():
    """The Python examples, wherever they live: the README, then its pages in docs/."""
    return [block for page in PAGES
            for block in re.findall(r"```python\n(.*?)```", page.read_text(), re.S)]


def _links(page: Path) -> list[str]:
    """The targets of `page`'s Markdown links and images, code blocks left out."""
    text = re.sub(r"```.*?```", "", page.read_text(), flags=re.S)
    return re.findall(r"\]\(([^)\s]+)\)", text)


def _anchor(heading: str) -> str:
    """A heading's anchor as GitHub makes it: lower case, punctuation dropped, spaces to -."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_every_relative_link_resolves():
    broken = []
    for page in PAGES:
        for target in _links(page):
            if re.match(r"[a-z]+:", target):
                continue  # https:, mailto:
            path, _, anchor = target.partition("#")
            where = (page.parent / path).resolve() if path else page
            if not where.exists():
                broken.append(f"{page.relative_to(ROOT)}: {target}")
            elif anchor and where.suffix == ".md" and anchor not in {
                    _anchor(h) for h in re.findall(r"^#+ (.*)$", where.read_text(), re.M)}:
                broken.append(f"{page.relative_to(ROOT)}: {target} (no such heading)")
    assert not broken, broken


def test_the_readme_is_a_front_door_to_every_page():
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= 250
    linked = {(ROOT / t.partition("#")[0]).resolve() for t in _links(ROOT / "README.md")}
    assert set(PAGES[1:]) <= linked, sorted(str(p) for p in set(PAGES[1:]) - linked)
    assert any(t.startswith("docs/figures/") for t in _links(ROOT / "README.md"))  # a picture


def test_the_python_examples_run_without_matplotlib(monkeypatch, capsys, tmp_path):
    import builtins
    import sys

    real_import = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):  # the quick start installs no plotting
        if name.split(".")[0] == "matplotlib":
            raise ModuleNotFoundError("No module named 'matplotlib'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    monkeypatch.delitem(sys.modules, "matplotlib", raising=False)
    session, trace = _python_blocks()
    assert len(session.strip().splitlines()) <= 10
    exec(compile(session, "README.md", "exec"), {})
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("(35, 128) [") and lines[1] == "   thequickbrownfoxjumpsoverthelazy"
    from trainer import cli, shipped_weights

    monkeypatch.chdir(tmp_path)  # the second reads what echo-train trace writes
    assert cli.main(["trace", "--weights", str(shipped_weights("variable_delay")), "--text",
                     "hello world", "--delay", "3"]) == 0
    capsys.readouterr()
    exec(compile(trace, "README.md", "exec"), {})
    assert capsys.readouterr().out == "helloworld (10, 128) (10, 9) [0 1 2 3 4 5 6 7 8]\n"


# the commands the pages quote, by how they start: the module whose main(argv) parses them
COMMANDS = {"echo-train": "trainer.cli", "echo-tui": "echo_tui.cli",
            "python -m echo_tui.bench": "echo_tui.bench.app",
            "python -m trainer.bench.trial": "trainer.bench.trial",
            "python -m trainer.bench.busy": "trainer.bench.busy",
            "python -m trainer.bench.stops": "trainer.bench.stops"}


def _quoted_commands():
    """(page, command, its subcommand or None, its flags) for every command in a code block
    of the README and docs/ (continued lines joined; a log line quoted is left out)."""
    found = []
    for page in PAGES:
        for block in re.findall(r"```(?:bash)?\n(.*?)```", page.read_text(), re.S):
            block = re.sub(r"\\?\n\s+(?=\[|--)", " ", block)  # a command's continued lines
            for line in block.splitlines():
                line = line.split("#")[0].strip()
                for start in sorted(COMMANDS, key=len, reverse=True):
                    rest = line[len(start):]
                    if line.startswith(start) and (not rest or rest[0] == " "):
                        words = rest.split()
                        if words and words[0].endswith(":"):
                            break  # the server's log, quoted
                        sub = (words[0] if words and re.fullmatch(r"[a-z]+", words[0])
                               and start in ("echo-train", "echo-tui") else None)
                        flags = sorted(set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", rest)))
                        found.append((page.name, start, sub, flags))
                        break
    return found


def test_the_quoted_commands_take_the_flags_they_show(capsys):
    import importlib

    import pytest

    quoted = _quoted_commands()
    assert len(quoted) >= 20 and {c[1] for c in quoted} == set(COMMANDS)
    helps: dict = {}
    for page, start, sub, flags in quoted:
        if (start, sub) not in helps:
            main = importlib.import_module(COMMANDS[start]).main
            with pytest.raises(SystemExit) as ended:
                main(([sub] if sub else []) + ["--help"])
            assert ended.value.code == 0, (start, sub)
            helps[start, sub] = capsys.readouterr().out
        missing = [f for f in flags if f not in helps[start, sub]]
        assert not missing, f"{page}: {start} {sub or ''} does not take {missing}"
