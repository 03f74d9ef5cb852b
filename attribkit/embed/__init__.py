"""Feature space: feature banks, nearest neighbours, PCA / t-SNE, and image layouts."""

from attribkit.embed.bank import FeatureBank
from attribkit.embed.layout import grid_assignment, grid_layout, scatter_points, scatter_thumbnails
from attribkit.embed.neighbors import nearest_pixels, neighbor_grid
from attribkit.embed.reduce import embed
from attribkit.embed.search import Neighbors, faiss_available

__all__ = [
    "FeatureBank",
    "Neighbors",
    "embed",
    "faiss_available",
    "grid_assignment",
    "grid_layout",
    "nearest_pixels",
    "neighbor_grid",
    "scatter_points",
    "scatter_thumbnails",
]
