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


def _demo(out: str, use_pty: bool) -> tuple[int, str]:
    """Run ``attribkit demo --quick --only filters`` (its cheapest section) with its output on
    a pipe or on a terminal."""
    import os
    import subprocess

    cmd = [sys.executable, "-m", "attribkit.cli", "demo", "--quick", "--only", "filters",
           "--out", out]
    env = {**os.environ, "MPLBACKEND": "Agg"}
    if not use_pty:
        done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
        return done.returncode, done.stdout + done.stderr
    import fcntl
    import pty
    import struct
    import termios

    leader, follower = pty.openpty()
    # a terminal of 24 × 100 characters (a new pseudo-terminal has 0 columns: tqdm draws nothing)
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    proc = subprocess.Popen(cmd, stdout=follower, stderr=follower, env=env)
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 4096)
        except OSError:  # the terminal closes when the demo exits
            break
        if not data:
            break
        chunks.append(data)
    os.close(leader)
    return proc.wait(timeout=600), b"".join(chunks).decode("utf-8", "replace")


@pytest.mark.slow
def test_demo_in_a_pipe_prints_no_bar_and_on_a_terminal_draws_one(tmp_path) -> None:
    """End to end: the same command is quiet in a pipe (CI logs) and draws on a terminal."""
    code, piped = _demo(str(tmp_path / "pipe"), use_pty=False)
    assert code == 0, piped
    assert "\r" not in piped and "it/s" not in piped and "%|" not in piped, piped
    assert "index.html" in piped  # the one line it prints: where the report is
    pytest.importorskip("pty")
    pytest.importorskip("termios")
    code, tty = _demo(str(tmp_path / "tty"), use_pty=True)
    assert code == 0, tty
    assert "attribkit demo" in tty and "\r" in tty, tty  # tqdm redraws its bar with \r
