"""A self-contained HTML report: sections of captioned pictures, failures shown in place.

The report is written to a folder (``index.html`` next to its PNGs, every file written
atomically) and shows itself inline in Jupyter (``_repr_html_``, pictures embedded).
"""

from __future__ import annotations

import html
import re
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import torch
from PIL import Image

from attribkit.io import atomic_path, save_image
from attribkit.viz.display import html_image

__all__ = ["Report", "Section", "Figure"]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "item"


@dataclass
class Figure:
    """One picture in a section, with its caption (what was done and what it reached).

    ``path`` is relative to the report's folder, ``root``; in Jupyter the figure shows the
    picture inline.
    """

    path: str
    caption: str
    root: Path | None = field(default=None, repr=False, compare=False)

    def _repr_html_(self) -> str:
        file = (self.root / self.path) if self.root is not None else Path(self.path)
        if file.is_file():
            with Image.open(file) as picture:
                return html_image(picture.convert("RGB"), self.caption)
        return f"<p>{html.escape(self.caption)} (missing file {html.escape(str(file))})</p>"


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
        """Save ``image`` as a PNG next to the report (or reference a file there) and caption it.

        Args:
            image: an image tensor ``[1×]C×H×W`` in [0, 1], a PIL image, or the path of a
                picture file already written (inside the report's folder, or anywhere).
            caption: what the picture shows.
            name: the file's stem (default: the section's key and a number).

        Returns:
            The path of the picture.
        """
        if not isinstance(caption, str):
            raise TypeError(f"caption must be a string, got {type(caption).__name__}")
        if name is not None and (not isinstance(name, str) or not name.strip()):
            raise ValueError(f"name must be a non-empty string or None, got {name!r}")
        if isinstance(image, (str, Path)):
            path = Path(image)
            if not path.is_file():
                raise FileNotFoundError(f"no picture file at {path}; save it first")
        elif isinstance(image, (torch.Tensor, Image.Image)):
            stem = name or f"{self.key}-{len(self.figures) + 1}"
            path = save_image(image, self.out_dir / f"{_slug(stem)}.png")
        else:
            raise TypeError(
                f"image must be an image tensor, a PIL image or a file path, got "
                f"{type(image).__name__}"
            )
        try:
            rel = path.resolve().relative_to(self.out_dir.resolve()).as_posix()
        except ValueError:
            rel = path.resolve().as_posix()
        self.figures.append(Figure(rel, caption, root=self.out_dir))
        return path

    def add_note(self, text: str) -> None:
        """Add a paragraph of text (figures measured, settings) under the pictures."""
        if not isinstance(text, str):
            raise TypeError(f"a note must be a string, got {type(text).__name__}")
        self.notes.append(text)

    def _repr_html_(self) -> str:
        return _section_html(self, inline=True)


class Report:
    """Collects sections and writes ``out_dir/index.html`` with relative links to the PNGs.

    Args:
        out_dir: the report's folder (created; an existing folder is reused).
        title: the page title.

    In Jupyter a report (and each section and figure) shows inline, its pictures embedded.

    Examples:
        >>> import tempfile, torch
        >>> rep = Report(tempfile.mkdtemp(), "demo")
        >>> with rep.section("saliency", "Saliency") as s:
        ...     _ = s.add_figure(torch.rand(3, 8, 8), "random")
        >>> rep.write().name
        'index.html'
    """

    def __init__(self, out_dir: str | Path, title: str = "attribkit report") -> None:
        if not isinstance(out_dir, (str, Path)) or not str(out_dir):
            raise TypeError(f"out_dir must be a folder path (str or Path), got {out_dir!r}")
        if not isinstance(title, str):
            raise TypeError(f"title must be a string, got {type(title).__name__}")
        self.out_dir = Path(out_dir)
        if self.out_dir.exists() and not self.out_dir.is_dir():
            raise ValueError(f"{self.out_dir} is a file; give the report a folder of its own")
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.title = title
        self.sections: list[Section] = []
        self.meta: list[str] = []

    @property
    def failed(self) -> list[Section]:
        """Sections that raised."""
        return [s for s in self.sections if s.error is not None]

    def section(self, key: str, title: str, intro: str = "") -> _SectionContext:
        """Open a section; an exception inside is recorded in the section, not raised.

        ``key`` names the section's anchor and picture files, so it must be unique in the
        report and contain a letter or digit.
        """
        if not isinstance(key, str) or not re.search(r"[A-Za-z0-9]", key):
            raise ValueError(f"a section key must be a string with a letter or digit, got {key!r}")
        if not isinstance(title, str) or not isinstance(intro, str):
            raise TypeError("a section's title and intro must be strings")
        taken = {_slug(s.key) for s in self.sections}
        if _slug(key) in taken:
            raise ValueError(
                f"the report already has a section {key!r} (its pictures would overwrite each "
                "other); give each section its own key"
            )
        sec = Section(key=key, title=title, out_dir=self.out_dir, intro=intro)
        self.sections.append(sec)
        return _SectionContext(sec)

    def write(self) -> Path:
        """Write ``index.html`` (atomically) and return its path."""
        parts = [
            "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
            f"<title>{html.escape(self.title)}</title><link rel='icon' href='data:,'>",
            "<meta name='viewport' content='width=device-width, initial-scale=1'>",
            f"<style>{_CSS}</style></head><body>",
            _body_html(self, inline=False),
            "</body></html>",
        ]
        path = self.out_dir / "index.html"
        with atomic_path(path) as tmp:
            tmp.write_text("\n".join(parts), encoding="utf-8")
        return path

    def _repr_html_(self) -> str:
        return f"<div class='attribkit-report'>{_body_html(self, inline=True)}</div>"


def _figure_html(f: Figure, inline: bool) -> str:
    if inline:
        return f._repr_html_()
    caption = html.escape(f.caption)
    return (
        f"<figure><img src='{html.escape(f.path)}' alt='{caption}'>"
        f"<figcaption>{caption}</figcaption></figure>"
    )


def _section_html(s: Section, inline: bool) -> str:
    """One section; ``inline`` embeds the pictures (Jupyter), else links to the PNG files."""
    parts = [f"<section id='{_slug(s.key)}'><h2>{html.escape(s.title)}</h2>"]
    if s.intro:
        parts.append(f"<p>{html.escape(s.intro)}</p>")
    if s.error:
        style = " style='background:#fee;border:1px solid #c00;padding:.6em'" if inline else ""
        parts.append(f"<pre class='error'{style}>{html.escape(s.error)}</pre>")
    parts.extend(_figure_html(f, inline) for f in s.figures)
    parts.extend(f"<p class='note'>{html.escape(n)}</p>" for n in s.notes)
    parts.append(f"<p class='time'>section time: {s.seconds:.1f} s</p></section>")
    return "\n".join(parts)


def _body_html(report: Report, inline: bool) -> str:
    parts = [f"<h1>{html.escape(report.title)}</h1>"]
    if report.meta:
        parts.append("<p class='meta'>" + "<br>".join(html.escape(m) for m in report.meta) + "</p>")
    parts.append("<nav><ul>")
    for s in report.sections:
        mark = " <span class='bad'>(failed)</span>" if s.error else ""
        parts.append(f"<li><a href='#{_slug(s.key)}'>{html.escape(s.title)}</a>{mark}</li>")
    parts.append("</ul></nav>")
    parts.extend(_section_html(s, inline) for s in report.sections)
    return "\n".join(parts)


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
