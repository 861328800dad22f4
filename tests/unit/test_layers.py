"""The package's folders are its architecture, and these tests keep them so.

Layers, lowest first; a module may import from its own layer or a lower one:

    data      what files and schemas mean (no DuckDB)
    engine    DuckDB, the only SQL (engine/sql), the disclosure gate, statistics, the one service
    config    the data owner's settings (data paths, rules, store)
    output    file formats of a protected result (exports, figure images)
    features  each page's ideas: model (pure), state (link <-> view), tables, charts
    ui        the only package that imports Streamlit
    cli       the command line, beside the app

Every import counts, including those inside functions: a lazy import is still
a dependency, and hiding a cycle inside a function does not remove it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "rcs_viz"
LAYERS = ("data", "engine", "config", "output", "features", "ui", "cli")
STREAMLIT_HOMES = ("rcs_viz.ui",)


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    found = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}
    assert len(found) > 40, "the scan must see every sub-package"
    return found


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, imported module) for every import in the file; `from a import b` gives a.b when b is a module."""
    modules = _modules()
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for a in node.names:
                sub = f"{node.module}.{a.name}"
                out.append((node.lineno, sub if sub in modules else node.module))
    return out


def _layer(module: str) -> int | None:
    parts = module.split(".")
    if parts[0] != "rcs_viz" or len(parts) < 2:
        return None
    top = "cli" if parts[1] == "__main__" else parts[1]
    return LAYERS.index(top)


def test_every_module_belongs_to_a_layer():
    loose = [m for m in _modules() if m != "rcs_viz" and _layer(m) is None]
    unknown = [m for m in _modules() if m != "rcs_viz" and m.split(".")[1] not in LAYERS + ("__main__",)]
    assert not loose and not unknown, f"modules outside the layers: {loose + unknown}"


def test_only_ui_imports_streamlit():
    found = [f"{m}:{line}" for m, path in _modules().items() for line, imp in _imports(path)
             if imp.split(".")[0] == "streamlit" and not m.startswith(STREAMLIT_HOMES)]
    assert not found, "streamlit imported outside rcs_viz/ui:\n" + "\n".join(found)


def test_no_module_imports_from_a_layer_above_it():
    found = []
    for m, path in _modules().items():
        own = _layer(m)
        for line, imp in _imports(path):
            other = _layer(imp)
            if own is not None and other is not None and other > own:
                found.append(f"{m}:{line} ({LAYERS[own]}) imports {imp} ({LAYERS[other]})")
    assert not found, "imports from a higher layer:\n" + "\n".join(found)


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    graph = {m: set() for m in modules}
    for m, path in modules.items():
        for _, imp in _imports(path):
            # importing a package runs its __init__, but the __init__s here are empty: link to the module itself
            if imp in modules and imp != m and modules[imp].name != "__init__.py":
                graph[m].add(imp)
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        stack.append(m)
        for n in sorted(graph[m]):
            if state.get(n) == 1:
                return stack[stack.index(n):] + [n]
            if n not in state and (found := visit(n)):
                return found
        stack.pop()
        state[m] = 2
        return None

    for m in sorted(graph):
        if m not in state and (found := visit(m)):
            return found
    return None


def test_no_import_cycle():
    cycle = _cycle(_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_the_cycle_finder_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


@pytest.mark.parametrize("page", sorted((ROOT / "app_pages").glob("*.py")), ids=lambda p: p.name)
def test_pages_are_thin(page: Path):
    """A page reads the view, calls the library and renders: no pandas, no more than 120 lines."""
    lines = page.read_text(encoding="utf-8").splitlines()
    imports = {imp.split(".")[0] for _, imp in _imports(page)}
    assert len(lines) <= 120, f"{page.name} has {len(lines)} lines"
    assert not imports & {"pandas", "numpy", "duckdb"}, f"{page.name} computes: imports {imports & {'pandas', 'numpy', 'duckdb'}}"


def _private_uses(path: Path) -> list[str]:
    """`from rcs_viz.x import _name`, and `module._name` on a module imported from rcs_viz."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    modules = _modules()
    aliases, found = set(), []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("rcs_viz"):
            for a in node.names:
                if a.name.startswith("_"):
                    found.append(f"{path.name}:{node.lineno} imports {node.module}.{a.name}")
                if f"{node.module}.{a.name}" in modules:
                    aliases.add(a.asname or a.name)
        elif isinstance(node, ast.Import):
            aliases |= {a.asname for a in node.names if a.name.startswith("rcs_viz") and a.asname}
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases
                and node.attr.startswith("_") and not node.attr.startswith("__")):
            found.append(f"{path.name}:{node.lineno} uses {node.value.id}.{node.attr}")
    return found


def test_no_private_name_crosses_a_module_boundary():
    paths = list(_modules().values()) + sorted((ROOT / "app_pages").glob("*.py")) + [ROOT / "app.py"]
    found = [use for path in paths for use in _private_uses(path)]
    assert not found, "private names used from another module:\n" + "\n".join(found)
