"""CCPD file names → plate text and plate geometry.

A CCPD name has 7 ``-``-separated fields: area, tilt, bbox ``x1&y1_x2&y2``, four vertices
``x&y_x&y_x&y_x&y`` (from bottom-right), plate indices ``i0_i1_..``, brightness, blur.
Index 0 is a province, 1 an alphabet letter, the rest letters/digits ("O" = no character;
green new-energy plates have 8 characters).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

PROVINCES = list("皖沪津渝冀晋蒙辽吉黑苏浙京闽赣鲁豫鄂湘粤桂琼川贵云藏陕甘青宁新警学") + ["O"]
_LETTERS = [c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" if c not in "IO"]
ALPHABETS = _LETTERS + ["O"]
ADS = _LETTERS + list("0123456789") + ["O"]
NO_CHAR = "O"


@dataclass(frozen=True)
class CCPDPlate:
    """What a CCPD file name says about its plate."""

    text: str
    bbox: tuple[int, int, int, int]
    vertices: tuple[tuple[int, int], ...]
    brightness: int
    blur: int


def _point(s: str) -> tuple[int, int]:
    x, y = s.split("&")
    return int(x), int(y)


def decode_plate_indices(indices: list[int]) -> str:
    """Plate text of CCPD character indices (province, letter, then letters/digits)."""
    if len(indices) < 2:
        raise ValueError(f"need at least 2 plate indices, got {indices}")
    chars = [PROVINCES[indices[0]], ALPHABETS[indices[1]]]
    chars += [ADS[i] for i in indices[2:]]
    return "".join(c for c in chars if c != NO_CHAR)


def parse_ccpd_name(name: str | Path) -> CCPDPlate:
    """Decode a CCPD file name (with or without folders / extension).

    Raises:
        ValueError: naming the file when it is not a CCPD name.
    """
    stem = Path(name).stem
    fields = stem.split("-")
    if len(fields) != 7:
        raise ValueError(f"{name}: not a CCPD name (expected 7 '-'-separated fields)")
    try:
        (x1, y1), (x2, y2) = (_point(p) for p in fields[2].split("_"))
        vertices = tuple(_point(p) for p in fields[3].split("_"))
        text = decode_plate_indices([int(i) for i in fields[4].split("_")])
        return CCPDPlate(text, (x1, y1, x2, y2), vertices, int(fields[5]), int(fields[6]))
    except (ValueError, IndexError) as exc:
        raise ValueError(f"{name}: bad CCPD name: {exc}") from exc


def is_ccpd_name(name: str | Path) -> bool:
    """Whether ``name`` parses as a CCPD file name."""
    try:
        parse_ccpd_name(name)
    except ValueError:
        return False
    return True
