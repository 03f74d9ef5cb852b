"""Write ``attribkit/data/splits.json``: which paintings and photos the style trainings use.

Usage: ``python tools/choose_splits.py`` (after ``tools/build_datasets.py``).

* ``paintings/multistyle``: the styles of the shipped multi-style network (issue #17), in its
  style order: 16 distinct paintings by 16 artists, chosen for styles that look unlike each
  other (swirling impasto, woodblock print, geometric abstraction, gold ornament, pointillism,
  expressionism, Chinese ink, atmospheric seascape, constructive brushwork, dappled
  impressionism, flat synthetism, naïve jungle, mannerist storm, chiaroscuro, Indian miniature,
  poster-like lithographic colour).
* ``paintings/holdout``: 12 paintings that neither the multi-style nor the arbitrary-style
  model (issue #13) trains on, again of varied styles (a second Van Gogh, a Hiroshige print,
  Seurat's other canvas, a Song-dynasty album leaf, …), so the held-out figures show styles the
  networks never saw; none is in ``multistyle``.
* ``photos/holdout``: from each photo group the middle photo in key order, and a second one
  from each group of 20 or more: 22 photos from all 16 groups, never used for training.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "attribkit" / "data"

MULTISTYLE = [
    "gogh-the-starry-night",  # Van Gogh: swirling impasto
    "hokusai-the-great-wave-off-kanagawa",  # Hokusai: woodblock print
    "kandinsky-composition-viii",  # Kandinsky: geometric abstraction
    "klimt-mada-primavesi",  # Klimt: decorative portrait
    "seurat-circus-sideshow",  # Seurat: pointillism
    "munch-the-scream",  # Munch: expressionism
    "gong-xian-landscapes-with-poems",  # Gong Xian: Chinese ink album leaf
    "turner-whalers",  # Turner: atmospheric seascape
    "cezanne-trees-and-houses-near-the-jas-de-bouffan",  # Cézanne: constructive strokes
    "renoir-bal-du-moulin-de-la-galette",  # Renoir: dappled impressionism
    "gauguin-ia-orana-maria",  # Gauguin: flat synthetist colour
    "rousseau-the-repast-of-the-lion",  # Henri Rousseau: naïve jungle
    "greco-view-of-toledo",  # El Greco: stormy mannerist landscape
    "rembrandt-aristotle-with-a-bust-of-homer",  # Rembrandt: chiaroscuro
    "devidasa-of-nurpur-shiva-and-parvati-playing",  # Basohli miniature: flat, vivid
    "toulouse-lautrec-the-englishman-at-the-moulin",  # Toulouse-Lautrec: poster-like colour
]
HOLDOUT_PAINTINGS = [
    "gogh-wheat-field-with-cypresses",
    "hiroshige-the-benzaiten-shrine-at-inokashira-in",
    "seurat-study-for-a-sunday-on-la-grande-jatte",
    "huizong-finches-and-bamboo",
    "pissarro-jalais-hill-pontoise",
    "vermeer-young-woman-with-a-water-pitcher",
    "bruegel-the-harvesters",
    "friedrich-two-men-contemplating-the-moon",
    "kano-sansetsu-old-plum",
    "canaletto-piazza-san-marco",
    "degas-the-dance-class",
    "arcimboldo-spring",
]


def main() -> None:
    paintings = {r["key"]: r for r in json.loads((DATA / "paintings.json").read_text())["items"]}
    photos = json.loads((DATA / "photos.json").read_text())["items"]
    for key in MULTISTYLE + HOLDOUT_PAINTINGS:
        if key not in paintings:
            raise SystemExit(f"no painting {key!r} in paintings.json")
    assert not set(MULTISTYLE) & set(HOLDOUT_PAINTINGS)
    artists = {paintings[k]["artist"] for k in MULTISTYLE}
    assert len(artists) == len(MULTISTYLE), "one painting per artist"
    groups: dict[str, list[str]] = defaultdict(list)
    for r in sorted(photos, key=lambda r: r["key"]):
        groups[r["label"]].append(r["key"])
    held = []
    for label in sorted(groups):
        keys = groups[label]
        held.append(keys[len(keys) // 2])
        if len(keys) >= 20:
            held.append(keys[len(keys) // 4])
    body = {
        "format": 1,
        "written_by": "tools/choose_splits.py",
        "photos": {"holdout": held},
        "paintings": {"multistyle": MULTISTYLE, "holdout": HOLDOUT_PAINTINGS},
    }
    (DATA / "splits.json").write_text(json.dumps(body, indent=1, ensure_ascii=False) + "\n")
    print(f"multistyle: {len(MULTISTYLE)} paintings by {len(artists)} artists")
    print(
        f"held out: {len(HOLDOUT_PAINTINGS)} paintings, {len(held)} photos from "
        f"{len({k.split('/')[0] for k in held})} groups"
    )


if __name__ == "__main__":
    main()
