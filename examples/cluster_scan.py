"""Top-k patches and a neighbour bank over an image folder, on one or many processes.

Run it plainly (one process) or under torchrun; the result is the same file either way:

    python examples/cluster_scan.py --quick
    OMP_NUM_THREADS=1 torchrun --standalone --nproc_per_node 2 examples/cluster_scan.py --quick

Without ``--data`` it scans the bundled photos (written to ``$TMPDIR/attribkit-photos``).
"""

from __future__ import annotations

import time
from pathlib import Path

from attribkit.embed import FeatureBank
from attribkit.layers import MaxActivatingPatches
from attribkit.layers.distributed import (
    atomic_path,
    barrier,
    image_folder_loader,
    is_main_process,
    process_group_from_env,
    rank_device,
)
from attribkit.models import efficientnet_lite0
from attribkit.recipes.script import example_parser


def _bundled_folder() -> Path:
    import tempfile

    from attribkit.data import sample_image, sample_names
    from attribkit.io import save_image

    folder = Path(tempfile.gettempdir()) / "attribkit-photos"
    if is_main_process():
        folder.mkdir(parents=True, exist_ok=True)
        for n in sample_names("photos"):
            save_image(sample_image(n, size=256)[0], folder / f"{n}.png")
    barrier()  # the other ranks read the folder once rank 0 wrote it
    return folder


def main() -> None:
    p = example_parser(__doc__, "docs/img/cluster", quick_help="fewer crops (CI)")
    p.add_argument("--data", help="image folder (default: the bundled photos)")
    p.add_argument("--device", default="cpu")
    args = p.parse_args()
    out = Path(args.out)
    with process_group_from_env(args.device) as (rank, world):
        device = rank_device(args.device)
        folder = Path(args.data) if args.data else _bundled_folder()
        crops = 1 if args.quick else 8
        loader = image_folder_loader(folder, 128, batch_size=8, crops_per_image=crops)
        model = efficientnet_lite0().to(device)
        t = time.perf_counter()
        mp = MaxActivatingPatches(model, "_blocks.4", k=6, show_progress=False)
        mp.scan(loader)  # each rank scans its shard; the top-k is merged exactly
        bank = FeatureBank.from_model(model, loader, "_bn1", show_progress=False)
        took = time.perf_counter() - t
        print(f"rank {rank}/{world}: {len(loader.sampler)} of {mp.n_images} crops, {took:.1f} s")
        if is_main_process():  # one writer; files appear complete or not at all
            with atomic_path(out / "patches.png") as tmp:
                mp.grid(loader.dataset, mp.top_channels(4), size=48, path=tmp)
            nb = bank.nearest([0], k=3)
            print(
                f"{world} process(es): {len(bank)} crops, bank {tuple(bank.features.shape)}, "
                f"neighbours of crop 0: {nb.indices[0].tolist()}, "
                f"checksum {float(mp.state.values.sum()) if mp.state is not None else 0:.4f}"
            )
            print(f"wrote {out / 'patches.png'}")


if __name__ == "__main__":
    main()
