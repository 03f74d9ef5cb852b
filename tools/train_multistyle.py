"""Train (and ship) attribkit's 16-style network on the photo set: the exact recipe of
``attribkit/data/multistyle.*`` (issue #17 item 3; see ``attribkit/data/PROVENANCE.md``).

Content: ``photo_set(split="train")`` (the photo set minus ``photos.holdout`` of
``splits.json``). Styles: the 16 paintings of ``painting_set(split="multistyle")``, named by
the slugs in :data:`STYLES`, recorded by their ``painting_set()`` keys so that
``training_styles()`` rebuilds them wherever attribkit is installed.

The shipped model was made with (one CPU thread, in the background; rerunning the same
command resumes from ``RUN/checkpoint``)::

    OMP_NUM_THREADS=1 nice -n 10 python tools/train_multistyle.py --run-dir RUN \\
        --steps 4000 --width 16 --crop 96 --batch-size 8 --style-weight 3 > RUN.log 2>&1 &
    python tools/train_multistyle.py --run-dir RUN --ship --log RUN.log [--log RUN2.log ...]

``--ship`` copies ``RUN/model.*`` to ``attribkit/data/multistyle.*`` with the training record
completed (content named as the split, the command, the wall time summed over the logs of all
resumed sessions, the losses every 50 steps) and draws ``docs/img/fast-style/training-loss.png``.
Pilot runs (choosing the style weight and the width) are the same command with fewer steps and
``--styles`` to train a subset.
"""

from __future__ import annotations

import argparse
import re
import shlex
import sys
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]

#: Style name (a slug of the title) -> ``painting_set()`` key, in the model's style order
#: (the order of ``splits.json`` ``paintings.multistyle``).
STYLES = {
    "starry_night": "gogh-the-starry-night",
    "great_wave": "hokusai-the-great-wave-off-kanagawa",
    "composition_viii": "kandinsky-composition-viii",
    "mada_primavesi": "klimt-mada-primavesi",
    "circus_sideshow": "seurat-circus-sideshow",
    "scream": "munch-the-scream",
    "landscapes_with_poems": "gong-xian-landscapes-with-poems",
    "whalers": "turner-whalers",
    "jas_de_bouffan": "cezanne-trees-and-houses-near-the-jas-de-bouffan",
    "moulin_de_la_galette": "renoir-bal-du-moulin-de-la-galette",
    "ia_orana_maria": "gauguin-ia-orana-maria",
    "repast_of_the_lion": "rousseau-the-repast-of-the-lion",
    "view_of_toledo": "greco-view-of-toledo",
    "aristotle_with_homer": "rembrandt-aristotle-with-a-bust-of-homer",
    "shiva_and_parvati": "devidasa-of-nurpur-shiva-and-parvati-playing",
    "englishman_at_the_moulin": "toulouse-lautrec-the-englishman-at-the-moulin",
}
STYLE_SIZE = 256  # shorter side of each painting when its Gram matrices are taken
LOG_LINE = re.compile(r"^step (\d+): (.*)$")


def check_styles() -> None:
    """The table above must be the split's list, in its order."""
    from attribkit.data import painting_set

    keys = painting_set(split="multistyle").keys
    if list(STYLES.values()) != keys:
        raise SystemExit(f"STYLES is out of step with splits.json paintings.multistyle: {keys}")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--run-dir", required=True, help="checkpoints and the final model")
    ap.add_argument("--steps", type=int, default=4000)
    ap.add_argument("--width", type=int, default=16, help="first-layer width (Johnson: 32)")
    ap.add_argument("--crop", type=int, default=96)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--style-weight", type=float, default=3.0)
    ap.add_argument("--tv-weight", type=float, default=10.0)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--styles", default="", help="comma-separated subset of STYLES (pilots)")
    ap.add_argument("--threads", type=int, default=1, help="torch threads")
    ap.add_argument("--ship", action="store_true", help="ship RUN/model.* (no training)")
    ap.add_argument("--log", action="append", default=[], help="with --ship: session logs")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    check_styles()
    run_dir = Path(args.run_dir)
    if args.ship:
        ship(run_dir, [Path(p) for p in args.log])
        return
    train(args, run_dir)


def train(args: argparse.Namespace, run_dir: Path) -> None:
    """Train (or resume) in ``run_dir``, printing ``step N: ...`` every 10 steps."""
    from attribkit.data import photo_set
    from attribkit.style.train import StyleSpec, train_style

    names = [s for s in args.styles.split(",") if s] or list(STYLES)
    unknown = sorted(set(names) - set(STYLES))
    if unknown:
        raise SystemExit(f"unknown styles {unknown}; choose from {list(STYLES)}")
    styles = {n: StyleSpec(STYLES[n], size=STYLE_SIZE) for n in names}
    content = photo_set(split="train").paths
    t0 = time.time()

    def log(step: int, rec: dict[str, float]) -> None:
        if step % 10 == 0 or step == 1:
            terms = ", ".join(f"{k}={v:.4g}" for k, v in rec.items() if k != "step")
            print(f"step {step}: {terms}, wall={time.time() - t0:.0f}", flush=True)

    print(
        f"session start {time.strftime('%Y-%m-%d %H:%M:%S')}; argv: {shlex.join(sys.argv)}; "
        f"style weight {args.style_weight}; {len(content)} content photos; torch threads "
        f"{torch.get_num_threads()}",
        flush=True,
    )
    result = train_style(
        styles,
        content,
        out_dir=run_dir,
        steps=args.steps,
        batch_size=args.batch_size,
        crop=args.crop,
        width=args.width,
        lr=args.lr,
        style_weight=args.style_weight,
        tv_weight=args.tv_weight,
        holdout=(),
        checkpoint_every=50,
        seed=args.seed,
        show_progress=False,
        callbacks=[log],
    )
    print(f"done: {result.steps} steps, {result.seconds:.0f} s this session -> {result.path}")


def read_logs(logs: list[Path]) -> tuple[list[dict[str, float]], float, list[str]]:
    """Loss records (the last record of each step wins: a resumed session repeats the steps
    after the last checkpoint), the summed wall seconds of all sessions, and the session
    headers."""
    by_step: dict[int, dict[str, float]] = {}
    seconds, headers = 0.0, []
    for path in logs:
        last = 0.0
        for line in path.read_text(errors="replace").splitlines():
            if line.startswith("session start"):
                headers.append(line)
            m = LOG_LINE.match(line)
            if not m:
                continue
            rec = {"step": float(m.group(1))}
            for part in m.group(2).split(", "):
                k, _, v = part.partition("=")
                rec[k] = float(v)
            by_step[int(m.group(1))] = rec
            last = rec.get("wall", last)
        seconds += last
    return [by_step[s] for s in sorted(by_step)], seconds, headers


def ship(run_dir: Path, logs: list[Path]) -> None:
    """Copy ``run_dir/model.*`` to the package with the training record completed."""
    from attribkit.data import photo_set
    from attribkit.style.checkpoint import (
        load_style_model,
        read_style_metadata,
        save_style_model,
        shipped_model_path,
    )

    meta = read_style_metadata(run_dir / "model")
    net = load_style_model(run_dir / "model")
    if list(net.style_names) != list(STYLES):  # type: ignore[arg-type]
        raise SystemExit(f"{run_dir}/model has styles {net.style_names}, not the 16 of STYLES")
    history, seconds, headers = read_logs(logs)
    tr = dict(meta["training"])
    held = photo_set(split="holdout").keys
    tr["content"] = (
        f"photo_set(split='train'): {len(photo_set(split='train'))} photos, the photo set minus "
        f"the {len(held)} photos of splits.json photos.holdout"
    )
    tr["holdout"] = held
    tr["device"] = "CPU (shared 2-core VM, 1 torch thread, nice 10)"
    tr["seconds"] = round(seconds, 1)
    tr["sessions"] = headers
    tr["command"] = (
        "OMP_NUM_THREADS=1 nice -n 10 python tools/train_multistyle.py --run-dir RUN "
        f"--steps {tr['steps']} --width {net.width} --crop {tr['crop']} "
        f"--batch-size {tr['batch_size']} --style-weight {tr['style_weight']:g}"
    )
    tr["history_every_50"] = [h for h in history if int(h["step"]) % 50 == 0]
    dest = shipped_model_path()
    save_style_model(net, dest, training=tr)
    print(f"shipped {run_dir}/model -> {dest}.* ({seconds / 3600:.2f} h over {len(logs)} logs)")
    if history:
        plot_history(history, REPO / "docs" / "img" / "fast-style" / "training-loss.png")


def plot_history(history: list[dict[str, float]], path: Path) -> None:
    """Content, Gram (unweighted) and TV losses per step, smoothed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = [h["step"] for h in history]
    fig, ax = plt.subplots(figsize=(5.5, 3.2), dpi=100)
    for key, text in (
        ("content", "content loss (‖F − Fc‖² / ‖Fc‖²)"),
        ("style", "style term (weighted Gram loss)"),
        ("tv", "total variation (weighted)"),
    ):
        vals = torch.tensor([h[key] for h in history])
        k = max(1, len(vals) // 40)
        smooth = vals.unfold(0, k, 1).mean(1)
        ax.plot(steps[k - 1 :], smooth.tolist(), label=text)
    ax.set_yscale("log")
    ax.set_xlabel("step (batch mean, logged every 10 steps)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


if __name__ == "__main__":
    main()
