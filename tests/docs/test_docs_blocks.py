"""Every Python code block on the docs pages and in the README runs, so a renamed argument
breaks a test, not a reader.

The blocks of one page run in order in one namespace (as a reader would run them), in a
temporary folder. An HTML comment right before a block (invisible on the site) adjusts it::

    <!-- docs-test
    replace: steps=300 => steps=2
    before: photos = sample_image("chelsea", size=64)
    -->

- ``replace: OLD => NEW`` swaps literal text before the block runs (tiny settings). ``OLD`` must
  occur in the block, so a marker that no longer matches fails instead of silently not
  applying.
- ``before: CODE`` runs a line first (names the page's prose assumes, tiny data); several
  ``before:`` lines run in order.
- ``skip: REASON`` does not run the block (it is still compiled); the reason is required.
- ``xfail: REASON`` marks a block that fails today because of a known bug: the page stops there
  as an expected failure, and once the block passes the test fails until the marker goes.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = sorted((ROOT / "docs").rglob("*.md")) + [ROOT / "README.md"]
MARKER = re.compile(r"<!--\s*docs-test\b(?P<body>(?:(?!-->).)*)-->\s*\Z", re.S)
FENCE = re.compile(r"^```python[^\n]*\n(?P<code>.*?)^```\s*$", re.M | re.S)
DIRECTIVES = ("replace", "before", "skip", "xfail")


@dataclass
class Block:
    """One ``python`` code block and what its marker asks for."""

    page: Path
    line: int
    code: str
    replace: list[tuple[str, str]] = field(default_factory=list)
    before: list[str] = field(default_factory=list)
    skip: str | None = None
    xfail: str | None = None

    @property
    def where(self) -> str:
        page = self.page.relative_to(ROOT) if self.page.is_relative_to(ROOT) else self.page
        return f"{page}:{self.line}"

    def source(self) -> str:
        """The code to run: ``before`` lines, then the block with its replacements."""
        code = self.code
        for old, new in self.replace:
            if old not in code:
                raise AssertionError(
                    f"{self.where}: the marker's 'replace: {old} => {new}' no longer matches "
                    "the block; update the marker to the block's new text"
                )
            code = code.replace(old, new)
        return "\n".join([*self.before, code])


def parse_marker(body: str, where: str) -> dict[str, list[str]]:
    """The directives of one marker comment, by name."""
    found: dict[str, list[str]] = {d: [] for d in DIRECTIVES}
    for raw in body.strip().splitlines():
        line = raw.strip()
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep or name.strip() not in DIRECTIVES:
            raise AssertionError(
                f"{where}: unknown docs-test directive {line!r}; use {', '.join(DIRECTIVES)}"
            )
        found[name.strip()].append(value.strip())
    return found


def blocks(page: Path) -> list[Block]:
    """The ``python`` blocks of a page with their markers."""
    text = page.read_text(encoding="utf-8")
    out = []
    for m in FENCE.finditer(text):
        line = text.count("\n", 0, m.start()) + 1
        block = Block(page, line, m.group("code"))
        marker = MARKER.search(text[: m.start()])
        if marker:
            where = block.where
            found = parse_marker(marker.group("body"), where)
            for rule in found["replace"]:
                old, sep, new = rule.partition(" => ")
                assert sep and old, f"{where}: write 'replace: OLD => NEW', got {rule!r}"
                block.replace.append((old, new))
            block.before = found["before"]
            for name in ("skip", "xfail"):
                if found[name]:
                    assert found[name][0], f"{where}: '{name}:' needs a reason"
                    setattr(block, name, found[name][0])
        out.append(block)
    return out


ALL_BLOCKS = {page: blocks(page) for page in PAGES}


def test_markers_parse_and_blocks_compile() -> None:
    """Every block (skipped ones too) is valid Python, with and without its replacements."""
    n = 0
    for page_blocks in ALL_BLOCKS.values():
        for block in page_blocks:
            compile(block.code, block.where, "exec")
            compile(block.source(), block.where, "exec")
            n += 1
    assert n >= 15, f"found only {n} python blocks in the docs: is the parser broken?"


def test_marker_syntax_is_checked(tmp_path: Path) -> None:
    page = tmp_path / "p.md"
    page.write_text("<!-- docs-test\nrepalce: a => b\n-->\n```python\na = 1\n```\n")
    with pytest.raises(AssertionError, match="unknown docs-test directive"):
        blocks(page)
    page.write_text("<!-- docs-test\nreplace: zzz => b\n-->\n```python\na = 1\n```\n")
    with pytest.raises(AssertionError, match="no longer matches"):
        blocks(page)[0].source()
    page.write_text("<!-- docs-test\nskip:\n-->\n```python\na = 1\n```\n")
    with pytest.raises(AssertionError, match="needs a reason"):
        blocks(page)
    page.write_text("text\n\n```python\na = 1\n```\n<!-- docs-test\nskip: x\n-->\n")
    assert blocks(page)[0].skip is None  # a marker after a block belongs to the next one


@pytest.mark.parametrize(
    "page", [p for p in PAGES if ALL_BLOCKS[p]], ids=lambda p: str(p.relative_to(ROOT))
)
def test_page_blocks_run(
    page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import torch

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    torch.manual_seed(0)
    namespace: dict[str, object] = {"__name__": "__docs__"}
    ran = 0
    for block in ALL_BLOCKS[page]:
        if block.skip:
            continue
        try:
            exec(compile(block.source(), block.where, "exec"), namespace)
        except Exception as err:
            if block.xfail:
                pytest.xfail(f"{block.where}: {block.xfail} ({err!r})")
            raise AssertionError(f"the block at {block.where} fails: {err!r}") from err
        if block.xfail:
            pytest.fail(f"{block.where} passes now: remove its 'xfail: {block.xfail}' marker")
        ran += 1
    if not ran:
        pytest.skip(f"every block on {page.name} is marked skip")
    assert os.getcwd() == str(tmp_path)
