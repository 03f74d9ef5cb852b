"""Train (and ship) the arbitrary-style (AdaIN) decoder: the recipe of the shipped model.

Photos ``photo_set(split="train")`` × paintings ``painting_set(split="train")`` (the held-out
22 photos and 12 paintings are never seen), EfficientNet-Lite0 cut at ``_blocks.4``, 128 px
random crops of images resized to a 256 px shorter side, batch 4, a reconstruction warm-up,
then AdaIN content + mean/std style loss (style weight 5), Adam decaying 1e-3 → 1e-4. The run
is resumable: run the same command again and it continues from ``OUT/checkpoint``.

Run (one thread, niced, in the background)::

    OMP_NUM_THREADS=1 nohup nice -n 10 python tools/train_arbitrary.py --out /tmp/adain-train \
        --steps 2400 > /tmp/adain-train/run.log 2>&1 &
    python tools/train_arbitrary.py --out /tmp/adain-train --ship   # OUT/model (or the
                                                                    # last checkpoint) → data/

Under ``torchrun --nproc_per_node N`` the same command trains with DDP.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

DATA = Path(__file__).resolve().parent.parent / "attribkit" / "data"


def held_out_samples() -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Two held-out photos, each with a held-out painting, at 128 px (the sample picture)."""
    from attribkit.data import painting_set, photo_set
    from attribkit.io import load_image

    photos = photo_set(split="holdout").paths[:2]
    paintings = painting_set(split="holdout").paths[:2]
    return [
        (load_image(p, size=128)[..., :128, :128], load_image(s, size=128))
        for p, s in zip(photos, paintings)
    ]


def train(args: argparse.Namespace) -> None:
    from attribkit.style.train_arbitrary import train_arbitrary

    torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    t0 = time.time()

    def log(step: int, rec: dict[str, float]) -> None:
        if step % args.log_every == 0 or step == args.steps:
            terms = " ".join(f"{k} {v:.4f}" for k, v in rec.items() if k != "step")
            print(f"step {step} {time.time() - t0:.0f}s {terms}", flush=True)

    r = train_arbitrary(
        out_dir=args.out,
        steps=args.steps,
        recon_steps=args.recon_steps,
        batch_size=args.batch,
        crop=args.crop,
        content_size=args.size,
        style_size=args.size,
        lr=args.lr,
        lr_end=args.lr_end,
        style_weight=args.style_weight,
        width=args.width,
        seed=args.seed,
        checkpoint_every=args.checkpoint_every,
        sample_every=args.sample_every,
        samples=held_out_samples(),
        show_progress=False,
        callbacks=[log],
    )
    print(json.dumps({"steps": r.steps, "seconds": round(r.seconds, 1), "path": str(r.path)}))


def ship(args: argparse.Namespace) -> None:
    """Write ``OUT/model`` (or ``OUT/checkpoint`` when the run was stopped) as
    ``attribkit/data/arbitrary.*``, without the optimizer state."""
    from attribkit.style.checkpoint import load_style_model, save_style_model

    src = args.out / "model"
    if not src.with_suffix(".json").is_file() or args.from_checkpoint:
        src = args.out / "checkpoint"
    net, _, meta = load_style_model(src, return_extra=True)
    training = dict(meta["training"])
    state = meta.get("state", {})
    if state:  # a checkpoint: record where it stopped (seconds: of the last resumed part)
        training["steps_done"] = state["step"]
        training["seconds_last_part"] = state["seconds"]
    training["shipped_from"] = src.name
    training.update(json.loads(args.record))
    path = save_style_model(net, DATA / "arbitrary", training=training)
    print(json.dumps({"shipped": str(path), "bytes": path.stat().st_size, **training}))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", type=Path, default=Path("/tmp/adain-train"))
    p.add_argument("--steps", type=int, default=2400)
    p.add_argument("--recon-steps", type=int, default=300)
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--crop", type=int, default=128)
    p.add_argument("--size", type=int, default=256, help="shorter side before cropping")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--lr-end", type=float, default=1e-4)
    p.add_argument("--style-weight", type=float, default=5.0)
    p.add_argument("--width", type=int, default=8)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--checkpoint-every", type=int, default=100)
    p.add_argument("--sample-every", type=int, default=200)
    p.add_argument("--log-every", type=int, default=10)
    p.add_argument("--ship", action="store_true", help="copy the trained model to data/")
    p.add_argument("--from-checkpoint", action="store_true", help="ship the last checkpoint")
    p.add_argument("--record", default="{}", help="JSON merged into the shipped training record")
    args = p.parse_args()
    if args.ship:
        ship(args)
    else:
        train(args)


if __name__ == "__main__":
    main()
