"""The code's shape: no import circles in `trainer` and `echo_tui`, no module over 400 lines, no
class over 250 lines.

Imports are read from the source (nothing is imported): module-level and function-level imports
both count, relative imports are resolved, and `from P import n` counts as importing the module
`P.n` when there is one, else `P` itself.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("trainer", "echo_tui")
MAX_MODULE_LINES = 400
MAX_CLASS_LINES = 250


# -- reading the source --------------------------------------------------------------------------

def module_files(root: Path = ROOT) -> dict[str, Path]:
    """{dotted module name: file} for every module of PACKAGES under `root`."""
    modules = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def imports_of(name: str, path: Path, modules) -> set[str]:
    """The modules of `modules` that module `name` (in file `path`) imports, anywhere in it."""
    is_package = path.name == "__init__.py"
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".")
                if not is_package:
                    base.pop()  # a module's own package
                base = base[:len(base) - (node.level - 1)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module
            # `from P import n`: the module P.n when there is one, else P's namespace
            targets = [f"{source}.{a.name}" if f"{source}.{a.name}" in modules else source
                       for a in node.names]
        else:
            continue
        found.update(t for t in targets if t in modules and t != name)
    return found


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    """{module: the modules of PACKAGES it imports}."""
    modules = module_files(root)
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every import circle: one per strongly connected component of more than one module, as a
    path that starts and ends at its first module."""
    index, low, stack, on_stack, components = {}, {}, [], set(), []

    def visit(v):  # Tarjan's algorithm
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                components.append(component)

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return [circle_in(graph, component) for component in components]


def circle_in(graph, component: set[str]) -> list[str]:
    """A shortest circle through the component's first module, staying inside the component."""
    start = min(component)
    paths, seen = [[start]], {start}
    while paths:
        path = paths.pop(0)
        for w in sorted(graph[path[-1]] & component):
            if w == start:
                return path + [start]
            if w not in seen:
                seen.add(w)
                paths.append(path + [w])
    raise AssertionError(f"no circle in {component}")


def long_classes(root: Path = ROOT) -> dict[str, int]:
    """{'path:Class': lines} for every class (nested ones too) over MAX_CLASS_LINES, decorators
    included."""
    found = {}
    for path in module_files(root).values():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ClassDef):
                first = min([node.lineno] + [d.lineno for d in node.decorator_list])
                lines = node.end_lineno - first + 1
                if lines > MAX_CLASS_LINES:
                    found[f"{path.relative_to(root).as_posix()}:{node.name}"] = lines
    return found


def module_lines(root: Path = ROOT) -> dict[str, int]:
    """{'path': lines} for every module of PACKAGES under `root`."""
    return {path.relative_to(root).as_posix(): len(path.read_text().splitlines())
            for path in module_files(root).values()}


# -- the checks ----------------------------------------------------------------------------------

def test_the_checker_resolves_relative_and_function_level_imports(tmp_path):
    for rel, text in {
        "trainer/__init__.py": "from .a import x\n",
        "trainer/a.py": "def f():\n    from .sub import b\n",
        "trainer/sub/__init__.py": "from . import b\n",
        "trainer/sub/b.py": "from .. import a\nimport trainer.c\n",
        "trainer/c.py": "import os\n",
        "echo_tui/__init__.py": "from trainer import x\n",
    }.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    graph = import_graph(tmp_path)
    assert graph == {"trainer": {"trainer.a"}, "trainer.a": {"trainer.sub.b"},
                     "trainer.sub": {"trainer.sub.b"}, "trainer.sub.b": {"trainer.a", "trainer.c"},
                     "trainer.c": set(), "echo_tui": {"trainer"}}
    assert cycles(graph) == [["trainer.a", "trainer.sub.b", "trainer.a"]]


def test_the_checker_measures_modules_and_classes_nested_or_decorated(tmp_path):
    (tmp_path / "echo_tui" / "w").mkdir(parents=True)
    body, inner = "    x = 1\n", "        x = 1\n"
    (tmp_path / "echo_tui" / "w" / "big.py").write_text(
        "@decorated\nclass Big:\n" + body * 249 + "def f():\n    class Inner:\n" + inner * 249
        + "\n" * 100)
    assert module_lines(tmp_path) == {"echo_tui/w/big.py": 602}
    assert long_classes(tmp_path) == {"echo_tui/w/big.py:Big": 251}
    (tmp_path / "echo_tui" / "w" / "big.py").write_text(
        "def f():\n    class Inner:\n" + inner * 250)
    assert long_classes(tmp_path) == {"echo_tui/w/big.py:Inner": 251}


def test_no_import_circles():
    found = [" -> ".join(c) for c in cycles(import_graph())]
    assert not found, "import circles:\n" + "\n".join(found)


def test_no_module_over_400_lines():
    over = {path: n for path, n in module_lines().items() if n > MAX_MODULE_LINES}
    assert not over, f"modules over {MAX_MODULE_LINES} lines: {over}"


def test_no_class_over_250_lines():
    over = long_classes()
    assert not over, f"classes over {MAX_CLASS_LINES} lines: {over}"


def attribute_uses(package: str, pattern) -> dict[str, list[str]]:
    """{module file: the attribute chains matching `pattern`} over `package`'s source."""
    found: dict[str, list[str]] = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Attribute) and pattern(ast.unparse(node)):
                found.setdefault(str(path.relative_to(ROOT)), []).append(ast.unparse(node))
    return found


def test_no_widget_reaches_for_the_app():
    """Views follow the screen's session (widgets/base.py); they never read the app's state
    (Textual's own `self.app.call_from_thread` for a thread's hand-back is the one use allowed)."""
    uses = attribute_uses("echo_tui/widgets", lambda chain: chain.startswith("self.app.")
                          and chain != "self.app.call_from_thread")
    assert not uses, uses


def test_only_the_terminal_guard_imports_a_private_textual_module():
    private = {}
    for path in sorted((ROOT / "echo_tui").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                if name.startswith("textual.") and any(p.startswith("_")
                                                       for p in name.split(".")[1:]):
                    private.setdefault(str(path.relative_to(ROOT)), []).append(name)
    assert private == {"echo_tui/terminal.py": ["textual._xterm_parser",
                                                "textual.drivers._byte_stream"]}
