"""Pictures: grids, labels, heatmap overlays and the HTML report."""

from attribkit.viz.display import display_inline, html_image, png_bytes
from attribkit.viz.grid import gradient_image, label, make_grid, normalize_each, save_or_show, show
from attribkit.viz.overlay import attribution_figure, figure_to_tensor, heatmap_overlay
from attribkit.viz.report import Figure, Report, Section

__all__ = [
    "Figure",
    "Report",
    "Section",
    "attribution_figure",
    "display_inline",
    "figure_to_tensor",
    "gradient_image",
    "heatmap_overlay",
    "html_image",
    "label",
    "make_grid",
    "normalize_each",
    "png_bytes",
    "save_or_show",
    "show",
]
