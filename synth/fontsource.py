"""Handwriting fonts from Google Fonts, as packaged on npm under ``@fontsource/*``.

Each package ships one ``.woff2`` file per script subset and weight (Latin and Cyrillic
apart). :func:`build_fonts` turns the subsets of one weight into a single TrueType file that
fontconfig and PIL can use, so a face can draw a Russian and an English word alike.
``scripts/setup.sh`` fetches the packages (``npm pack``) and runs this module; nothing is
fetched at OCR time and no font file is committed.

Usage: ``python -m synth.fontsource PACKAGES_DIR FONTS_DIR``.
"""

from __future__ import annotations

import json
import logging
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

# npm package ids (``@fontsource/<id>``): handwriting families, most with Cyrillic as well
# as Latin (caveat-brush, kaushan-script and ms-madi are Latin only). Shantell Sans is filed
# as "display" by Google Fonts but drawn from handwriting. Left out: Kurale and Gabriela
# (book faces) and Amatic SC (small caps: its lower-case letters look like capitals, so a
# label's case would be wrong).
FAMILIES = ("caveat", "caveat-brush", "bad-script", "marck-script", "neucha", "pangolin",
            "shantell-sans", "comforter", "comforter-brush", "great-vibes", "pacifico",
            "kaushan-script", "ms-madi")
# Subsets merged into one face, in this order (the first one's metrics are kept).
SUBSETS = ("latin", "latin-ext", "cyrillic", "cyrillic-ext")
# Weights built when a family has them: regular, and bold for thicker strokes.
WEIGHTS = (400, 700)


@dataclass(frozen=True)
class BuiltFont:
    """One TrueType file written by :func:`build_fonts`."""

    path: Path
    family: str
    weight: int
    subsets: tuple[str, ...]
    license: str


def _members(tar: tarfile.TarFile) -> dict[str, tarfile.TarInfo]:
    return {Path(m.name).name: m for m in tar.getmembers() if m.isfile()}


def _metadata(tar: tarfile.TarFile, members: dict[str, tarfile.TarInfo]) -> dict:
    if "metadata.json" not in members:
        raise ValueError(f"{tar.name}: no metadata.json (not a @fontsource package?)")
    return json.loads(tar.extractfile(members["metadata.json"]).read().decode("utf-8"))


def _rename(font, family: str, weight: int) -> None:
    """Give the merged face one family name and a weight fontconfig reports."""
    style = "Regular" if weight == 400 else "Bold" if weight == 700 else str(weight)
    name = font["name"]
    for rec_id, value in ((1, family), (2, style), (4, f"{family} {style}"),
                          (6, f"{family.replace(' ', '')}-{style}"), (16, family), (17, style)):
        name.setName(value, rec_id, 3, 1, 0x409)
    if "OS/2" in font:
        font["OS/2"].usWeightClass = weight


def build_package(package: Path, out_dir: Path) -> list[BuiltFont]:
    """Write one TrueType file per available weight of one ``npm pack`` tarball.

    Raises:
        ValueError: the tarball is no @fontsource package, or lacks a Latin subset.
    """
    from fontTools.merge import Merger
    from fontTools.ttLib import TTFont

    out_dir.mkdir(parents=True, exist_ok=True)
    built: list[BuiltFont] = []
    with tarfile.open(package) as tar, tempfile.TemporaryDirectory() as tmp:
        members = _members(tar)
        meta = _metadata(tar, members)
        font_id, family = meta["id"], meta["family"]
        licence = (meta.get("license") or {}).get("type", "unknown")
        for weight in WEIGHTS:
            parts: list[str] = []
            subsets: list[str] = []
            for subset in SUBSETS:
                member = members.get(f"{font_id}-{subset}-{weight}-normal.woff2")
                if member is None:
                    continue
                font = TTFont(tar.extractfile(member))
                font.flavor = None
                part = Path(tmp) / f"{subset}-{weight}.ttf"
                font.save(part)
                parts.append(str(part))
                subsets.append(subset)
            if not subsets:
                continue
            if "latin" not in subsets:
                raise ValueError(f"{package.name}: weight {weight} has no latin subset")
            merged = Merger().merge(parts) if len(parts) > 1 else TTFont(parts[0])
            _rename(merged, family, weight)
            path = out_dir / f"{font_id}-{weight}.ttf"
            merged.save(path)
            built.append(BuiltFont(path, family, weight, tuple(subsets), licence))
    return built


def build_fonts(packages_dir: Path, out_dir: Path,
                families: tuple[str, ...] = FAMILIES) -> list[BuiltFont]:
    """Build the ``families`` found as ``fontsource-<id>-<version>.tgz`` in ``packages_dir``.

    Other tarballs there are ignored; a broken package is logged and skipped.

    Raises:
        FileNotFoundError: none of ``families`` is in ``packages_dir``.
    """
    built: list[BuiltFont] = []
    found = 0
    for family in families:
        tarballs = sorted(packages_dir.glob(f"fontsource-{family}-[0-9]*.tgz"))
        if not tarballs:
            log.warning("no package for %s in %s", family, packages_dir)
            continue
        found += 1
        try:
            built.extend(build_package(tarballs[-1], out_dir))
        except Exception as exc:  # one broken package must not cost the others
            log.warning("skipping %s: %s", tarballs[-1].name, exc)
    if not found:
        raise FileNotFoundError(f"no fontsource-<family>-*.tgz of {', '.join(families)} in "
                                f"{packages_dir} (run npm pack first)")
    return built


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m synth.fontsource PACKAGES_DIR FONTS_DIR", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    logging.getLogger("fontTools").setLevel(logging.ERROR)  # the merger logs every table
    built = build_fonts(Path(args[0]), Path(args[1]))
    for b in built:
        print(f"{b.path}\t{b.family}\t{b.weight}\t{','.join(b.subsets)}\t{b.license}")
    return 0 if built else 1


if __name__ == "__main__":
    raise SystemExit(main())
