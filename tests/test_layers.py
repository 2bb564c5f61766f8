"""The package graph is acyclic and layered: a module imports only from its own package or a layer below,
counting imports inside functions too (type-only imports under ``TYPE_CHECKING`` excepted). The layers are the
ones docs/architecture.md draws; change both together."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "xstilts"

# Bottom first. Packages (or top-level modules) in one row are independent of each other.
LAYERS: list[tuple[str, ...]] = [
    ("errors",),
    ("registry", "atomic", "threads", "faults"),
    ("run_folder",),
    ("languages",),
    ("formats", "scoring", "micro"),
    ("families",),
    ("tasks",),
    ("data",),
    ("config",),
    ("models",),
    ("evaluation", "reports"),
    ("training",),
    ("studies",),
    ("selection",),
    ("cli",),
    ("__main__",),
]
RANK = {name: rank for rank, row in enumerate(LAYERS) for name in row}


def unit_of(module: str) -> str:
    """The layer unit of a module: its package below xstilts, or the top-level module itself."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "xstilts"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _type_checking_block(node: ast.AST) -> bool:
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and (
        (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING")
        or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"))


def _is_module(name: str) -> bool:
    return (SRC / f"{name}.py").is_file() or (SRC / name / "__init__.py").is_file()


def imports(path: Path) -> list[tuple[int, str]]:
    """(line, imported xstilts module) for every import statement, at any depth, but type-only ones."""
    found: list[tuple[int, str]] = []

    def visit(node: ast.AST) -> None:
        if _type_checking_block(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "xstilts":  # `from xstilts import plan_module` or `__version__` (an attribute)
                found.extend((node.lineno, f"xstilts.{alias.name}" if _is_module(alias.name) else "xstilts")
                             for alias in node.names)
            elif node.module.startswith("xstilts."):
                found.append((node.lineno, node.module))
        elif isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names if alias.name.startswith("xstilts."))
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return found


def violations() -> list[str]:
    out = []
    for path in sorted(SRC.rglob("*.py")):
        module = module_name(path)
        here = unit_of(module)
        for line, target in imports(path):
            there = unit_of(target)
            if there in (here, "xstilts"):  # its own package; the version string of xstilts/__init__
                continue
            if here not in RANK or there not in RANK:
                out.append(f"{path.relative_to(SRC.parent)}:{line}: {here} or {there} is in no layer")
            elif RANK[there] >= RANK[here]:
                out.append(f"{path.relative_to(SRC.parent)}:{line}: {here} imports {target} "
                           f"({'the same layer' if RANK[there] == RANK[here] else 'a layer above'})")
    return out


def test_every_package_is_in_a_layer():
    units = {unit_of(module_name(p)) for p in SRC.rglob("*.py")} - {"xstilts"}
    assert units <= set(RANK), f"add {sorted(units - set(RANK))} to LAYERS (and to docs/architecture.md)"
    assert units, "no modules found"


def test_imports_point_downward_only():
    found = violations()
    assert not found, "imports against the layers:\n" + "\n".join(found)


def test_the_checker_sees_function_level_and_skips_type_only_imports(tmp_path):
    path = tmp_path / "m.py"
    path.write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from xstilts.studies import plan\n"
                    "def f():\n    from xstilts.cli import app\n    import xstilts.tasks.base\n")
    assert imports(path) == [(5, "xstilts.cli"), (6, "xstilts.tasks.base")]


@pytest.mark.parametrize("module", ["xstilts.config.schema", "xstilts.studies.plan"])
def test_units(module):
    assert unit_of(module) == module.split(".")[1]
