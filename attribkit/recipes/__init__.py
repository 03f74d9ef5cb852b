"""Each technique's lecture settings, written once, with a function that runs them.

Every recipe module has ``run(ctx: RecipeContext) -> Pictures`` (the lecture's pictures with
captions and measured figures, in quick or full mode) and the per-image functions and defaults
that the CLI commands and the examples call. ``attribkit demo`` shows :data:`RECIPES` in order.

Examples:
    >>> from attribkit.recipes import RECIPES
    >>> RECIPES[0]
    'filters'
"""

from __future__ import annotations

import importlib
from types import ModuleType

from attribkit.recipes.context import Picture, Pictures, RecipeContext, pick, timed

__all__ = ["RECIPES", "Picture", "Pictures", "RecipeContext", "pick", "timed", "recipe"]

#: The recipe modules, in the lecture's order (DESIGN.md §1).
RECIPES = (
    "filters",
    "neighbors",
    "embeddings",
    "activations",
    "patches",
    "occlusion",
    "saliency",
    "guided",
    "gradcam",
    "classvis",
    "fool",
    "dream",
    "invert",
    "texture",
    "style",
)


def recipe(name: str) -> ModuleType:
    """The recipe module called ``name`` (one of :data:`RECIPES`).

    Examples:
        >>> recipe("occlusion").default_window(224)
        (16, 8)
    """
    if name not in RECIPES:
        raise ValueError(f"unknown recipe {name!r}; choose from {', '.join(RECIPES)}")
    return importlib.import_module(f"attribkit.recipes.{name}")
