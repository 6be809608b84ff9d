"""The package's shape: no import cycle, a core free of PyMC, thin public entry points."""

import ast
import inspect
import pathlib

import pymc_ais as pa

PACKAGE = pathlib.Path(pa.__file__).parent


def _module_name(path: pathlib.Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: pathlib.Path) -> set[str]:
    """Modules of the package imported at module level (imports inside functions are lazy)."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("pymc_ais")}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            elif node.module and node.module.startswith("pymc_ais"):
                target = node.module
            else:
                continue
            for alias in node.names:  # `from . import module` imports a module
                sub = f"{target}.{alias.name}"
                found.add(sub if (PACKAGE.parent / (sub.replace(".", "/") + ".py")).exists() else target)
    return found


def _graph() -> dict[str, set[str]]:
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {name: {t for t in _imports(path) if t in modules and t != name} for name, path in modules.items()}


def test_no_import_cycle():
    graph = _graph()
    state: dict[str, int] = {}
    cycles = []

    def visit(node, stack):
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt) :] + [nxt])
            elif nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


def test_the_core_imports_no_pymc_and_nothing_above_it():
    for path in (PACKAGE / "core").rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module or ""]
            for name in names:
                # arviz_stats' array layer is numpy only (Pareto k-hat); PyMC, PyTensor and ArviZ stay out
                above = name.startswith(("pymc", "pytensor", "arviz")) and not name.startswith("arviz_stats")
                assert not above or name.startswith("pymc_ais.core"), f"{path.relative_to(PACKAGE)} imports {name}"
        for target in _imports(path):
            assert target.startswith("pymc_ais.core") or target == "pymc_ais._version", (
                f"{path.relative_to(PACKAGE)} imports {target}"
            )


def _code_lines(function) -> int:
    """Lines of a function's body that are code: no docstring, comment or blank line."""
    node = ast.parse(inspect.getsource(function).lstrip()).body[0]
    body = node.body[1:] if ast.get_docstring(node) else node.body
    lines = set()
    for statement in body:
        for sub in ast.walk(statement):
            if hasattr(sub, "lineno"):
                lines.update(range(sub.lineno, sub.end_lineno + 1))
    return len(lines)


def test_public_entry_points_are_thin():
    for name in ("estimate", "sobol", "exceedance", "resume"):
        assert _code_lines(getattr(pa, name)) <= 60, name
