"""Train / validation split stratified by per-image keys (orientation, language, ...)."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Sequence

from core.letters import script_counts
from detection.coco import CocoImage


def image_key(image: CocoImage, key: str) -> str:
    """The value of one stratification key for an image.

    ``orientation``: ``landscape`` when width > height, else ``portrait``.
    ``language``: ``ru`` / ``en`` / ``none`` by the majority script of the words'
    ``attributes.translation``. Anything else: the image's own field of that name, else the
    most common value of that attribute among its annotations, else ``none``.
    """
    if key == "orientation":
        return "landscape" if image.width > image.height else "portrait"
    if key == "language":
        text = " ".join(str(o.attributes.get("translation", "")) for o in image.objects)
        lat, cyr = script_counts(text)
        return "none" if cyr == lat == 0 else ("ru" if cyr >= lat else "en")
    if key in image.info:
        return str(image.info[key])
    values = Counter(str(o.attributes[key]) for o in image.objects if key in o.attributes)
    return values.most_common(1)[0][0] if values else "none"


def stratified_split(images: Sequence[CocoImage], val_fraction: float,
                     keys: Sequence[str] = (), seed: int = 0
                     ) -> tuple[list[CocoImage], list[CocoImage]]:
    """Split images so every stratum (tuple of key values) keeps about ``val_fraction``.

    Args:
        images: all images.
        val_fraction: share for validation; at least one image goes there when
            ``val_fraction > 0`` and there are two or more images.
        keys: stratification keys (see :func:`image_key`); none = plain random split.
        seed: shuffle seed.

    Returns:
        ``(train, val)``, each in the input order.
    """
    strata: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for i, image in enumerate(images):
        strata[tuple(image_key(image, k) for k in keys)].append(i)
    rng = random.Random(seed)
    val_idx: set[int] = set()
    for name in sorted(strata):
        members = strata[name][:]
        rng.shuffle(members)
        val_idx.update(members[:round(len(members) * val_fraction)])
    if val_fraction > 0 and not val_idx and len(images) >= 2:
        val_idx.add(rng.randrange(len(images)))
    train = [im for i, im in enumerate(images) if i not in val_idx]
    val = [im for i, im in enumerate(images) if i in val_idx]
    return train, val
