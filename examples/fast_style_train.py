"""Train a multi-style network on the shipped photo set (or a tiny one with --quick).

Four paintings of ``painting_set()``, by their keys, on the training photos of
``photo_set(split="train")`` (the held-out photos stay out)::

    nice -n 10 .venv/bin/python examples/fast_style_train.py --steps 2000 \
        --run-dir runs/fast-style

Re-running the same command resumes from ``RUN_DIR/checkpoint``. Under
``torchrun --nproc_per_node N examples/fast_style_train.py ...`` it trains with DDP. The
16-style model shipped with attribkit is trained the same way by ``tools/train_multistyle.py``
(its exact command is in attribkit/data/PROVENANCE.md).

Writes ``OUT/training-loss.png`` (``training-loss-quick.png`` with --quick): the losses per
step.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import torch

from attribkit.data import photo_set
from attribkit.recipes.script import example_parser
from attribkit.style.train import StyleSpec, train_style

#: Four styles: shipped paintings by their ``painting_set()`` keys, and a detail of one at a
#: larger scale (The Starry Night's swirling sky).
STYLES = {
    "great_wave": StyleSpec("hokusai-the-great-wave-off-kanagawa", size=256),
    "composition_viii": StyleSpec("kandinsky-composition-viii", size=256),
    "scream": StyleSpec("munch-the-scream", size=256),
    "starry_sky": StyleSpec("gogh-the-starry-night", size=256, crop=(0.0, 0.3, 0.5, 0.45)),
}


def main() -> None:
    ap = example_parser(__doc__, "docs/img/fast-style", quick_help="a few steps of a tiny network")
    ap.add_argument(
        "--run-dir", default=None, help="checkpoints and samples (default runs/fast-style)"
    )
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--width", type=int, default=16, help="first-layer width (Johnson: 32)")
    ap.add_argument("--crop", type=int, default=96)
    ap.add_argument("--batch-size", type=int, default=4)
    ap.add_argument("--style-weight", type=float, default=3.0)
    ap.add_argument("--tv-weight", type=float, default=10.0)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: leave as is)")
    ap.add_argument("--no-progress", action="store_true")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    run_dir = Path(args.run_dir or "runs/fast-style")
    steps, width, crop = args.steps, args.width, args.crop
    if args.quick:
        steps, width, crop = 3, 4, 32
        if args.run_dir is None:
            import tempfile

            run_dir = Path(tempfile.mkdtemp(prefix="fast-style-quick-"))
        else:
            run_dir = run_dir.with_name(run_dir.name + "-quick")
            if run_dir.exists():
                shutil.rmtree(run_dir)

    def log(step: int, rec: dict[str, float]) -> None:
        if step % 50 == 0 or step == 1:
            print(
                f"step {step}: " + ", ".join(f"{k}={v:.4g}" for k, v in rec.items() if k != "step"),
                flush=True,
            )

    result = train_style(
        STYLES,
        photo_set(split="train").paths,  # the held-out photos stay out
        out_dir=run_dir,
        steps=steps,
        batch_size=args.batch_size,
        crop=crop,
        width=width,
        lr=args.lr,
        style_weight=args.style_weight,
        tv_weight=args.tv_weight,
        holdout=(),
        checkpoint_every=50,
        seed=0,
        show_progress=not args.no_progress,
        callbacks=[log],
    )
    print(f"{result.steps} steps in {result.seconds:.0f} s this session -> {result.path}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    name = "training-loss-quick.png" if args.quick else "training-loss-example.png"
    _plot_history(result.history, out / name)


def _plot_history(history: list[dict[str, float]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = [h["step"] for h in history]
    fig, ax = plt.subplots(figsize=(5, 3), dpi=100)
    for key in ("style", "content", "tv"):
        vals = torch.tensor([h[key] for h in history])
        k = max(1, len(vals) // 50)
        smooth = vals.unfold(0, k, 1).mean(1) if len(vals) >= k else vals
        ax.plot(steps[k - 1 :], smooth.tolist(), label=key)
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("weighted loss (batch mean)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


if __name__ == "__main__":
    main()
