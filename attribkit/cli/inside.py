"""Commands ``filters``, ``activations``, ``patches``, ``neighbors`` and ``tsne`` (looking
inside): options, then the recipe's calls."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from attribkit.cli.common import (
    IMAGE_OPTS,
    Command,
    UsageError,
    device_arg,
    images_arg,
    model_arg,
    out_path,
    written,
)

__all__ = ["COMMANDS"]


def _folder_loader(args: argparse.Namespace, size: int) -> Any:
    """A (per-rank) DataLoader of ``--crops`` random crops per image of ``--data``."""
    from attribkit.layers.distributed import image_folder_loader

    folder = Path(args.data)
    if not folder.is_dir():
        raise UsageError(f"--data {folder} is not a folder")
    try:
        return image_folder_loader(
            folder,
            size,
            batch_size=16,
            workers=getattr(args, "workers", 0) or 0,
            crops_per_image=args.crops,
            seed=args.seed,
        )
    except ValueError as err:
        raise UsageError(f"--data: {err}") from err


def _run_filters(args: argparse.Namespace) -> int:
    from attribkit.layers import filter_grid

    model, _ = model_arg(args)
    path = out_path(args, f"filters-{(args.layer or 'first').replace('.', '_')}.png")
    filter_grid(model, args.layer, path=path)
    written(path)
    return 0


def _run_activations(args: argparse.Namespace) -> int:
    from attribkit.layers import activation_grid
    from attribkit.recipes.activations import DEFAULT_LAYER

    model, _ = model_arg(args)
    layer = args.layer or DEFAULT_LAYER
    for name, x in images_arg(args):
        grid = activation_grid(model, layer, x)
        path = out_path(args, f"activations-{name}-{layer.replace('.', '_')}.png")
        grid.save(path)
        print(f"{name}: layer {layer}, most active channel {grid.most_active}")
        written(path)
    return 0


def _run_patches(args: argparse.Namespace) -> int:
    from attribkit.layers import MaxActivatingPatches
    from attribkit.layers.distributed import (
        atomic_path,
        process_group_from_env,
        quiet_unless_main,
        rank_device,
    )
    from attribkit.recipes.patches import DEFAULT_LAYER, distinct_rows, photo_crop_set

    # under torchrun every rank scans its shard; rank 0 merges exactly and writes
    with process_group_from_env(args.device), quiet_unless_main() as main:
        model, _ = model_arg(args)
        model = model.to(rank_device(device_arg(args)))
        layer = args.layer or DEFAULT_LAYER
        if args.data:
            data = _folder_loader(args, 128)
            k = args.k
        else:  # the labelled photos: keep more hits so each row shows different photos
            data, sources, n = photo_crop_set(None, args.crops, 128, seed=args.seed)
            data = data.to(device_arg(args))
            k = 4 * args.k
        mp = MaxActivatingPatches(model, layer, k=k, show_progress=args.progress if main else False)
        mp.scan(data)
        if not main:
            return 0
        path = out_path(args, f"patches-{layer.replace('.', '_')}.png")
        with atomic_path(path) as tmp:
            if args.data:
                mp.grid(
                    getattr(data, "dataset", data), mp.top_channels(args.rows), size=64, path=tmp
                )
            else:
                from attribkit.io import save_image

                grid, _ = distinct_rows(mp, data, sources, mp.top_channels(args.rows), args.k)
                save_image(grid, tmp)
        rf = mp.receptive_field().size
        print(f"layer {layer}: {mp.n_images} crops scanned, receptive field {rf}")
        written(path)
    return 0


def _digits(args: argparse.Namespace) -> tuple[Any, Any, Any]:
    from attribkit.models import load_digits_tensors, train_digits_cnn

    model, acc = train_digits_cnn(seed=args.seed)
    x, y = load_digits_tensors()
    print(f"digits CNN trained (held-out accuracy {acc:.1%})")
    return model, x, y


def _run_neighbors(args: argparse.Namespace) -> int:
    import torch

    from attribkit.embed import FeatureBank, neighbor_grid
    from attribkit.layers.distributed import (
        atomic_path,
        gather_images,
        process_group_from_env,
        quiet_unless_main,
        rank_device,
    )
    from attribkit.recipes.neighbors import PHOTO_LAYER, knn, label_agreement

    labels = None
    # under torchrun every rank extracts its shard; the bank is gathered, rank 0 writes
    with process_group_from_env(args.device), quiet_unless_main() as main:
        if args.model is None and not args.data:
            model, x, labels = _digits(args)
            bank = FeatureBank.from_model(model, x, "flatten", pool=None, show_progress=False)
            queries = torch.tensor([int(torch.nonzero(labels == c)[0]) for c in range(10)])
        else:
            from attribkit.data import photo_set

            model, _ = model_arg(args)
            model = model.to(rank_device(device_arg(args)))
            if args.data:
                data = _folder_loader(args, 128)
            else:  # the labelled photos, one query per group
                data, labels = photo_set(size=224).stack()
                data = data.to(device_arg(args))
            bank = FeatureBank.from_model(
                model,
                data,
                args.layer or PHOTO_LAYER,
                pool="avg",
                show_progress=args.progress if main else False,
            )
            x = data if isinstance(data, torch.Tensor) else gather_images(data)
            if labels is None:
                queries = torch.arange(0, len(x), max(1, len(x) // 8))[:8]
            else:
                queries = torch.tensor(
                    [int(torch.nonzero(labels == c)[0]) for c in labels.unique()]
                )
        if not main:
            return 0
        nf = knn(bank.features, args.k, "cosine")
        npix = knn(x, args.k)
        rows = [
            type(nb)(nb.indices[queries], nb.distances[queries], nb.metric, nb.backend)
            for nb in (nf, npix)
        ]
        path = out_path(args, "neighbors.png")
        with atomic_path(path) as tmp:
            neighbor_grid(x[queries], x, rows, size=48, path=tmp)
        print("rows: query, then its nearest neighbours in feature space / in pixel space")
        if labels is not None:
            a = label_agreement(bank.features, x, labels, args.k)
            print(
                f"the {args.k} nearest share the query's label {float(a.features.mean()):.1%} "
                f"(features) vs {float(a.pixels.mean()):.1%} (pixels); chance "
                f"{float(a.chance.mean()):.1%}"
            )
        written(path)
    return 0


def _run_tsne(args: argparse.Namespace) -> int:
    from attribkit.embed import embed, scatter_thumbnails
    from attribkit.layers import extract_features
    from attribkit.recipes.embeddings import square_grid

    model, x, _ = _digits(args)
    feats = extract_features(model, x, "flatten", show_progress=args.progress)
    assert not isinstance(feats, dict)
    coords = embed(feats, args.method, seed=args.seed)
    grid, _ = square_grid(x, coords, thumb=16, seed=args.seed)
    path = out_path(args, f"{args.method}-grid.png")
    from attribkit.io import save_image

    save_image(grid, path)
    written(path)
    path = out_path(args, f"{args.method}-scatter.png")
    scatter_thumbnails(x, coords, canvas=1024, thumb=16, path=path)
    written(path)
    return 0


def _k_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--k", type=int, default=8, help="how many per row")
    p.add_argument("--crops", type=int, default=16, help="random crops per photo")
    p.add_argument("--data", help="folder of images to scan instead of the bundled photos")
    p.add_argument("--workers", type=int, default=0, help="DataLoader workers for --data")


def _patches_arguments(p: argparse.ArgumentParser) -> None:
    _k_arguments(p)
    p.add_argument("--rows", type=int, default=8, help="channels to show")


def _tsne_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--method", choices=["tsne", "pca"], default="tsne")


COMMANDS: list[Command] = [
    Command(
        "filters",
        "grid of a conv layer's kernels (first layer as RGB, deeper as grayscale)",
        "attribkit filters\nattribkit filters --layer _blocks.1._expand_conv",
        ("model", "layer", "seed", "out", "device", "no-progress"),
        _run_filters,
    ),
    Command(
        "activations",
        "a layer's feature maps for an image, as a grayscale grid",
        "attribkit activations chelsea --layer _blocks.2",
        (*IMAGE_OPTS, "layer"),
        _run_activations,
    ),
    Command(
        "patches",
        "maximally activating patches per channel over crops of the labelled photos, "
        "cropped to the receptive field",
        "attribkit patches --layer _blocks.4 --k 6\nattribkit patches --data my_photos/\n"
        "torchrun --standalone --nproc_per_node 2 --no-python attribkit patches --data my_photos/",
        ("model", "layer", "seed", "out", "device", "no-progress"),
        _run_patches,
        _patches_arguments,
    ),
    Command(
        "neighbors",
        "nearest neighbours in feature space vs pixel space (digits CNN by default; the "
        "labelled photos with --model)",
        "attribkit neighbors\nattribkit neighbors --model efficientnet_lite0 --layer _bn1",
        ("model", "layer", "seed", "out", "device", "no-progress"),
        _run_neighbors,
        _k_arguments,
    ),
    Command(
        "tsne",
        "t-SNE (or PCA) of the digits CNN's features, as a scatter and a full image grid",
        "attribkit tsne\nattribkit tsne --method pca",
        ("seed", "out", "no-progress"),
        _run_tsne,
        _tsne_arguments,
    ),
]
