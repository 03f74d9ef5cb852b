"""Every public name has a bad-input row: at least five bad inputs and one valid odd input.

The rows live next to the code they test, in ``tests/**/test_*bad_input*.py`` modules that each
define ``ROWS`` (see ``tests/badinput.py``); those modules run the calls. This test only checks
that the table is complete, so a new public name without a row fails here. The names of
:data:`EXEMPT` (modules being rewritten on other branches) are the only exceptions, and each
is temporary.
"""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path

import attribkit

TESTS = Path(__file__).parent
#: Names that take no input at all.
NO_INPUT = {"__version__"}
MIN_BAD = 5

#: Public names allowed to lack a row for now, each with the reason. Every entry is temporary:
#: the lead removes it when the branch named here is merged (its rows come with it), so that
#: from then on a new public name without a row fails. An exempt name that has a row fails
#: :func:`test_exemptions_are_still_needed`, a reminder to drop it.
EXEMPT: dict[str, str] = {
    # Modules being rewritten on other branches in this round; their rows land with them.
    **dict.fromkeys(
        ["main", "build_parser", "COMMANDS", "Command",
         "run_demo", "DemoContext", "SECTIONS", "section_keys"],
        "attribkit.cli / attribkit.demo: being rewritten",
    ),  # fmt: skip
}


def _rows() -> dict[str, tuple[int, int]]:
    counts: dict[str, tuple[int, int]] = {}
    for path in sorted(TESTS.rglob("test_*bad_input*.py")):
        if path.name == Path(__file__).name:
            continue
        spec = importlib.util.spec_from_file_location(f"_badinput_{path.stem}", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        for row in getattr(module, "ROWS", []):
            bad, valid = counts.get(row.name, (0, 0))
            counts[row.name] = (bad + len(row.bad), valid + len(row.valid))
    return counts


def test_every_public_name_has_a_complete_row() -> None:
    counts = _rows()
    missing = [
        n for n in attribkit.__all__ if n not in NO_INPUT and n not in counts and n not in EXEMPT
    ]
    thin = [
        f"{n} ({b} bad, {v} valid)"
        for n, (b, v) in sorted(counts.items())
        if b < MIN_BAD or v < 1
    ]
    assert not missing, f"public names without a bad-input row: {missing}"
    assert not thin, f"rows with fewer than {MIN_BAD} bad inputs or no valid odd input: {thin}"


def _exported(name: str) -> bool:
    """A top-level name, or a dotted ``subpackage.Name`` exported by that subpackage."""
    if "." not in name:
        return name in attribkit.__all__
    module_name, _, attr = name.rpartition(".")
    module = importlib.import_module(f"attribkit.{module_name}")
    return attr in getattr(module, "__all__", [])


def test_rows_name_public_names() -> None:
    unknown = [n for n in _rows() if not _exported(n)]
    assert not unknown, f"bad-input rows for names that attribkit does not export: {unknown}"


def test_exemptions_are_still_needed() -> None:
    """An exempt name that has its row now is listed for nothing: drop it from ``EXEMPT``."""
    counts = _rows()
    covered = sorted(n for n in EXEMPT if any(r.rpartition(".")[2] == n for r in counts))
    assert not covered, f"exempt names that have rows now (remove them from EXEMPT): {covered}"
