"""The layout holds: no app imports one it must not know, and no modules import each other in a circle.

Imports are read with `ast` from every module of the package except tests and migrations: imports inside
functions and under `if TYPE_CHECKING:` count too, because a lazy import that only dodges a circle is
still the circle. docs/architecture.md explains the walls and what to do instead of crossing one.
"""

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2]  # …/anchang
WIRING = {"urls", "api", "settings", "cli", "wsgi"}  # top-level modules that only wire the apps together

# (app that imports, app it must not import): why. "*" stands for every other app.
WALLS = {
    ("core", "*"): "the kernel knows no domain: every app builds on core, never the reverse",
    ("inventory", "customers"): "units do not know who wants them",
    ("inventory", "reception"): "units do not know the front desk",
    ("customers", "reception"): "the archive does not know the desk that feeds it",
    ("customers", "deals"): "deals tell customers of owners, not the reverse",
    ("reception", "workspace"): "the desk does not know the consultant's screens",
    ("reception", "demo"): "no product code knows the demo",
    ("deals", "demo"): "no product code knows the demo",
}


def _is_test(path: Path) -> bool:
    return "tests" in path.parts or path.name.startswith("test_") or path.name == "conftest.py"


def modules(package: Path) -> dict[str, Path]:
    """Dotted module name → file, for every module of `package` but tests and migrations."""
    found = {}
    for path in sorted(package.rglob("*.py")):
        relative = path.relative_to(package.parent)
        if _is_test(relative) or "migrations" in relative.parts:
            continue
        parts = list(relative.with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def imported_names(name: str, path: Path) -> Iterator[tuple[str, list[str]]]:
    """Every import of the module, wherever the statement stands: (module, names taken from it)."""
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            yield from ((alias.name, []) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".") if is_package else name.split(".")[:-1]
                base = base[: len(base) - node.level + 1]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            yield module, [alias.name for alias in node.names]


def import_graph(package: Path) -> dict[str, set[str]]:
    """Module → the modules of the package it imports."""
    known = modules(package)

    def resolve(dotted: str) -> str | None:
        # `from anchang.core.api import error_responses` names the module anchang.core.api.
        while dotted and dotted not in known:
            dotted = dotted.rpartition(".")[0]
        return dotted or None

    graph: dict[str, set[str]] = {}
    for name, path in known.items():
        targets = set()
        for module, names in imported_names(name, path):
            if module.split(".")[0] != package.name:
                continue
            # `from anchang.reception import rotation` imports the module rotation.
            submodules = {f"{module}.{n}" for n in names} & known.keys()
            targets |= submodules or {resolve(module)}
        graph[name] = {t for t in targets if t is not None and t != name}
    return graph


def app_of(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1:
        return "package"
    return "wiring" if parts[1] in WIRING else parts[1]


def wall_breaches(graph: dict[str, set[str]]) -> list[str]:
    breaches = []
    for module, targets in sorted(graph.items()):
        source = app_of(module)
        for target in sorted(targets):
            dest = app_of(target)
            if dest == source:
                continue
            why = WALLS.get((source, dest)) or (
                WALLS.get((source, "*")) if dest not in ("package", "wiring") else None
            )
            if why:
                breaches.append(f"{module} imports {target}: {source} must not import {dest} ({why})")
    return breaches


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The groups of modules that reach each other through imports (Tarjan's strongly connected parts)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for target in sorted(graph.get(module, ())):
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in on_stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                cycles.append(sorted(group))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return cycles


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    return import_graph(PACKAGE)


def test_no_app_imports_one_behind_its_wall(graph) -> None:
    assert wall_breaches(graph) == []


def test_no_modules_import_each_other_in_a_circle(graph) -> None:
    assert import_cycles(graph) == []


def test_the_reader_sees_every_kind_of_import(tmp_path) -> None:
    # Without this, a reader that missed lazy or TYPE_CHECKING imports would let every check above pass.
    package = tmp_path / "anchang"
    for app in ("core", "customers", "reception"):
        (package / app).mkdir(parents=True)
        (package / app / "__init__.py").write_text("")
    (package / "__init__.py").write_text("")
    (package / "core" / "api.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from anchang.customers.models import X\n"
    )
    (package / "customers" / "models.py").write_text("")
    (package / "customers" / "pool.py").write_text(
        "def f():\n    from anchang.reception import models\n\nfrom . import models as m\n"
    )
    (package / "reception" / "models.py").write_text("import anchang.customers.pool\n")
    (package / "reception" / "tests").mkdir()
    (package / "reception" / "tests" / "test_x.py").write_text("import anchang.core.api\n")

    found = import_graph(package)

    assert found["anchang.customers.pool"] == {"anchang.customers.models", "anchang.reception.models"}
    assert "anchang.reception.tests.test_x" not in found
    assert wall_breaches(found) == [
        "anchang.core.api imports anchang.customers.models: core must not import customers "
        f"({WALLS[('core', '*')]})",
        "anchang.customers.pool imports anchang.reception.models: customers must not import reception "
        f"({WALLS[('customers', 'reception')]})",
    ]
    assert import_cycles(found) == [["anchang.customers.pool", "anchang.reception.models"]]
