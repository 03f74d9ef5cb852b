"""The ``Examples:`` in attribkit's docstrings run, one test per docstring.

This is ``pytest --doctest-modules attribkit`` with readable ids, run by the plain
``python -m pytest``: every module of the package is imported and each docstring with
examples runs in a temporary folder (examples that write files leave nothing behind), with
``ELLIPSIS`` and ``NORMALIZE_WHITESPACE``.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil
from pathlib import Path

import pytest

import attribkit

FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def _docstrings() -> list[doctest.DocTest]:
    finder = doctest.DocTestFinder()
    found = []
    names = [
        m.name
        for m in pkgutil.walk_packages(attribkit.__path__, "attribkit.")
        if not m.name.endswith(".__main__")  # a script: importing it runs it
    ]
    for name in ["attribkit", *names]:
        module = importlib.import_module(name)
        found.extend(t for t in finder.find(module) if t.examples)
    return sorted(found, key=lambda t: t.name)


DOCTESTS = _docstrings()


def test_the_package_has_examples() -> None:
    """Guards the collector: the package has well over a hundred docstring examples."""
    assert len(DOCTESTS) >= 100, f"found only {len(DOCTESTS)} docstrings with examples"


@pytest.mark.parametrize("test", DOCTESTS, ids=[t.name for t in DOCTESTS])
def test_docstring_examples(
    test: doctest.DocTest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import matplotlib

    matplotlib.use("Agg")
    monkeypatch.chdir(tmp_path)
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    test.globs = dict(test.globs)  # each run starts from the module's names, unchanged
    failures: list[str] = []
    runner.run(test, out=failures.append)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{test.name} ({test.filename}):\n" + "".join(failures)
