"""Input checks shared by every public entry point.

Each check raises ``ValueError`` or ``TypeError`` with a message that says what was wrong and
what to do about it, so that bad input never turns into a silently wrong answer.

The checks live in submodules by job (:mod:`.numbers`, :mod:`.tensors`, :mod:`.targets`,
:mod:`.files`); import them from here."""

from __future__ import annotations

from attribkit._checks import files, numbers, targets, tensors
from attribkit._checks.files import *  # noqa: F403
from attribkit._checks.numbers import *  # noqa: F403
from attribkit._checks.targets import *  # noqa: F403
from attribkit._checks.tensors import *  # noqa: F403

__all__ = [*files.__all__, *numbers.__all__, *targets.__all__, *tensors.__all__]
