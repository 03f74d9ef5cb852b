"""Measurements behind the shipped sets' JPEG quality and storage format.

Usage (after ``tools/build_datasets.py`` has downloaded the sources)::

    python tools/measure_datasets.py quality --cache /tmp/attribkit-sources
    python tools/measure_datasets.py storage

``quality``: every 3rd photo and painting, resized as the build does, is encoded at several
JPEG qualities and compared with the lossless resized image: bytes (scaled to the whole set),
PSNR, and the cosine similarity of EfficientNet-Lite0's pooled features (the model the sets
are looked at with), plus whether its top-1 class stays the same.

``storage``: the built set as loose JPEGs against one uncompressed zip per set: bytes on disk,
the wheel's share (deflated zip of the files), the git pack after ``git gc``, and the time to
decode every item in a fresh process (median of 3 runs, interleaved), and how much the git
pack grows when a rebuild changes 10 photos.
"""

from __future__ import annotations

import argparse
import io
import math
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np
from build_datasets import REPO, fetch, resize
from dataset_paintings import collect_paintings
from dataset_sources import collect_photos
from PIL import Image

QUALITIES = (60, 70, 75, 80, 85, 90, 95)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return math.inf if mse == 0 else 10 * math.log10(255.0**2 / mse)


def quality(cache: Path, step: int) -> None:
    import torch

    import attribkit

    torch.set_num_threads(1)
    model = attribkit.efficientnet_lite0()
    roots = fetch(cache)
    sets = {
        "photos": (collect_photos(roots), 256, None),
        "paintings": (collect_paintings(roots), None, 512),
    }

    def features(img: Image.Image) -> tuple[torch.Tensor, int]:
        x = attribkit.load_image(img, size=224, crop=224)
        with torch.no_grad():
            f = attribkit.extract_features(model, x, "_bn1", pool="avg", show_progress=False)
            top = int(model(x).argmax())
        return f[0], top

    for name, (items, shorter, longer) in sets.items():
        sample = items[::step]
        refs = [resize(i.load(), shorter, longer) for i in sample]
        ref_feats = [features(r) for r in refs]
        print(f"\n{name}: {len(sample)} of {len(items)} images")
        print(
            "| quality | MB (whole set) | PSNR dB (median) | PSNR dB (min) | feature cosine "
            "(mean) | feature cosine (min) | top-1 unchanged |"
        )
        print("|---|---|---|---|---|---|---|")
        for q in QUALITIES:
            sizes, psnrs, cos, same = [], [], [], 0
            for ref, (rf, rtop) in zip(refs, ref_feats):
                buf = io.BytesIO()
                ref.save(buf, "JPEG", quality=q, optimize=True)
                sizes.append(buf.tell())
                dec = Image.open(io.BytesIO(buf.getvalue())).convert("RGB")
                psnrs.append(psnr(np.asarray(ref), np.asarray(dec)))
                f, top = features(dec)
                cos.append(float(torch.nn.functional.cosine_similarity(f, rf, dim=0)))
                same += int(top == rtop)
            mb = sum(sizes) / len(sizes) * len(items) / 1e6
            print(
                f"| {q} | {mb:.1f} | {statistics.median(psnrs):.1f} | {min(psnrs):.1f} "
                f"| {statistics.mean(cos):.4f} | {min(cos):.4f} "
                f"| {same}/{len(sample)} |"
            )


_LOAD_FILES = """
import sys, time, json
from pathlib import Path
from PIL import Image
t = time.perf_counter()
root = Path(sys.argv[1])
n = 0
for kind in ("photos", "paintings"):
    for rec in json.loads((root / f"{kind}.json").read_text())["items"]:
        with Image.open(root / rec["file"]) as im:
            im.convert("RGB").load()
        n += 1
print(n, time.perf_counter() - t)
"""
_LOAD_ZIP = """
import sys, time, json, zipfile, io
from pathlib import Path
from PIL import Image
t = time.perf_counter()
root = Path(sys.argv[1])
n = 0
for kind in ("photos", "paintings"):
    with zipfile.ZipFile(root / f"{kind}.zip") as z:
        for rec in json.loads((root / f"{kind}.json").read_text())["items"]:
            if rec["file"].startswith(kind + "/"):
                with Image.open(io.BytesIO(z.read(rec["file"]))) as im:
                    im.convert("RGB").load()
            else:
                with Image.open(root / rec["file"]) as im:
                    im.convert("RGB").load()
            n += 1
print(n, time.perf_counter() - t)
"""


def _du(path: Path) -> int:
    out = subprocess.run(
        ["du", "-sb", "--apparent-size", str(path)], capture_output=True, text=True, check=True
    ).stdout
    blocks = subprocess.run(
        ["du", "-sB1", str(path)], capture_output=True, text=True, check=True
    ).stdout
    return int(blocks.split()[0]) if blocks else int(out.split()[0])


def _git_pack(tree: Path) -> int:
    """Commit the tree (a new commit when the repository exists) and return the pack size."""
    if not (tree / ".git").exists():
        subprocess.run(["git", "init", "-q", str(tree)], check=True)
    subprocess.run(["git", "-C", str(tree), "add", "-A"], check=True)
    subprocess.run(
        ["git", "-C", str(tree), "-c", "user.name=m", "-c", "user.email=m@x", "commit", "-qm", "x"],
        check=True,
    )
    subprocess.run(["git", "-C", str(tree), "gc", "-q", "--aggressive"], check=True)
    return sum(p.stat().st_size for p in (tree / ".git/objects/pack").glob("*.pack"))


def storage(data: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        loose, zipped = Path(tmp) / "loose", Path(tmp) / "zipped"
        for d in (loose, zipped):
            d.mkdir()
        files = [
            data / "photos.json",
            data / "paintings.json",
            data / "starry_night.jpg",
            data / "scream.jpg",
        ]
        for f in files:
            for d in (loose, zipped):
                (d / f.name).write_bytes(f.read_bytes())
        for kind in ("photos", "paintings"):
            jpgs = sorted((data / kind).rglob("*.jpg"))
            for j in jpgs:
                dst = loose / j.relative_to(data)
                dst.parent.mkdir(parents=True, exist_ok=True)
                dst.write_bytes(j.read_bytes())
            with zipfile.ZipFile(zipped / f"{kind}.zip", "w", zipfile.ZIP_STORED) as z:
                for j in jpgs:
                    z.write(j, str(j.relative_to(data)))
        n_files = {
            "loose": sum(1 for _ in loose.rglob("*") if _.is_file()),
            "zip": sum(1 for _ in zipped.rglob("*") if _.is_file()),
        }
        wheel = {}
        for name, d in (("loose", loose), ("zip", zipped)):
            buf = io.BytesIO()
            with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
                for f in sorted(d.rglob("*")):
                    if f.is_file():
                        z.write(f, str(f.relative_to(d)))
            wheel[name] = buf.tell()
        disk = {"loose": _du(loose), "zip": _du(zipped)}
        times: dict[str, list[float]] = {"loose": [], "zip": []}
        for _ in range(3):
            for name, d, code in (("loose", loose, _LOAD_FILES), ("zip", zipped, _LOAD_ZIP)):
                out = subprocess.run(
                    [sys.executable, "-c", code, str(d)], capture_output=True, text=True, check=True
                ).stdout.split()
                times[name].append(float(out[1]))
        pack = {"loose": _git_pack(loose), "zip": _git_pack(zipped)}
        # a rebuild that changes 10 photos: how much does the repository grow?
        changed = sorted((data / "photos").rglob("*.jpg"))[::33][:10]
        for j in changed:
            with Image.open(j) as im:
                buf = io.BytesIO()
                im.convert("RGB").save(buf, "JPEG", quality=84, optimize=True)
            (loose / j.relative_to(data)).write_bytes(buf.getvalue())
        with zipfile.ZipFile(zipped / "photos.zip", "w", zipfile.ZIP_STORED) as z:
            for j in sorted((loose / "photos").rglob("*.jpg")):
                z.write(j, str(j.relative_to(loose)))
        grown = {"loose": _git_pack(loose) - pack["loose"], "zip": _git_pack(zipped) - pack["zip"]}
        print(
            "| layout | files | on disk | in a wheel | git pack | git growth, 10 photos "
            "rebuilt | decode all (median of 3) |"
        )
        print("|---|---|---|---|---|---|---|")
        for name in ("loose", "zip"):
            print(
                f"| {name} | {n_files[name]} | {disk[name] / 1e6:.2f} MB "
                f"| {wheel[name] / 1e6:.2f} MB | {pack[name] / 1e6:.2f} MB "
                f"| {grown[name] / 1e6:.2f} MB "
                f"| {statistics.median(times[name]):.2f} s "
                f"({', '.join(f'{t:.2f}' for t in times[name])}) |"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("what", choices=["quality", "storage"])
    parser.add_argument("--cache", type=Path, default=Path("/tmp/attribkit-sources"))
    parser.add_argument("--data", type=Path, default=REPO / "attribkit" / "data")
    parser.add_argument("--step", type=int, default=3, help="measure every STEP-th image")
    args = parser.parse_args()
    t = time.perf_counter()
    if args.what == "quality":
        quality(args.cache, args.step)
    else:
        storage(args.data)
    print(f"\n({time.perf_counter() - t:.0f} s)")


if __name__ == "__main__":
    main()
