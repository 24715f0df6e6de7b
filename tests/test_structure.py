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


def import_source(name: str, is_package: bool, node: ast.ImportFrom) -> str:
    """The module a `from ... import` in module `name` reads from, a relative one resolved."""
    if not node.level:
        return node.module
    base = name.split(".")
    if not is_package:
        base.pop()  # a module's own package
    base = base[:len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports_of(name: str, path: Path, modules) -> set[str]:
    """The modules of `modules` that module `name` (in file `path`) imports, anywhere in it."""
    is_package = path.name == "__init__.py"
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            source = import_source(name, is_package, node)
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


def write_tree(root: Path, files: dict[str, str]) -> None:
    """Write {relative path: text} under `root`: a made-up tree for the checkers."""
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)


# -- the checks ----------------------------------------------------------------------------------

def test_the_checker_resolves_relative_and_function_level_imports(tmp_path):
    write_tree(tmp_path, {
        "trainer/__init__.py": "from .a import x\n",
        "trainer/a.py": "def f():\n    from .sub import b\n",
        "trainer/sub/__init__.py": "from . import b\n",
        "trainer/sub/b.py": "from .. import a\nimport trainer.c\n",
        "trainer/c.py": "import os\n",
        "echo_tui/__init__.py": "from trainer import x\n",
    })
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
    uses = attribute_uses("echo_tui/app/widgets", lambda chain: chain.startswith("self.app.")
                          and chain != "self.app.call_from_thread")
    assert not uses, uses


UPSTREAMS = ("textual", "textual_serve", "_pytest", "pytest")
# private names of upstream objects the code reaches for as attributes (imports are found by name)
UPSTREAM_PRIVATE_ATTRIBUTES = {"_compositor", "_background_screens", "_fixtureinfo",
                               "_character_to_key", "_build_environment", "_open_app_process",
                               "_input_reader", "_on_meta", "__wrapped__"}


def upstream_privates(folder: str) -> dict[str, list[str]]:
    """{file: the upstream private names it uses}: imports of a private module or name of
    UPSTREAMS, and UPSTREAM_PRIVATE_ATTRIBUTES read or defined, over `folder`'s source."""
    private = {}
    for path in sorted((ROOT / folder).rglob("*.py")):
        found = []
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module or ""] + [f"{node.module}.{a.name}" for a in node.names]
            else:
                names = []
            found += [n for n in names if n.split(".")[0] in UPSTREAMS
                      and any(p.startswith("_") for p in n.split(".")[1:])]
            if isinstance(node, ast.Attribute) and node.attr in UPSTREAM_PRIVATE_ATTRIBUTES:
                found.append(f".{node.attr}")
            if isinstance(node, ast.FunctionDef) and node.name in UPSTREAM_PRIVATE_ATTRIBUTES:
                found.append(f"def {node.name}")
        if found:
            private[str(path.relative_to(ROOT))] = sorted(set(found))
    return private


def test_only_compat_uses_upstream_private_names():
    """echo_tui's copies of upstream code and its uses of upstream private names are in
    compat/ (one module per upstream, each naming its version); the tests' in tests/private.py."""
    product = upstream_privates("echo_tui")
    assert set(product) == {"echo_tui/compat/textual.py", "echo_tui/compat/textual_serve.py"}, (
        product)
    tests = upstream_privates("tests")
    assert set(tests) == {"tests/private.py"}, tests


# -- the layers ----------------------------------------------------------------------------------

# echo_tui's folders and what each may import of echo-gru (its `__init__` docstring says the same
# in a line): arrows only go down. `echo_tui` itself (the package's face, `cli`, `__main__`) may
# import any folder but bench; `trainer` imports nothing of echo_tui.
LAYERS = {
    "echo_tui.compat": set(),
    "echo_tui.core": {"trainer"},
    "echo_tui.lessons": {"echo_tui.core", "trainer"},
    "echo_tui.training": {"echo_tui.core", "trainer"},
    "echo_tui.app": {"echo_tui.compat", "echo_tui.core", "echo_tui.lessons", "echo_tui.training",
                     "trainer"},
    "echo_tui.serve": {"echo_tui.compat", "echo_tui.core", "echo_tui.lessons",
                       "echo_tui.training", "trainer", "echo_tui.app:face"},
    "echo_tui.bench": {"*"},
}
# the third-party packages a folder must never import, Textual's included
FORBIDDEN = {
    "trainer": ("echo_tui", "textual", "textual_serve"),
    "echo_tui.core": ("textual", "textual_serve"),
    "echo_tui.lessons": ("textual", "textual_serve"),
    "echo_tui.training": ("textual", "textual_serve"),
    "echo_tui.app": ("textual_serve",),
}
APP_FACE = "echo_tui.app"  # serve may start the app (create_app, run_app), not reach inside it


def folder_of(module: str) -> str:
    """The layer a module of PACKAGES belongs to: echo_tui's folder, or the top package."""
    parts = module.split(".")
    if parts[0] == "echo_tui" and len(parts) > 1 and f"echo_tui.{parts[1]}" in LAYERS:
        return f"echo_tui.{parts[1]}"
    return parts[0]


def imported_names(name: str, path: Path) -> set[str]:
    """Every dotted name module `name` imports, third-party ones too, relative ones resolved."""
    is_package = path.name == "__init__.py"
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            source = import_source(name, is_package, node)
            found.add(source)
            found.update(f"{source}.{a.name}" for a in node.names)
    return found


def layer_faults(root: Path = ROOT) -> list[str]:
    """'module -> import: why' for every import that goes against LAYERS or FORBIDDEN."""
    modules = module_files(root)
    faults = []
    for name, path in sorted(modules.items()):
        home = folder_of(name)
        names = imported_names(name, path)
        for bad in FORBIDDEN.get(home, ()):
            for n in sorted(names):
                if n == bad or n.startswith(bad + "."):
                    faults.append(f"{name} -> {n}: {home} never imports {bad}")
        for target in sorted(imports_of(name, path, modules)):
            there = folder_of(target)
            allowed = LAYERS.get(home)
            if there == home or allowed is None and there != "echo_tui.bench":
                continue  # the package's face and cli: anything but bench
            if there == "echo_tui.bench":
                if home != "echo_tui.bench":
                    faults.append(f"{name} -> {target}: nothing in the product imports bench")
            elif "*" in allowed:
                continue
            elif there == "echo_tui.app" and "echo_tui.app:face" in allowed:
                if target != APP_FACE:
                    faults.append(f"{name} -> {target}: {home} imports only the app's face")
            elif there not in allowed:
                faults.append(f"{name} -> {target}: {home} may not import {there}")
    return faults


def test_the_layer_checker_finds_an_arrow_up(tmp_path):
    write_tree(tmp_path, {
        "trainer/__init__.py": "",
        "trainer/model.py": "import echo_tui.core.rows\n",
        "echo_tui/__init__.py": "from .bench import x\n",
        "echo_tui/core/__init__.py": "",
        "echo_tui/core/rows.py": "from ..app.widgets import y\nfrom textual import work\n",
        "echo_tui/app/__init__.py": "from .app import create_app\n",
        "echo_tui/app/app.py": "def f():\n    from ..serve import command\n",
        "echo_tui/app/widgets.py": "from ..core import rows\n",
        "echo_tui/serve/__init__.py": "",
        "echo_tui/serve/command.py": "from ..app import create_app\nfrom ..app.app import f\n",
        "echo_tui/bench/__init__.py": "from ..app import app\nfrom ..serve import command\n",
    })
    assert layer_faults(tmp_path) == [
        "echo_tui -> echo_tui.bench: nothing in the product imports bench",
        "echo_tui.app.app -> echo_tui.serve.command: echo_tui.app may not import echo_tui.serve",
        "echo_tui.core.rows -> textual: echo_tui.core never imports textual",
        "echo_tui.core.rows -> textual.work: echo_tui.core never imports textual",
        "echo_tui.core.rows -> echo_tui.app.widgets: echo_tui.core may not import echo_tui.app",
        "echo_tui.serve.command -> echo_tui.app.app: echo_tui.serve imports only the app's face",
        "trainer.model -> echo_tui.core.rows: trainer never imports echo_tui",
    ]


def test_every_import_goes_down_a_layer():
    faults = layer_faults()
    assert not faults, "imports against the layers:\n" + "\n".join(faults)


def test_each_folder_says_its_rule():
    """Each folder's `__init__` docstring states what it may import, in a line that starts
    'Layer:'."""
    for folder in LAYERS:
        init = ROOT / folder.replace(".", "/") / "__init__.py"
        if not init.exists():  # lessons/ comes with its own issue
            continue
        doc = ast.get_docstring(ast.parse(init.read_text())) or ""
        assert any(line.startswith("Layer: ") for line in doc.splitlines()), folder


def test_one_worker_failure_handler_per_message_pump():
    """Worker failures go through one handler per screen (EchoScreen.WORKER_FAILED, a table by
    group) and one for the App: none relies on Textual calling each mixin's in turn."""
    handlers = {}
    for path in sorted((ROOT / "echo_tui").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ClassDef):
                for item in node.body:
                    if isinstance(item, ast.FunctionDef) and item.name == "on_worker_state_changed":
                        handlers.setdefault(node.name, []).append(str(path.relative_to(ROOT)))
    assert handlers == {"EchoScreen": ["echo_tui/app/screens/echo.py"],
                        "EchoApp": ["echo_tui/app/app.py"]}
