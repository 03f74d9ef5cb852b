"""The bad-input table: one row per public name, each with bad calls and valid odd calls.

Every test module named ``test_*bad_input*.py`` under ``tests/`` defines ``ROWS: list[Row]``
and builds its two tests from them with
``test_bad_input, test_valid_odd_input = table_tests(ROWS)`` (:func:`check_bad` and
:func:`check_valid` over :func:`parametrize_rows`). ``tests/test_bad_input_table.py`` collects
the rows of all those modules and fails when a name in ``attribkit.__all__`` has no row, fewer
than five bad inputs, or no valid odd input.

A row, for example::

    Row("sample_image",
        bad=[Bad("typo", lambda: sample_image("chelsee"), ValueError, "did you mean chelsea"),
             ...],
        valid=[Valid("size as (height, width)", lambda: sample_image("chelsea", size=(8, 9)))])
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

__all__ = ["Bad", "Valid", "Row", "check_bad", "check_valid", "parametrize_rows"]


@dataclass(frozen=True)
class Bad:
    """One bad call: it must raise ``exc`` with a message matching ``match`` (a regex,
    case-insensitive)."""

    id: str
    call: Callable[[], Any]
    exc: type[BaseException] | tuple[type[BaseException], ...]
    match: str


@dataclass(frozen=True)
class Valid:
    """One odd but valid call: it must not raise; ``check`` (if given) inspects the result."""

    id: str
    call: Callable[[], Any]
    check: Callable[[Any], None] | None = None


@dataclass
class Row:
    """The bad-input row of one public name: a name in ``attribkit.__all__``, or a dotted
    ``subpackage.Name`` for names exported only by a subpackage (``"attr.LayerChannels"``)."""

    name: str
    bad: list[Bad] = field(default_factory=list)
    valid: list[Valid] = field(default_factory=list)


def check_bad(case: Bad) -> None:
    """Run a bad call and check the exception type and message."""
    with pytest.raises(case.exc) as info:
        case.call()
    message = str(info.value)
    assert re.search(case.match, message, flags=re.IGNORECASE), (
        f"{case.id}: message {message!r} does not say {case.match!r}"
    )


def check_valid(case: Valid) -> None:
    """Run a valid odd call and its check."""
    result = case.call()
    if case.check is not None:
        case.check(result)


def parametrize_rows(rows: list[Row]) -> tuple[list[Any], list[Any]]:
    """``(bad_params, valid_params)`` for ``pytest.mark.parametrize`` with readable ids."""
    bad = [pytest.param(b, id=f"{r.name}-{b.id}") for r in rows for b in r.bad]
    valid = [pytest.param(v, id=f"{r.name}-{v.id}") for r in rows for v in r.valid]
    return bad, valid


def table_tests(rows: list[Row]) -> tuple[Callable[[Bad], None], Callable[[Valid], None]]:
    """The two parametrized tests of a bad-input module, built from its ``ROWS``.

    Bind them to test names at module level, so that pytest collects them there::

        test_bad_input, test_valid_odd_input = table_tests(ROWS)
    """
    bad, valid = parametrize_rows(rows)

    @pytest.mark.parametrize("case", bad)
    def test_bad_input(case: Bad) -> None:
        check_bad(case)

    @pytest.mark.parametrize("case", valid)
    def test_valid_odd_input(case: Valid) -> None:
        check_valid(case)

    return test_bad_input, test_valid_odd_input
