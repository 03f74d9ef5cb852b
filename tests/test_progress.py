"""Progress bars: drawn on terminals and notebooks, silent in pipes and CI logs."""

import io
import sys

import pytest

from attribkit._progress import progress_bar, progress_enabled


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_forced_values_win() -> None:
    assert progress_enabled(True) is True
    assert progress_enabled(False) is False


def test_auto_is_off_in_a_pipe_and_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    assert progress_enabled(None) is False
    monkeypatch.setattr(sys, "stderr", _Tty())
    assert progress_enabled(None) is True


def test_auto_bar_writes_nothing_to_a_pipe(monkeypatch: pytest.MonkeyPatch) -> None:
    pipe = io.StringIO()
    monkeypatch.setattr(sys, "stderr", pipe)
    assert list(progress_bar(range(3), desc="quiet")) == [0, 1, 2]
    assert pipe.getvalue() == ""


def test_forced_bar_draws_in_a_pipe() -> None:
    out = io.StringIO()
    list(progress_bar(range(3), desc="loud", show_progress=True, file=out))
    assert "loud" in out.getvalue()


def test_cli_progress_flags() -> None:
    from attribkit.cli import build_parser

    parser = build_parser()
    assert parser.parse_args(["saliency", "chelsea"]).progress is None
    assert parser.parse_args(["saliency", "chelsea", "--progress"]).progress is True
    assert parser.parse_args(["saliency", "chelsea", "--no-progress"]).progress is False
