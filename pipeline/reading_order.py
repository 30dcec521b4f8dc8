"""Reading order as pure functions on word polygons: skew, lines, columns, plates.

Everything works in a *deskewed frame*: the dominant text direction is estimated from the
words (their own rotation, or the direction from each word to its right-hand neighbour),
and word geometry is rotated by minus that angle, so rows of a skewed page become
horizontal and same-row words can never be swapped by sorting on raw ``y``.

Page rules (see README "Reading order"):

1. A *gutter* is an empty vertical strip, at least ``column_gap`` median text heights wide,
   with words on both sides that each span two or more rows. A region with a gutter is cut
   there (widest first) and the parts are read left to right (columns, two-page spreads).
2. Otherwise the region is cut into horizontal bands at empty horizontal strips; runs of
   consecutive bands that share a gutter become one block (so a short column next to a long
   one, or a title above two columns, is read correctly); blocks are read top to bottom.
3. Inside a region with no cut left, words are chained into lines: a word joins the line
   whose last word overlaps it vertically by at least ``min_overlap`` of the smaller height;
   lines are read top to bottom and words in a line left to right.

``order: "topological"`` replaces rules 1-3 for pages whose columns flow around pictures or
captions: lines are cut into segments at column gutters (:func:`line_segments`, which also
finds gutters narrower than ``column_gap``), and segments are sorted by Breuel's partial
order (:func:`topological_order`).

Plates: regions that touch side by side or are stacked (a two-row plate read as rows or
characters) form one plate; a plate is read top row first, each row left to right, and the
plates of a photo are listed left to right.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from core.geometry import (
    as_points,
    bbox_of,
    connected_groups,
    is_axis_aligned_box,
    min_area_quad,
    polygon_angle,
    rotate_points,
)

MAX_SKEW = math.radians(30.0)


@dataclass(frozen=True)
class WordBox:
    """A word in the deskewed frame: x extent, vertical centre and text height."""

    x0: float
    x1: float
    cy: float
    h: float

    @property
    def y0(self) -> float:
        return self.cy - self.h / 2

    @property
    def y1(self) -> float:
        return self.cy + self.h / 2


def estimate_skew(polygons: Sequence[np.ndarray]) -> float:
    """Dominant text direction in radians (positive: rows descend to the right).

    Two kinds of evidence are pooled and their median taken: the long-side direction of
    every rotated, elongated word polygon, and the direction from each word's centre to its
    nearest right-hand neighbour on the same row (the only evidence when the detector gives
    axis-aligned boxes). Returns 0 when there is no evidence; clipped to ±30°.
    """
    if len(polygons) < 1:
        return 0.0
    pts = [as_points(p) for p in polygons]
    angles: list[float] = []
    for p in pts:
        if is_axis_aligned_box(p):
            continue
        angle, length = polygon_angle(p)
        short = _short_side(p)
        if short > 0 and length >= 1.3 * short:
            angles.append(angle)
    angles.extend(_neighbour_angles(pts))
    if not angles:
        return 0.0
    return float(np.clip(np.median(angles), -MAX_SKEW, MAX_SKEW))


def _short_side(p: np.ndarray) -> float:
    q = min_area_quad(p)
    return float(min(np.linalg.norm(q[1] - q[0]), np.linalg.norm(q[3] - q[0])))


def _neighbour_angles(pts: Sequence[np.ndarray], cone_deg: float = 25.0) -> list[float]:
    """Directions from each word to its nearest right-hand neighbour on the same row."""
    if len(pts) < 2:
        return []
    boxes = np.array([bbox_of(p) for p in pts])
    centres = np.stack([(boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2], 1)
    heights = boxes[:, 3] - boxes[:, 1]
    tan_cone = math.tan(math.radians(cone_deg))
    out = []
    for i in range(len(pts)):
        d = centres - centres[i]
        gap = boxes[:, 0] - boxes[i, 2]
        ok = (d[:, 0] > 0) & (np.abs(d[:, 1]) <= d[:, 0] * tan_cone)
        h = np.maximum(heights, heights[i])
        # To the right: starting before this word ends (a longer region of the next row,
        # whose centre happens to lie right of this one's) is not a neighbour on the row.
        ok &= (gap <= 3.0 * h) & (gap >= -0.5 * h)
        # On the same row the two boxes share part of their height; a row's last word and a
        # word of the next row do not (on a receipt's short, tightly set rows that pair was
        # most of the evidence, and tilted the page by 4-8 degrees).
        shared = np.minimum(boxes[:, 3], boxes[i, 3]) - np.maximum(boxes[:, 1], boxes[i, 1])
        ok &= shared > 0
        ok[i] = False
        if not ok.any():
            continue
        dist = np.where(ok, np.hypot(d[:, 0], d[:, 1]), np.inf)
        j = int(np.argmin(dist))
        out.append(math.atan2(d[j, 1], d[j, 0]))
    return out


def deskewed_boxes(polygons: Sequence[np.ndarray], skew: float) -> list[WordBox]:
    """Each word's x extent, centre y and text height in the frame rotated by ``-skew``.

    For an axis-aligned box around a rotated word the box is larger than the word; its true
    width and height are recovered from ``W = w cos a + h sin a`` and ``H = w sin a + h cos a``
    so that neighbouring rows do not seem to overlap.
    """
    out = []
    c, s = math.cos(skew), abs(math.sin(skew))
    for p in polygons:
        pts = as_points(p)
        flat = rotate_points(pts, -skew)
        x0, y0 = flat.min(axis=0)
        x1, y1 = flat.max(axis=0)
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        w, h = x1 - x0, y1 - y0
        if s > 1e-3 and is_axis_aligned_box(pts):
            bx1, by1, bx2, by2 = bbox_of(pts)
            bw, bh = bx2 - bx1, by2 - by1
            cos2 = c * c - s * s
            w = max((bw * c - bh * s) / cos2, 0.3 * bw)
            h = max((bh * c - bw * s) / cos2, 0.3 * bh)
        out.append(WordBox(float(cx - w / 2), float(cx + w / 2), float(cy), float(max(h, 1e-6))))
    return out


def _vertical_overlap(a: WordBox, b: WordBox) -> float:
    inter = min(a.y1, b.y1) - max(a.y0, b.y0)
    return inter / min(a.h, b.h)


def group_lines(boxes: Sequence[WordBox], indices: Sequence[int] | None = None,
                min_overlap: float = 0.5, max_gap: float = math.inf) -> list[list[int]]:
    """Chain words into lines in the deskewed frame.

    Words are visited left to right; each joins the line whose last word overlaps it
    vertically by at least ``min_overlap`` of the smaller height (best overlap wins) and is
    at most ``max_gap`` text heights to its right; otherwise it starts a new line. Following
    the last word lets lines bend slightly.

    Args:
        boxes: all words, deskewed.
        indices: which words to group (default all).
        min_overlap: vertical overlap ratio for two words to share a line.
        max_gap: largest horizontal gap between neighbours, in text heights.

    Returns:
        Lines as lists of word indices, each ordered left to right, lines top to bottom.
    """
    idx = list(range(len(boxes))) if indices is None else list(indices)
    idx.sort(key=lambda i: (boxes[i].x0, boxes[i].cy))
    lines: list[list[int]] = []
    for i in idx:
        best, best_key = None, None
        for n, line in enumerate(lines):
            last = boxes[line[-1]]
            ov = _vertical_overlap(last, boxes[i])
            if ov < min_overlap:
                continue
            if boxes[i].x0 - last.x1 > max_gap * max(last.h, boxes[i].h):
                continue
            key = (ov, -abs(last.cy - boxes[i].cy))
            if best_key is None or key > best_key:
                best, best_key = n, key
        if best is None:
            lines.append([i])
        else:
            lines[best].append(i)
    lines.sort(key=lambda line: (float(np.mean([boxes[i].cy for i in line])), boxes[line[0]].x0))
    return lines


def _gutters(boxes: Sequence[WordBox], idx: Sequence[int], min_width: float,
             min_side_height: float) -> list[tuple[float, float]]:
    """Empty vertical strips at least ``min_width`` wide with tall enough content both sides."""
    order = sorted(idx, key=lambda i: boxes[i].x0)
    gaps = []
    reach = boxes[order[0]].x1
    for i in order[1:]:
        if boxes[i].x0 - reach >= min_width:
            gaps.append((reach, boxes[i].x0))
        reach = max(reach, boxes[i].x1)
    out = []
    for g0, g1 in gaps:
        left = [i for i in idx if boxes[i].x1 <= g0]
        right = [i for i in idx if boxes[i].x0 >= g1]
        if _span(boxes, left) >= min_side_height and _span(boxes, right) >= min_side_height:
            out.append((g0, g1))
    return out


def _span(boxes: Sequence[WordBox], idx: Sequence[int]) -> float:
    if not idx:
        return 0.0
    return max(boxes[i].y1 for i in idx) - min(boxes[i].y0 for i in idx)


def _bands(boxes: Sequence[WordBox], idx: Sequence[int]) -> list[list[int]]:
    """Split into horizontal bands at empty horizontal strips, top to bottom."""
    order = sorted(idx, key=lambda i: boxes[i].y0)
    bands = [[order[0]]]
    reach = boxes[order[0]].y1
    for i in order[1:]:
        if boxes[i].y0 > reach:
            bands.append([i])
        else:
            bands[-1].append(i)
        reach = max(reach, boxes[i].y1)
    return bands


@dataclass(frozen=True)
class PageLayout:
    """Parameters of :func:`page_order` (all lengths in median text heights)."""

    min_overlap: float = 0.5
    column_gap: float = 1.5
    min_column_rows: float = 1.8
    order: Literal["cuts", "topological"] = "cuts"
    gutter_gap: float | None = 0.4
    min_x_overlap: float = 0.0
    value_width: float | None = None


def page_order(polygons: Sequence[np.ndarray], layout: PageLayout = PageLayout(),
               skew: float | None = None, texts: Sequence[str] | None = None
               ) -> list[list[int]]:
    """Reading order of the words of a page.

    Args:
        polygons: word polygons in image pixels.
        layout: grouping thresholds.
        skew: text direction in radians; estimated with :func:`estimate_skew` when ``None``.
        texts: the words' texts, when read: ``layout.value_width`` then joins only columns
            of numbers (:func:`attach_values`).

    Returns:
        Lines in reading order, each a list of indices into ``polygons`` in reading order.
    """
    if len(polygons) == 0:
        return []
    if skew is None:
        skew = estimate_skew(polygons)
    boxes = deskewed_boxes(polygons, skew)
    if layout.order == "topological":
        segments = line_segments(boxes, layout.min_overlap, layout.column_gap,
                                 layout.gutter_gap)
        if layout.value_width is not None:
            segments = attach_values(boxes, segments, layout.value_width, layout.min_overlap,
                                     texts)
        return topological_order([_segment_box(boxes, s) for s in segments], segments,
                                 layout.min_x_overlap)
    hm = float(np.median([b.h for b in boxes]))
    return _order_region(boxes, list(range(len(boxes))), hm, layout)


def line_segments(boxes: Sequence[WordBox], min_overlap: float = 0.5,
                  column_gap: float = 1.5, min_gap: float | None = 0.4,
                  window: float = 2.2, min_piece: float = 3.0) -> list[list[int]]:
    """Lines cut at column gutters, even gutters narrower than a justified word gap.

    Words are chained into lines (:func:`group_lines`, neighbours at most ``column_gap``
    heights apart). A gap of at least ``min_gap`` heights inside a line is a gutter too when
    the other words within ``window`` heights above or below leave at least ``min_gap``
    heights of it uncovered: between columns that strip is empty on every row, while the
    rows around a word gap have words across it. One of the two regions beside the gap must
    be at least ``min_piece`` heights wide (a line of a column, or a long word): a table of
    short cells keeps its rows. ``min_gap=None`` cuts only at ``column_gap``.

    Returns:
        Segments as lists of word indices, each left to right.
    """
    if not boxes:
        return []
    x0 = np.array([b.x0 for b in boxes])
    x1 = np.array([b.x1 for b in boxes])
    cy = np.array([b.cy for b in boxes])
    out: list[list[int]] = []
    for line in group_lines(boxes, None, min_overlap, max_gap=column_gap):
        cuts = [] if min_gap is None else _gutter_cuts(boxes, line, x0, x1, cy, min_gap,
                                                        window, min_piece)
        for start, end in zip([0, *cuts], [*cuts, len(line)], strict=True):
            out.append(line[start:end])
    return out


def _gutter_cuts(boxes: Sequence[WordBox], line: list[int], x0: np.ndarray, x1: np.ndarray,
                 cy: np.ndarray, min_gap: float, window: float, min_piece: float
                 ) -> list[int]:
    """Positions ``k`` in ``line`` where the gap before word ``k`` is a column gutter."""
    mine = np.zeros(len(boxes), dtype=bool)
    mine[line] = True
    cuts = []
    for k in range(1, len(line)):
        a, b = boxes[line[k - 1]], boxes[line[k]]
        h = max(a.h, b.h)
        if b.x0 - a.x1 < min_gap * h or max(a.x1 - a.x0, b.x1 - b.x0) < min_piece * h:
            continue
        if is_gutter(a.x1, b.x0, (a.cy + b.cy) / 2, h, x0, x1, cy, mine, min_gap, window):
            cuts.append(k)
    return cuts


def is_gutter(lo: float, hi: float, cy: float, h: float, x0: np.ndarray, x1: np.ndarray,
              centres: np.ndarray, skip: np.ndarray, min_gap: float, window: float) -> bool:
    """Whether the gap ``[lo, hi]`` of a row at height ``cy`` (text height ``h``) is a column
    gutter: the other boxes (``x0``, ``x1``, vertical ``centres``; not those marked in
    ``skip``) within ``window`` heights above or below leave at least ``min_gap`` heights of
    it uncovered. ``False`` when no box is near (a lone line is no evidence)."""
    near = ~skip & (np.abs(centres - cy) <= window * h)
    if not near.any():
        return False
    return _uncovered_run(lo, hi, x0[near], x1[near]) >= min_gap * h


def _uncovered_run(lo: float, hi: float, starts: np.ndarray, ends: np.ndarray) -> float:
    """Longest part of ``[lo, hi]`` that no interval ``[starts[i], ends[i]]`` covers."""
    best, reach = 0.0, lo
    for s, e in sorted(zip(starts.tolist(), ends.tolist(), strict=True)):
        if e <= reach or s >= hi:
            continue
        best = max(best, s - reach)
        reach = e
    return max(best, hi - reach)


def attach_values(boxes: Sequence[WordBox], segments: Sequence[list[int]], max_width: float,
                  min_overlap: float = 0.5, texts: Sequence[str] | None = None
                  ) -> list[list[int]]:
    """Join the cells of a column of short values to the rows they stand in.

    A receipt's prices, a form's values or a table's numbers stand a gutter away from their
    labels, so :func:`line_segments` reads them as a column of their own and the
    topological order reads them after all the labels. A segment joins the segment on its
    left in the same row that overlaps it most vertically (at least ``min_overlap`` of the
    smaller height, to a tenth; the nearest of equal overlaps) when it, and the median of
    its column (the segments sharing half the narrower x extent with it), are at most
    ``max_width`` median text heights wide and, when the words' ``texts`` are given, at
    least half of the column's letters and digits are digits. A column of text is wider and
    wordy, so the last short line of a paragraph or a caption beside the text stays in its
    own column.

    Returns:
        Segments, each left to right; a joined row is one segment.
    """
    if len(segments) <= 1:
        return list(segments)
    hm = float(np.median([b.h for b in boxes]))
    limit = max_width * hm
    sb = [_segment_box(boxes, s) for s in segments]
    x0 = np.array([b.x0 for b in sb])
    x1 = np.array([b.x1 for b in sb])
    width = x1 - x0
    shared = np.minimum(x1[:, None], x1[None, :]) - np.maximum(x0[:, None], x0[None, :])
    column = shared >= 0.5 * np.minimum(width[:, None], width[None, :])
    if texts is not None:
        chars = ["".join(c for w in seg for c in texts[w] if c.isalnum()) for seg in segments]
        digits = np.array([sum(c.isdigit() for c in t) for t in chars])
        alnum = np.array([len(t) for t in chars])
    parent = list(range(len(sb)))

    def root(a: int) -> int:
        while parent[a] != a:
            a = parent[a]
        return a

    for s in np.argsort(x0, kind="stable"):
        if width[s] > limit or np.median(width[column[s]]) > limit:
            continue
        if texts is not None and 2 * digits[column[s]].sum() < alnum[column[s]].sum():
            continue
        overlap = {k: _vertical_overlap(sb[k], sb[s]) for k in range(len(sb)) if x1[k] <= x0[s]}
        left = [k for k, v in overlap.items() if v >= min_overlap]
        if left:
            parent[s] = root(max(left, key=lambda k: (round(overlap[k], 1), x1[k])))
    rows: dict[int, list[int]] = {}
    for s in np.argsort(x0, kind="stable"):
        rows.setdefault(root(int(s)), []).extend(segments[s])
    return list(rows.values())


def _segment_box(boxes: Sequence[WordBox], idx: Sequence[int]) -> WordBox:
    y0 = min(boxes[i].y0 for i in idx)
    y1 = max(boxes[i].y1 for i in idx)
    return WordBox(x0=min(boxes[i].x0 for i in idx), x1=max(boxes[i].x1 for i in idx),
                   cy=(y0 + y1) / 2, h=y1 - y0)


def topological_order(segments: Sequence[WordBox], items: Sequence[list[int]] | None = None,
                      min_x_overlap: float = 0.0) -> list[list[int]]:
    """Order line segments by the partial order of Breuel's layout analysis (2003).

    Segment ``a`` comes before ``b`` when (1) their x extents overlap and ``a`` is above
    ``b``, or (2) ``a`` lies wholly left of ``b`` and no segment whose centre lies
    vertically between theirs overlaps both in x (nothing spans the gutter between them).
    Segments are then taken in that order, the topmost (then leftmost) free one first; a
    cycle, possible on odd layouts, is broken the same way. Unlike cuts this reads columns
    that flow around a picture or a caption, where no gutter runs the full height.

    Args:
        segments: line segments (words of one line within one column), deskewed.
        items: what to return for each segment (default ``[[0], [1], ...]``).
        min_x_overlap: rule (1) needs the x extents to share at least this fraction of the
            narrower one; a block that only grazes the column above or below, such as a
            caption straddling a gutter, then stays unordered with it instead of chaining
            the columns together.

    Returns:
        ``items`` in reading order.
    """
    n = len(segments)
    items = [[i] for i in range(n)] if items is None else list(items)
    if n <= 1:
        return items
    x0 = np.array([s.x0 for s in segments])
    x1 = np.array([s.x1 for s in segments])
    cy = np.array([s.cy for s in segments])
    overlap_x = (x0[:, None] < x1[None, :]) & (x0[None, :] < x1[:, None])
    before = overlap_x & (cy[:, None] < cy[None, :])
    if min_x_overlap > 0:
        shared = np.minimum(x1[:, None], x1[None, :]) - np.maximum(x0[:, None], x0[None, :])
        narrower = np.minimum((x1 - x0)[:, None], (x1 - x0)[None, :])
        before &= shared >= min_x_overlap * np.maximum(narrower, 1e-6)
    left_of = x1[:, None] <= x0[None, :]
    lo = np.minimum(cy[:, None], cy[None, :])
    hi = np.maximum(cy[:, None], cy[None, :])
    for a in np.flatnonzero(left_of.any(axis=1)):
        bs = np.flatnonzero(left_of[a])
        cs = np.flatnonzero(overlap_x[a])  # only these can span the gap right of a
        # c spans the gutter between a and each b: centre between theirs, x over both.
        between = (cy[cs][None, :] > lo[a, bs][:, None]) & (cy[cs][None, :] < hi[a, bs][:, None])
        spans = between & overlap_x[np.ix_(bs, cs)]
        before[a, bs] = ~spans.any(axis=1)
    np.fill_diagonal(before, False)
    indegree = before.sum(axis=0)
    done = np.zeros(n, dtype=bool)
    rank = np.lexsort((x0, cy))  # topmost, then leftmost
    out = []
    for _ in range(n):
        free = [i for i in rank if not done[i] and indegree[i] == 0]
        pick = free[0] if free else next(i for i in rank if not done[i])
        done[pick] = True
        indegree -= before[pick]
        indegree[pick] = -1
        out.append(items[pick])
    return out


def _order_region(boxes: Sequence[WordBox], idx: list[int], hm: float,
                  layout: PageLayout) -> list[list[int]]:
    if len(idx) <= 1:
        return [idx] if idx else []
    min_gap, min_rows = layout.column_gap * hm, layout.min_column_rows * hm
    gutters = _gutters(boxes, idx, min_gap, min_rows)
    if gutters:
        g0, g1 = max(gutters, key=lambda g: g[1] - g[0])
        cut = (g0 + g1) / 2
        left = [i for i in idx if boxes[i].x1 <= cut]
        right = [i for i in idx if boxes[i].x1 > cut]
        return _order_region(boxes, left, hm, layout) + _order_region(boxes, right, hm, layout)
    bands = _bands(boxes, idx)
    if len(bands) == 1:
        return group_lines(boxes, idx, layout.min_overlap)
    out: list[list[int]] = []
    start = 0
    while start < len(bands):
        # The longest run of bands from here whose union has a gutter forms one block.
        end = start
        members = list(bands[start])
        for j in range(start + 1, len(bands)):
            members = members + bands[j]
            if not _gutters(boxes, members, min_gap, 0.0):
                break  # no empty strip left at all: more bands cannot bring one back
            if _gutters(boxes, members, min_gap, min_rows):
                end = j
        block = [i for b in bands[start:end + 1] for i in b]
        if end > start:
            out += _order_region(boxes, block, hm, layout)
        else:
            out += group_lines(boxes, block, layout.min_overlap)
        start = end + 1
    return out


def plate_order(polygons: Sequence[np.ndarray], min_overlap: float = 0.5,
                row_gap: float = 0.6, side_gap: float = 1.0) -> list[list[int]]:
    """Group regions into plates and order each plate top row first.

    Two regions belong to one plate when they sit side by side on a row (vertical overlap
    ``>= min_overlap`` and a gap of at most ``side_gap`` heights) or are stacked rows (they
    overlap horizontally by half the narrower width and the vertical gap is at most
    ``row_gap`` heights). Plates are ordered left to right by their centres (along the
    photo's skew), whatever their height in the photo: cars in a street stand side by side,
    near ones lower in the frame than far ones, and are not lines of text.

    Returns:
        One list per plate, indices in reading order: rows top to bottom, each row left to
        right.
    """
    if len(polygons) == 0:
        return []
    skew = estimate_skew(polygons)
    boxes = deskewed_boxes(polygons, skew)
    n = len(boxes)
    joined = []
    for a in range(n):
        for b in range(a + 1, n):
            ba, bb = boxes[a], boxes[b]
            h = min(ba.h, bb.h)
            x_gap = max(ba.x0, bb.x0) - min(ba.x1, bb.x1)
            y_gap = max(ba.y0, bb.y0) - min(ba.y1, bb.y1)
            x_overlap = -x_gap / max(min(ba.x1 - ba.x0, bb.x1 - bb.x0), 1e-6)
            side = _vertical_overlap(ba, bb) >= min_overlap and x_gap <= side_gap * h
            stacked = x_overlap >= 0.5 and y_gap <= row_gap * h
            if side or stacked:
                joined.append((a, b))
    plates = [[i for row in group_lines(boxes, g, min_overlap) for i in row]
              for g in connected_groups(n, joined)]
    centres = [(min(boxes[i].x0 for i in p) + max(boxes[i].x1 for i in p)) / 2 for p in plates]
    order = sorted(range(len(plates)), key=lambda k: (centres[k], min(boxes[i].y0 for i in
                                                                         plates[k])))
    return [plates[k] for k in order]

