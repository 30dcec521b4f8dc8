"""Clean-ups between the models: merge word fragments before reading, unify scripts after.

A CPU-budget word detector often returns one word as several overlapping pieces ("неб",
"ебесн", "сной"); read one by one they give repeated letters. :func:`merge_fragments` joins
regions of one text line that overlap along the line into one region, which the recognizer
(trained on multi-word lines) then reads once.

A reader trained on Russian and English confuses look-alike letters (Latin ``o`` / Cyrillic
``о``); :func:`unify_scripts` rewrites the look-alikes of each word into the script that the
word's unambiguous letters (or, failing those, the page's) are written in.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from core.geometry import (
    as_points,
    bbox_of,
    box_polygon,
    connected_groups,
    is_axis_aligned_box,
    min_area_quad,
)
from core.imaging import to_gray, true_runs
from core.letters import CYRILLIC_LETTERS, CYRILLIC_SET, LATIN_LETTERS, LATIN_SET
from detection.types import Region
from pipeline.lexicon import CASE_LOOKALIKES
from pipeline.reading_order import is_gutter

_CYR = "АВЕКМНОРСТХУаеорсух"
_LAT = "ABEKMHOPCTXYaeopcyx"
_CYR_TO_LAT = str.maketrans(_CYR + "іјѕ", _LAT + "ijs")
_LAT_TO_CYR = str.maketrans(_LAT, _CYR)
# Latin i, j, s have Cyrillic twins only outside modern Russian: they vote Latin.
_LOOKALIKES = frozenset(_CYR + _LAT + "іјѕ")


def merge_fragments(regions: Sequence[Region], min_overlap: float = 0.3,
                    max_aspect: float = 16.0, min_vertical: float = 0.6,
                    max_gap: float = 0.0, gutter: float | None = None,
                    window: float = 2.2) -> list[Region]:
    """Join regions that are pieces of one word or of neighbouring words on one line.

    Two regions merge when their vertical extents overlap by at least ``min_vertical`` of
    the shorter one's height, their heights differ by less than 2x, their horizontal
    extents overlap by at least ``min_overlap`` of the narrower one's width (or, with
    ``max_gap`` > 0, are at most ``max_gap`` heights apart: neighbouring words), and the merged
    box is at most ``max_aspect`` times wider than high. Regions are visited left to right,
    each joined to the first group it fits; a merged group is the minimum-area rectangle of
    its pieces, with the best score and the first piece's label.

    Args:
        regions: detections of one image.
        min_overlap: horizontal overlap (fraction of the narrower width) that makes pieces.
        max_aspect: longest merged region, in heights (the recognizer's input ratio).
        min_vertical: vertical overlap (fraction of the lower height) for "one line".
        max_gap: also join regions this many (lower) heights apart or closer; 0 joins
            only overlapping pieces. Joining whole lines suits a line recognizer.
        gutter: never join across a gap of which at least this many heights stay
            uncovered by the other regions within ``window`` heights above and below: a
            column gutter (word gaps are covered by the words of neighbouring rows; see
            :func:`pipeline.reading_order.line_segments`). Off if ``None``.

    Returns:
        The merged regions (untouched regions keep their polygon), left to right.
    """
    if len(regions) < 2:
        return list(regions)
    order = sorted(range(len(regions)), key=lambda i: regions[i].bbox[0])
    all_boxes = np.array([r.bbox for r in regions], dtype=np.float64)
    boxes = np.zeros((0, 4))
    members: list[list[int]] = []
    for i in order:
        x1, y1, x2, y2 = regions[i].bbox
        h = max(y2 - y1, 1e-6)
        if len(members):
            gh = np.maximum(boxes[:, 3] - boxes[:, 1], 1e-6)
            v = np.minimum(boxes[:, 3], y2) - np.maximum(boxes[:, 1], y1)
            o = np.minimum(boxes[:, 2], x2) - np.maximum(boxes[:, 0], x1)
            w_min = np.maximum(np.minimum(boxes[:, 2] - boxes[:, 0], x2 - x1), 1e-6)
            mw = np.maximum(boxes[:, 2], x2) - np.minimum(boxes[:, 0], x1)
            mh = np.maximum(boxes[:, 3], y2) - np.minimum(boxes[:, 1], y1)
            lo, hi = np.minimum(gh, h), np.maximum(gh, h)
            near = o >= min_overlap * w_min
            if max_gap > 0:
                near |= -o <= max_gap * lo
            fits = (v >= min_vertical * lo) & (hi < 2 * lo) & near & (mw <= max_aspect * mh)
            hit = [int(g) for g in np.flatnonzero(fits)]
            if gutter is not None:
                hit = [g for g in hit if o[g] >= 0 or not _is_gutter(
                    all_boxes, members[g], i, boxes[g], gutter, window)]
            if hit:
                g = hit[0]
                members[g].append(i)
                boxes[g] = (min(boxes[g, 0], x1), min(boxes[g, 1], y1),
                            max(boxes[g, 2], x2), max(boxes[g, 3], y2))
                continue
        members.append([i])
        boxes = np.vstack([boxes, [x1, y1, x2, y2]])
    out: list[Region] = []
    for group in members:
        if len(group) == 1:
            out.append(regions[group[0]])
            continue
        points = np.concatenate([as_points(regions[k].polygon) for k in group])
        quad = min_area_quad(points)
        out.append(Region(polygon=quad, bbox=bbox_of(quad),
                          score=max(float(regions[k].score) for k in group),
                          label=regions[group[0]].label))
    return out


def _is_gutter(all_boxes: np.ndarray, group: list[int], i: int, box: np.ndarray,
               gutter: float, window: float) -> bool:
    """Whether the gap between a group (its ``box``) and region ``i`` is a column gutter."""
    x1, y1, x2, y2 = all_boxes[i]
    lo, hi = (box[2], x1) if box[2] <= x1 else (x2, box[0])
    skip = np.zeros(len(all_boxes), dtype=bool)
    skip[group] = True
    skip[i] = True
    return is_gutter(lo, hi, (y1 + y2 + box[1] + box[3]) / 4, max(y2 - y1, box[3] - box[1]),
                     all_boxes[:, 0], all_boxes[:, 2], (all_boxes[:, 1] + all_boxes[:, 3]) / 2,
                     skip, gutter, window)



def _script_votes(text: str) -> tuple[int, int]:
    """(Latin, Cyrillic) counts of the letters that are not look-alikes."""
    kept = [ch for ch in text if ch not in _LOOKALIKES]
    return sum(ch in LATIN_SET for ch in kept), sum(ch in CYRILLIC_SET for ch in kept)


def script_lock(texts: Sequence[str], share: float, min_letters: int = 40) -> str:
    """The letters to forbid when re-reading a one-script page, or ``""``.

    When at least ``share`` of the letters of ``texts`` (and ``min_letters`` or more) are
    Latin, the Cyrillic letters are returned, and the reverse: a page that is all English
    should not keep the odd ``я`` or ``рното`` of a confused reader.
    """
    lat = sum(c in LATIN_SET for t in texts for c in t)
    cyr = sum(c in CYRILLIC_SET for t in texts for c in t)
    if lat + cyr < max(min_letters, 1):
        return ""
    if lat >= share * (lat + cyr) and cyr:
        return CYRILLIC_LETTERS
    if cyr >= share * (lat + cyr) and lat:
        return LATIN_LETTERS
    return ""


def relock_kind(text: str, forbid: str) -> str | None:
    """How a read holds ``forbid`` letters: ``"whole"`` when some word of two or more letters
    is written wholly in them (a foreign word, or a word misread in the other script such as
    ``рирру`` for ``puppy``), else ``"mixed"`` when some word mixes them with other letters
    (``tenderlя``), else ``"whole"`` for a lone letter of them (``Я`` for ``a``), else
    ``None``."""
    banned = frozenset(forbid)
    mixed = letter = False
    for word in text.split():
        letters = [c for c in word if c.isalpha()]
        foreign = sum(c in banned for c in letters)
        if foreign and foreign == len(letters) and len(letters) >= 2:
            return "whole"
        mixed |= 0 < foreign < len(letters)
        letter |= foreign == len(letters) == 1
    if mixed:
        return "mixed"
    return "whole" if letter else None


def unify_scripts(texts: Sequence[str]) -> list[str]:
    """Rewrite look-alike letters of each text into its script (see the module docstring).

    A text with more unambiguous Latin than Cyrillic letters is Latin, and the reverse;
    a text with neither (``"со"``, ``"OK"``) follows the majority of all texts together,
    and is left as it is when that is a tie too.
    """
    votes = [_script_votes(t) for t in texts]
    page_lat, page_cyr = sum(v[0] for v in votes), sum(v[1] for v in votes)
    out = []
    for text, (lat, cyr) in zip(texts, votes, strict=True):
        if lat == cyr:
            lat, cyr = page_lat, page_cyr
        if lat > cyr:
            text = text.translate(_CYR_TO_LAT)
        elif cyr > lat:
            text = text.translate(_LAT_TO_CYR)
        out.append(text)
    return out


def caps_lookalikes(text: str) -> str:
    """Capitalise the lower-case letters drawn as small capitals (``c o s v w x z``, Cyrillic
    ``в ж к м н о п с т х ш щ``: :data:`pipeline.lexicon.CASE_LOOKALIKES`) in words whose
    other letters are all capitals (at least two): a reader that sees ``PHARMACY`` on a sign
    may miss the case of its C (``PHARMAcY``). Mixed-case words are left alone."""

    def fix(word: str) -> str:
        letters = [ch for ch in word if ch.isalpha()]
        lower = [ch for ch in letters if ch.islower()]
        if (not lower or len(letters) - len(lower) < 2
                or any(ch not in CASE_LOOKALIKES for ch in lower)
                or len(lower) * 2 >= len(letters)):
            return word
        return "".join(ch.upper() if ch.islower() else ch for ch in word)

    return " ".join(fix(w) for w in text.split(" "))


def _ink(image: np.ndarray) -> np.ndarray:
    """Ink pixels: darker than halfway between the page's 5th and 95th gray percentiles (and
    than 200), the level taken from a sixteenth of the pixels (all of a 35-MP scan's took a
    second)."""
    gray = to_gray(image)
    sample = gray[::4, ::4]
    level = 0.5 * (float(np.percentile(sample, 5)) + float(np.percentile(sample, 95)))
    return gray < min(level, 200.0)


def snap_to_ink(regions: Sequence[Region], image: np.ndarray, margin: float = 0.15
                ) -> list[Region]:
    """Move each axis-aligned region vertically onto the text line it overlaps most.

    A weak detector's boxes often sit half a line off, so a crop holds the bottom of one line
    and the top of the next. In a window of the box's columns, one box height above and
    below, rows with ink form bands (text lines); the box takes the vertical extent of the
    band it overlaps most (plus ``margin`` of its height). Rotated regions, boxes without a
    clear band, and bands far from the box's height are left as they are.

    Args:
        regions: detections of ``image``.
        image: the page, RGB ``uint8``.
        margin: padding above and below the band, as a fraction of its height.
    """
    if not regions:
        return []
    ink = _ink(image)
    H, W = ink.shape
    out: list[Region] = []
    for region in regions:
        x1, y1, x2, y2 = region.bbox
        h = y2 - y1
        band = None
        if h >= 4 and is_axis_aligned_box(region.polygon):
            band = _best_ink_band(ink, x1, x2, y1, y2)
        if band is None or not 0.4 * h <= band[1] - band[0] <= 1.6 * h:
            out.append(region)
            continue
        pad = margin * (band[1] - band[0])
        ny1, ny2 = max(0.0, band[0] - pad), min(float(H), band[1] + pad)
        out.append(Region(polygon=box_polygon(x1, ny1, x2, ny2), bbox=(x1, ny1, x2, ny2),
                          score=region.score, label=region.label))
    return out


def reach_ink(regions: Sequence[Region], image: np.ndarray, gap: float = 1.0,
              min_mark: float = 0.12, max_mark: float = 1.2,
              max_marks: float = 2.0) -> list[Region]:
    """Word boxes widened to take in the marks beside them that the detector left out.

    A word detector misses marks standing apart: the colon after a space in "TOTAL :", a
    full stop. Ink components the size of a mark or a character (``min_mark`` to
    ``max_mark`` text heights, the median height of the upright boxes) that touch no box are
    grouped (a colon's two dots are one mark; a group larger than ``max_mark``, a dotted
    rule, is dropped). A group on an upright box's line, in its lower four fifths (a rule
    along the top of a row is not its mark), and at most ``gap`` of the box's heights beside
    the box as detected widens it along the line to take it in. A page with more such groups
    than ``max_marks`` times its boxes (dust, halftone, a textured ground) is left as it is.
    Characters standing alone (a quantity "2" in its column) were tried as regions of their
    own: no better on the tune receipts (bench/reading_order.md), so not kept.

    Args:
        regions: detections of ``image``.
        image: the page, RGB ``uint8``.
    """
    upright = [i for i, r in enumerate(regions) if is_axis_aligned_box(r.polygon)]
    if len(upright) < 2:
        return list(regions)
    box = np.array([regions[i].bbox for i in upright], dtype=np.float64)
    h0 = float(np.median(box[:, 3] - box[:, 1]))
    if h0 < 4:
        return list(regions)
    ink = _ink(image)
    covered = np.zeros(ink.shape, dtype=bool)
    for r in regions:
        x1, y1, x2, y2 = (int(round(v)) for v in r.bbox)
        covered[max(0, y1):y2, max(0, x1):x2] = True
    stats = cv2.connectedComponentsWithStats(ink.astype(np.uint8), connectivity=8)[2]
    marks = []
    for k in range(1, len(stats)):
        x, y, w, h, area = (int(v) for v in stats[k])
        if (min_mark * h0 <= max(w, h) and h <= max_mark * h0 and w <= max_mark * h0
                and area >= 4 and not covered[y:y + h, x:x + w].any()):
            marks.append([x, y, x + w, y + h])
    if not marks or len(marks) > max_marks * len(regions):
        return list(regions)
    groups = _group_boxes(np.array(marks, dtype=np.float64), 0.3 * h0)
    size = np.maximum(groups[:, 2] - groups[:, 0], groups[:, 3] - groups[:, 1])
    groups = groups[size <= max_mark * h0]  # a dotted rule or a row of dust is no mark
    if not len(groups) or len(groups) > max_marks * len(regions):
        return list(regions)
    out = [list(r.bbox) for r in regions]
    for g in groups[np.argsort(groups[:, 0])]:
        cy = 0.5 * (g[1] + g[3])
        best, best_gap = None, None
        for i in upright:  # measured from the box as detected: marks never chain along
            x1, y1, x2, y2 = regions[i].bbox  # a dotted rule
            slack = 0.2 * (y2 - y1)
            if not (y1 + slack <= cy <= y2 and g[1] >= y1 - slack and g[3] <= y2 + slack):
                continue
            d = max(g[0] - x2, x1 - g[2])
            if 0 <= d <= gap * (y2 - y1) and (best_gap is None or d < best_gap):
                best, best_gap = i, d
        if best is not None:
            x1, y1, x2, y2 = out[best]
            out[best] = [min(x1, g[0]), y1, max(x2, g[2]), y2]  # along its line only
    return [r if list(r.bbox) == b else
            Region(polygon=box_polygon(*b), bbox=tuple(b), score=r.score, label=r.label)
            for r, b in zip(regions, out, strict=True)]


def _group_boxes(boxes: np.ndarray, reach: float) -> np.ndarray:
    """Boxes at most ``reach`` apart (both ways) joined into their union boxes."""
    pairs = []
    for i in range(len(boxes)):  # row by row: memory stays linear in the marks
        dx = np.maximum(boxes[i + 1:, 0] - boxes[i, 2], boxes[i, 0] - boxes[i + 1:, 2])
        dy = np.maximum(boxes[i + 1:, 1] - boxes[i, 3], boxes[i, 1] - boxes[i + 1:, 3])
        pairs.extend((i, int(j)) for j in np.flatnonzero((dx <= reach) & (dy <= reach)) + i + 1)
    groups = connected_groups(len(boxes), pairs)
    return np.array([np.concatenate([boxes[g, :2].min(axis=0), boxes[g, 2:].max(axis=0)])
                     for g in groups])


def _best_ink_band(ink: np.ndarray, x1: float, x2: float, y1: float, y2: float
                   ) -> tuple[int, int] | None:
    """The run of inked rows, within one box height around ``y1..y2``, that overlaps it most."""
    h = y2 - y1
    top, bottom = int(max(0, y1 - h)), int(min(ink.shape[0], y2 + h))
    profile = ink[top:bottom, int(max(0, x1)):int(min(ink.shape[1], x2))].mean(axis=1)
    if profile.size == 0:
        return None
    rows = (profile > 0.02) & (profile < 0.85)  # a row inked across is a rule
    bands = true_runs(rows) + top                       # [start, end) of each run
    if not len(bands):
        return None
    overlap = np.minimum(bands[:, 1], y2) - np.maximum(bands[:, 0], y1)
    k = int(np.argmax(overlap))
    return (int(bands[k, 0]), int(bands[k, 1])) if overlap[k] > 0 else None
