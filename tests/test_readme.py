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


def test_the_python_example_runs(monkeypatch, capsys):
    import matplotlib

    matplotlib.use("Agg")  # no window; plt.show() does nothing
    block = re.search(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S).group(1)
    assert len(block.strip().splitlines()) <= 10
    exec(compile(block, "README.md", "exec"), {})
    assert capsys.readouterr().out == "   thequickbrownfoxjumpsoverthelazy\n"
