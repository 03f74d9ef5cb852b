"""PCA and t-SNE of the digits CNN's features and of the labelled photos' features.

    .venv/bin/python examples/tsne.py [--quick] [--out docs/img/embeddings]

Runs the ``embeddings`` recipe (:mod:`attribkit.recipes.embeddings`): writes ``scatter.png``
(PCA and t-SNE of the digits coloured by label), ``grid.png`` (the t-SNE embedding snapped to
a full grid by optimal assignment), ``thumbnails.png`` (digits at their t-SNE positions),
``photos-grid.png`` (the photos of ``photo_set()`` on a t-SNE grid of EfficientNet-Lite0
features) and ``photos-scatter.png``. ``--quick`` uses 800 digits and 8 photos per group.
"""

from __future__ import annotations

from attribkit.recipes.script import run_example

if __name__ == "__main__":
    run_example(
        "embeddings",
        __doc__,
        "docs/img/embeddings",
        files={
            "tsne-scatter": "scatter",
            "tsne-grid": "grid",
            "tsne-thumbnails": "thumbnails",
            "tsne-photos-grid": "photos-grid",
            "tsne-photos-scatter": "photos-scatter",
        },
    )
