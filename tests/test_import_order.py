"""Imports go one way (DESIGN §2): every ``import attribkit.X`` in the package, at module level
or inside a function, points to the same or a lower rank of

``_checks`` < ``_progress`` < ``io`` < ``data`` < ``models`` < ``layers`` < ``viz``
< ``attr, embed, optvis`` < ``style, adversarial`` < ``recipes`` < ``demo`` < ``cli``;

subpackages of one rank do not import each other, and no module imports a private name
(``_x``) from another module.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__import__("attribkit").__file__).parent

#: rank of each top-level part of the package (``testing`` helps tests; ``__init__`` re-exports)
RANKS: dict[str, float] = {
    "_checks": 0.0,
    "_progress": 0.1,
    "io": 0.2,
    "data": 0.3,
    "models": 1,
    "layers": 2,
    "viz": 3,
    "attr": 4,
    "embed": 4,
    "optvis": 4,
    "style": 5,
    "adversarial": 5,
    "testing": 5,
    "recipes": 6,
    "demo": 6.5,
    "cli": 7,
}


def _part(module: str) -> str:
    """``attribkit.style.train`` -> ``style``."""
    return module.split(".")[1] if module.count(".") else ""


def _imports(path: Path) -> list[tuple[int, str, list[str]]]:
    """``(line, imported module, imported names)`` of every ``attribkit`` import in ``path``."""
    tree = ast.parse(path.read_text(), str(path))
    rel = path.relative_to(ROOT.parent).with_suffix("")
    package = ".".join(rel.parts[:-1] if rel.name != "__init__" else rel.parts[:-1])
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [
                (node.lineno, a.name, []) for a in node.names if a.name.startswith("attribkit.")
            ]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if mod == "attribkit" or mod.startswith("attribkit."):
                found.append((node.lineno, mod, [a.name for a in node.names]))
    return found


MODULES = sorted(p for p in ROOT.rglob("*.py"))


def test_every_part_has_a_rank() -> None:
    parts = {p.relative_to(ROOT).parts[0].removesuffix(".py") for p in MODULES}
    assert parts - {"__init__"} <= set(RANKS), sorted(parts - {"__init__"} - set(RANKS))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_go_one_way(path: Path) -> None:
    here = path.relative_to(ROOT).parts[0].removesuffix(".py")
    if here == "__init__":
        return  # the top-level package re-exports everything
    wrong = []
    for line, mod, names in _imports(path):
        there = _part(mod)
        if mod == "attribkit":
            if names != ["__version__"] and RANKS[here] < RANKS["cli"]:
                wrong.append(f"line {line}: imports the top-level package ({names})")
            continue
        if there == here:
            continue
        if RANKS[there] >= RANKS[here]:
            wrong.append(f"line {line}: {here} (rank {RANKS[here]}) imports {mod} "
                         f"(rank {RANKS[there]})")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_private_name_from_another_module(path: Path) -> None:
    wrong = [
        f"line {line}: from {mod} import {n}"
        for line, mod, names in _imports(path)
        for n in names
        if n.startswith("_") and not n.startswith("__") and mod.rsplit(".", 1)[-1] != n
    ]
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_file_over_500_lines(path: Path) -> None:
    n = len(path.read_text().splitlines())
    assert n <= 520, f"{path.relative_to(ROOT)} has {n} lines; split it by job"
