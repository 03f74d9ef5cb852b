"""A self-contained HTML report: sections of captioned pictures, failures shown in place."""

from __future__ import annotations

import html
import re
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import torch
from PIL import Image

from attribkit.io import save_image

__all__ = ["Report", "Section", "Figure"]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "item"


@dataclass
class Figure:
    """One picture in a section, with its caption (what was done and what it reached)."""

    path: str
    caption: str


@dataclass
class Section:
    """One part of the report; technique code adds figures, text and tables to it."""

    key: str
    title: str
    out_dir: Path
    intro: str = ""
    figures: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0

    def add_figure(
        self, image: torch.Tensor | Image.Image | str | Path, caption: str, name: str | None = None
    ) -> Path:
        """Save ``image`` as a PNG next to the report (or reference a file there) and caption it."""
        if isinstance(image, (str, Path)):
            path = Path(image)
        else:
            stem = name or f"{self.key}-{len(self.figures) + 1}"
            path = save_image(image, self.out_dir / f"{_slug(stem)}.png")
        try:
            rel = path.resolve().relative_to(self.out_dir.resolve()).as_posix()
        except ValueError:
            rel = path.as_posix()
        self.figures.append(Figure(rel, caption))
        return path

    def add_note(self, text: str) -> None:
        """Add a paragraph of text (figures measured, settings) under the pictures."""
        self.notes.append(text)


class Report:
    """Collects sections and writes ``out_dir/index.html`` with relative links to the PNGs.

    Examples:
        >>> import tempfile, torch
        >>> rep = Report(tempfile.mkdtemp(), "demo")
        >>> with rep.section("saliency", "Saliency") as s:
        ...     _ = s.add_figure(torch.rand(3, 8, 8), "random")
        >>> rep.write().name
        'index.html'
    """

    def __init__(self, out_dir: str | Path, title: str = "attribkit report") -> None:
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.title = title
        self.sections: list[Section] = []
        self.meta: list[str] = []

    @property
    def failed(self) -> list[Section]:
        """Sections that raised."""
        return [s for s in self.sections if s.error is not None]

    def section(self, key: str, title: str, intro: str = "") -> _SectionContext:
        """Open a section; an exception inside is recorded in the section, not raised."""
        sec = Section(key=key, title=title, out_dir=self.out_dir, intro=intro)
        self.sections.append(sec)
        return _SectionContext(sec)

    def write(self) -> Path:
        """Write ``index.html`` and return its path."""
        parts = [
            "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
            f"<title>{html.escape(self.title)}</title><link rel='icon' href='data:,'>",
            "<meta name='viewport' content='width=device-width, initial-scale=1'>",
            f"<style>{_CSS}</style></head><body>",
            f"<h1>{html.escape(self.title)}</h1>",
        ]
        if self.meta:
            parts.append(
                "<p class='meta'>" + "<br>".join(html.escape(m) for m in self.meta) + "</p>"
            )
        parts.append("<nav><ul>")
        for s in self.sections:
            mark = " <span class='bad'>(failed)</span>" if s.error else ""
            parts.append(f"<li><a href='#{_slug(s.key)}'>{html.escape(s.title)}</a>{mark}</li>")
        parts.append("</ul></nav>")
        for s in self.sections:
            parts.append(f"<section id='{_slug(s.key)}'><h2>{html.escape(s.title)}</h2>")
            if s.intro:
                parts.append(f"<p>{html.escape(s.intro)}</p>")
            if s.error:
                parts.append(f"<pre class='error'>{html.escape(s.error)}</pre>")
            for f in s.figures:
                parts.append(
                    f"<figure><img src='{html.escape(f.path)}' alt='{html.escape(f.caption)}'>"
                    f"<figcaption>{html.escape(f.caption)}</figcaption></figure>"
                )
            for n in s.notes:
                parts.append(f"<p class='note'>{html.escape(n)}</p>")
            parts.append(f"<p class='time'>section time: {s.seconds:.1f} s</p></section>")
        parts.append("</body></html>")
        path = self.out_dir / "index.html"
        path.write_text("\n".join(parts), encoding="utf-8")
        return path


class _SectionContext:
    def __init__(self, section: Section) -> None:
        self.section = section
        self._t0 = 0.0

    def __enter__(self) -> Section:
        self._t0 = time.perf_counter()
        return self.section

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> bool:
        self.section.seconds = time.perf_counter() - self._t0
        if exc is None:
            return False
        if isinstance(exc, KeyboardInterrupt):
            return False
        lines = traceback.format_exception(type(exc), exc, exc.__traceback__)
        self.section.error = f"{type(exc).__name__}: {exc}\n\n" + "".join(lines[-6:])
        return True


_CSS = """
body{font-family:system-ui,sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;color:#222}
h1{font-size:1.8em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}
figure{display:inline-block;margin:.5em;vertical-align:top;max-width:100%}
figure img{max-width:100%;border:1px solid #ddd;image-rendering:auto}
figcaption{font-size:.85em;color:#444;max-width:60ch}
.error{background:#fee;border:1px solid #c00;padding:.6em;white-space:pre-wrap}
.bad{color:#c00}.meta,.time{color:#666;font-size:.85em}.note{font-size:.9em}
"""
