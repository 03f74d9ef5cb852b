"""Train the multi-style network that ships with attribkit (or a small one with --quick).

The shipped model was trained with (see attribkit/data/PROVENANCE.md):

    nice -n 10 .venv/bin/python examples/fast_style_train.py --steps 4000 \
        --run-dir runs/fast-style --ship

Re-running the same command resumes from ``RUN_DIR/checkpoint``. Under
``torchrun --nproc_per_node N examples/fast_style_train.py ...`` it trains with DDP.

Writes ``OUT/training-samples.png`` (held-out photos in every style) and
``OUT/training-loss.png`` (the losses per step).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import torch

from attribkit.recipes.script import example_parser
from attribkit.style.train import StyleSpec, train_style

#: The four styles of the shipped model: two paintings, and two details of them at a larger
#: scale (Starry Night's swirling sky; The Scream's red sky).
SHIPPED_STYLES = {
    "starry_night": StyleSpec("starry_night", size=256),
    "scream": StyleSpec("scream", size=256),
    "starry_sky": StyleSpec("starry_night", size=256, crop=(0.0, 0.3, 0.5, 0.45)),
    "scream_sky": StyleSpec("scream", size=192, crop=(0.0, 0.0, 0.33, 1.0)),
}


def main() -> None:
    ap = example_parser(__doc__, "docs/img/fast-style", quick_help="a few steps of a tiny network")
    ap.add_argument(
        "--run-dir", default=None, help="checkpoints and samples (default runs/fast-style)"
    )
    ap.add_argument("--steps", type=int, default=4000)
    ap.add_argument("--width", type=int, default=16, help="first-layer width (Johnson: 32)")
    ap.add_argument("--crop", type=int, default=128)
    ap.add_argument("--batch-size", type=int, default=4)
    ap.add_argument("--style-weight", type=float, default=100.0)
    ap.add_argument("--tv-weight", type=float, default=10.0)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: leave as is)")
    ap.add_argument(
        "--ship", action="store_true", help="copy the final model to attribkit/data/multistyle.*"
    )
    ap.add_argument("--no-progress", action="store_true")
    ap.add_argument(
        "--plot-logs",
        nargs="+",
        metavar="LOG:STYLE_WEIGHT",
        help="only plot OUT/training-loss.png from the 'step N: ...' lines of training logs "
        "(one per resumed phase, each with the style weight it used)",
    )
    args = ap.parse_args()
    if args.plot_logs:
        _plot_logs(args.plot_logs, Path(args.out) / "training-loss.png")
        return
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
        SHIPPED_STYLES,
        None,
        out_dir=run_dir,
        steps=steps,
        batch_size=args.batch_size,
        crop=crop,
        width=width,
        lr=args.lr,
        style_weight=args.style_weight,
        tv_weight=args.tv_weight,
        holdout=("chelsea", "coffee"),
        checkpoint_every=50,
        sample_every=0 if args.quick else 250,
        seed=0,
        show_progress=not args.no_progress,
        callbacks=[log],
    )
    print(f"{result.steps} steps in {result.seconds:.0f} s this session -> {result.path}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    _plot_history(
        result.history, out / ("training-loss-quick.png" if args.quick else "training-loss.png")
    )
    if args.ship and not args.quick and result.path is not None:
        import attribkit.style.checkpoint as ck

        dest = ck.shipped_model_path()
        shutil.copy(run_dir / "model.safetensors", dest.with_suffix(".safetensors"))
        shutil.copy(run_dir / "model.json", dest.with_suffix(".json"))
        print(f"shipped to {dest}.*")


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


def _plot_logs(specs: list[str], path: Path) -> None:
    """Unweighted content and Gram losses per step from the logs of several resumed phases."""
    import re

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pat = re.compile(r"step (\d+): loss=([\d.e+-]+), content=([\d.e+-]+), style=([\d.e+-]+)")
    steps, content, style, bounds = [], [], [], []
    for spec in specs:
        log, _, sw = spec.rpartition(":")
        weight = float(sw)
        first = True
        for m in pat.finditer(Path(log).read_text(errors="replace")):
            step = int(m.group(1))
            if steps and step <= steps[-1]:
                continue
            if first:
                bounds.append((steps[-1] if steps else 0, weight))
            first = False
            steps.append(step)
            content.append(float(m.group(3)))
            style.append(float(m.group(4)) / weight)
    fig, ax = plt.subplots(figsize=(5.5, 3.2), dpi=100)
    ax.plot(steps, content, label="content loss (‖F − Fc‖² / ‖Fc‖²)")
    ax.plot(steps, style, label="Gram loss, mean over layers")
    for step, weight in bounds:
        if step:
            ax.axvline(step, color="grey", lw=0.8, ls="--")
        ax.text(step, max(content), f" style weight {weight:g}", fontsize=7, va="top")
    ax.set_yscale("log")
    ax.set_xlabel("step (batch of 4 crops, 128 px)")
    ax.legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


if __name__ == "__main__":
    main()
