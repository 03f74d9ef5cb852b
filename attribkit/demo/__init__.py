"""``attribkit demo``: run every technique offline and write an HTML report.

Each section is a recipe of :mod:`attribkit.recipes` (its settings and pictures written once,
shared with the CLI and the examples), or a module of this package with a function
``run(ctx: DemoContext, section: Section) -> None``. Sections are listed in the lecture's order
(DESIGN.md §1); a section whose module is not part of this installation is left out, and a
section that raises is shown in the report with its message while the others still run.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from attribkit._progress import progress_bar
from attribkit.recipes.context import Pictures, RecipeContext
from attribkit.viz.report import Report, Section

__all__ = [
    "DemoContext",
    "SECTIONS",
    "add_pictures",
    "available_sections",
    "section_keys",
    "run_demo",
]

#: (key, title, module) in the lecture's order. A module under ``attribkit.recipes`` is a
#: recipe (``run(ctx) -> Pictures``); any other has ``run(ctx, section)``.
SECTIONS: list[tuple[str, str, str]] = [
    ("filters", "1. First-layer filters", "attribkit.recipes.filters"),
    (
        "neighbors",
        "2. Nearest neighbours: feature space vs pixel space",
        "attribkit.recipes.neighbors",
    ),
    ("tsne", "3. PCA / t-SNE embeddings", "attribkit.recipes.embeddings"),
    ("activations", "4. Activation maps", "attribkit.recipes.activations"),
    ("patches", "5. Maximally activating patches", "attribkit.recipes.patches"),
    ("occlusion", "6. Occlusion", "attribkit.recipes.occlusion"),
    ("saliency", "7. Saliency maps and GrabCut", "attribkit.recipes.saliency"),
    ("guided", "8. Guided backprop", "attribkit.recipes.guided"),
    ("gradcam", "8b. Grad-CAM and Guided Grad-CAM", "attribkit.recipes.gradcam"),
    ("classvis", "9. Class and neuron visualization", "attribkit.recipes.classvis"),
    ("fool", "10. Fooling images", "attribkit.recipes.fool"),
    ("dream", "11. DeepDream", "attribkit.recipes.dream"),
    ("invert", "12. Feature inversion", "attribkit.recipes.invert"),
    ("texture", "13. Texture synthesis", "attribkit.recipes.texture"),
    ("style", "14. Neural style transfer", "attribkit.recipes.style"),
    ("faststyle", "15–16. Fast style transfer and style mixing", "attribkit.demo.faststyle"),
]


@dataclass
class DemoContext(RecipeContext):
    """What every demo section gets: the recipes' context plus the report's folder."""

    out_dir: Path = field(default_factory=lambda: Path("demo-out"))


def add_pictures(section: Section, pictures: Pictures) -> None:
    """Put a recipe's pictures, introduction and notes into a report section."""
    if pictures.intro:
        section.intro = pictures.intro
    for pic in pictures.pictures:
        section.add_figure(pic.image, pic.caption, name=pic.name)
    for text in pictures.notes:
        section.add_note(text)


def _recipe_section(
    recipe: Callable[[RecipeContext], Pictures],
) -> Callable[[DemoContext, Section], None]:
    def run(ctx: DemoContext, section: Section) -> None:
        add_pictures(section, recipe(ctx))

    return run


def available_sections() -> list[tuple[str, str, Callable[[DemoContext, Section], None]]]:
    """Sections whose module is part of this installation, in lecture order."""
    out = []
    for key, title, module in SECTIONS:
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as err:
            if err.name == module:
                continue
            raise
        fn = _recipe_section(mod.run) if module.startswith("attribkit.recipes.") else mod.run
        out.append((key, title, fn))
    return out


def section_keys() -> list[str]:
    """Keys accepted by ``--only``."""
    return [k for k, _, _ in available_sections()]


def run_demo(
    out_dir: str | Path,
    *,
    quick: bool = True,
    only: Sequence[str] | None = None,
    model: nn.Module | None = None,
    model_name: str = "EfficientNet-Lite0 (ImageNet)",
    seed: int = 0,
    device: str | torch.device = "cpu",
    show_progress: bool | None = None,
) -> Report:
    """Run the demo sections and write ``out_dir/index.html``.

    Args:
        out_dir: folder for the report and its PNGs.
        quick: small step counts (a few minutes on 2 CPU cores); else quality settings.
        only: keys of the sections to run (see :func:`section_keys`); all by default.
        model: the classifier (images in [0, 1]); EfficientNet-Lite0 by default.
        model_name: how the report names the model.
        seed: seed for every random choice.
        device: where to run.
        show_progress: show the overall and per-section progress bars.

    Returns:
        The written :class:`~attribkit.viz.Report`; ``report.failed`` lists failed sections.
    """
    sections = available_sections()
    keys = [k for k, _, _ in sections]
    if only:
        unknown = [k for k in only if k not in keys]
        if unknown:
            raise ValueError(f"unknown section(s) {unknown}; choose from {keys}")
        sections = [s for s in sections if s[0] in set(only)]
    dev = torch.device(device)
    if model is None:
        from attribkit.models import efficientnet_lite0

        model = efficientnet_lite0()
    model = model.to(dev).eval()
    out = Path(out_dir)
    report = Report(out, "attribkit demo")
    report.meta.append(
        f"model: {model_name}; device: {dev}; seed: {seed}; mode: {'quick' if quick else 'full'}"
    )
    ctx = DemoContext(
        model=model,
        model_name=model_name,
        out_dir=out,
        quick=quick,
        seed=seed,
        device=dev,
        show_progress=show_progress,
    )
    t0 = time.perf_counter()
    bar = progress_bar(sections, desc="attribkit demo", show_progress=show_progress, leave=True)
    for key, title, fn in bar:
        bar.set_postfix_str(key)
        with report.section(key, title) as sec:
            fn(ctx, sec)
        report.write()
    report.meta.append(f"total time: {time.perf_counter() - t0:.1f} s")
    report.write()
    return report
