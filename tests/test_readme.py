"""The README's commands are the ones CI and users run."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


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
    return re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S)


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
