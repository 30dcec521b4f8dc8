"""``pipeline synth``: generate labelled synthetic data."""

from __future__ import annotations

import time
from enum import Enum
from pathlib import Path

import typer

from core.cli import EXIT_USAGE, fail


class SynthKind(str, Enum):
    notebooks = "notebooks"
    documents = "documents"
    plates = "plates"
    plate_scenes = "plate_scenes"
    street_scenes = "street_scenes"
    lines = "lines"
    scene_words = "scene_words"
    receipts = "receipts"
    page_photos = "page_photos"
    samples = "samples"


PAGE_KINDS = ("notebooks", "documents", "plate_scenes", "street_scenes", "page_photos",
              "receipts")


def synth(
    kind: SynthKind = typer.Argument(
        ..., help="What to generate: lines (word/line crops), scene_words (word crops of signs "
        "and shop fronts as a camera sees them), plates (plate crops; --scene for "
        "car scenes), plate_scenes, street_scenes (small plates, several cars, night, "
        "distractor text), documents, notebooks, page_photos (phone photos of printed pages on a "
        "table, page corners labelled), receipts (photographed till receipts, RU/EN), samples "
        "(the shipped sample images)."),
    out: Path = typer.Option(..., "--out", "-o", help="Output folder."),
    n: int = typer.Option(100, "--n", min=1, help="How many samples."),
    seed: int = typer.Option(0, help="Seed; the same seed gives the same data."),
    workers: int = typer.Option(1, min=1, help="Parallel worker processes."),
    scene: bool = typer.Option(False, "--scene", help="plates only: whole car scenes (COCO) "
                               "instead of plate crops (same as kind plate_scenes)."),
    size: int | None = typer.Option(None, "--size", help="Long side in pixels of pages and "
                                    "scenes (default 1600 pages, 1280 scenes)."),
    text_scale: float | None = typer.Option(
        None, "--text-scale", help="documents only: body text size relative to the default "
        "(2 = twice as large, fewer words per page)."),
    max_words: int | None = typer.Option(
        None, "--max-words", help="lines only: multi-word crops have 2 to this many words "
        "(default 5; ~12 gives whole printed lines)."),
    line_prob: float | None = typer.Option(
        None, "--line-prob", help="lines only: share of multi-word crops (default 0.4)."),
    hand_prob: float | None = typer.Option(
        None, "--hand-prob", help="lines only: share of handwriting crops (default 0.35)."),
    curly_prob: float | None = typer.Option(
        None, "--curly-prob", help="lines only: share of printed crops drawn with curly "
        "quotes (labels keep straight ones; default 0)."),
    bilevel_prob: float | None = typer.Option(
        None, "--bilevel-prob", help="lines only: share of printed crops binarized like a "
        "1-bit scan (default 0)."),
    symbol_prob: float | None = typer.Option(
        None, "--symbol-prob", help="lines only: per-word chance of a rarer mark ([] {} $ # "
        "@ / „“) and of an accented Latin letter (default 0)."),
    break_prob: float | None = typer.Option(
        None, "--break-prob", help="lines only: share of printed multi-word crops whose last "
        "word is broken off with a hyphen, as at the end of a justified line (default 0)."),
    neighbour_prob: float | None = typer.Option(
        None, "--neighbour-prob", help="lines only: share of crops that also show strips of "
        "the lines above and below, cut by the crop's edges, as boxes cut from a tightly set "
        "page do (default 0)."),
    quote_prob: float | None = typer.Option(
        None, "--quote-prob", help="lines only: share of printed crops with a run of words "
        "quoted as speech, the sentence's mark inside the closing quote in English "
        "(\"It's nothing.\" How; default 0)."),
    ligature_prob: float | None = typer.Option(
        None, "--ligature-prob", help="lines only: share of serif / sans crops drawn with fi, "
        "fl, ff, ffi, ffl ligature glyphs, as books print them (labels keep the letters; "
        "default 0)."),
    hand_warp_prob: float | None = typer.Option(
        None, "--hand-warp-prob", help="lines only: share of handwriting crops drawn with a "
        "drifting baseline, letters jittered in height, size and place, elastic wobble and "
        "pen pressure (default 0)."),
    natural_words: bool | None = typer.Option(
        None, "--natural-words", help="lines only: draw words as often as in real text "
        "(short function words such as a, I, of common; English i written I), not with the "
        "flattened default weights."),
    scan_prob: float | None = typer.Option(
        None, "--scan-prob", help="receipts only: share of receipts scanned flat (a flatbed "
        "scan with the lid's margin, colour or grey) instead of photographed on a table "
        "(default 0)."),
    office_prob: float | None = typer.Option(
        None, "--office-prob", help="receipts only: share of the scanned receipts (--scan-prob) "
        "scanned on a whole A4 page in office-copier looks: dot-matrix or ribbon print, grey "
        "or speckled page, sometimes 1-bit (default 0)."),
    layouts: str | None = typer.Option(
        None, "--layouts", help="plates only: comma-separated plate layouts to draw, each "
        "equally often (ru, ru_square, eu, us, cn_blue, cn_green, cn_yellow, "
        "cn_yellow_two_row; default: all, by weight)."),
    max_roll: float | None = typer.Option(
        None, "--max-roll", help="plate_scenes only: largest in-plane turn of a plate, degrees "
        "(default 8; CCPD-like tilted plates need 30-40)."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar."),
) -> None:
    """Generate synthetic pages, plates or text-line crops with exact labels.

    Crops (lines, plates) → OUT/images/*.png + OUT/labels.tsv (file<TAB>text[<TAB>region]).
    Pages and scenes → OUT/images/*.jpg + OUT/annotations.json (COCO, NTO layout).
    """
    name = kind.value
    if scene:
        if name != "plates":
            fail(f"--scene only applies to kind 'plates', not {name!r}", EXIT_USAGE)
        name = "plate_scenes"
    if size is not None:
        if name not in PAGE_KINDS and name != "samples":
            fail(f"--size only applies to {', '.join(PAGE_KINDS)}, not {name!r}", EXIT_USAGE)
        if not 64 <= size <= 8192:
            fail(f"--size must be between 64 and 8192 pixels, got {size}", EXIT_USAGE)
    if text_scale is not None and (name != "documents" or not 0.2 <= text_scale <= 10):
        fail(f"--text-scale applies to kind 'documents' only, between 0.2 and 10 "
             f"(got kind {name!r}, {text_scale})", EXIT_USAGE)
    shares = {"line_prob": line_prob, "hand_prob": hand_prob, "curly_prob": curly_prob,
              "bilevel_prob": bilevel_prob, "symbol_prob": symbol_prob,
              "break_prob": break_prob, "neighbour_prob": neighbour_prob,
              "quote_prob": quote_prob, "ligature_prob": ligature_prob,
              "hand_warp_prob": hand_warp_prob}
    line_options = {k: v for k, v in {"max_words": max_words, "natural_words": natural_words,
                                      **shares}.items() if v is not None}
    if line_options and name != "lines":
        flags = ", ".join("--" + k.replace("_", "-") for k in line_options)
        fail(f"{flags}: apply to kind 'lines' only, not {name!r}", EXIT_USAGE)
    if max_words is not None and not 2 <= max_words <= 40:
        fail(f"--max-words must be between 2 and 40, got {max_words}", EXIT_USAGE)
    for key, value in shares.items():
        if value is not None and not 0.0 <= value <= 1.0:
            fail(f"--{key.replace('_', '-')} must be between 0 and 1, got {value}", EXIT_USAGE)
    if scan_prob is not None and (name != "receipts" or not 0.0 <= scan_prob <= 1.0):
        fail(f"--scan-prob applies to kind 'receipts' only, between 0 and 1 (got kind "
             f"{name!r}, {scan_prob})", EXIT_USAGE)
    if office_prob is not None and (name != "receipts" or not 0.0 <= office_prob <= 1.0):
        fail(f"--office-prob applies to kind 'receipts' only, between 0 and 1 (got kind "
             f"{name!r}, {office_prob})", EXIT_USAGE)
    if layouts is not None and name != "plates":
        fail(f"--layouts applies to kind 'plates' (crops) only, not {name!r}", EXIT_USAGE)
    if max_roll is not None and (name != "plate_scenes" or not 0.0 <= max_roll < 90.0):
        fail(f"--max-roll applies to kind 'plate_scenes' only, from 0 to under 90 degrees "
             f"(got kind {name!r}, {max_roll})", EXIT_USAGE)
    if out.exists() and not out.is_dir():
        fail(f"--out {out} exists and is not a folder", EXIT_USAGE)

    from synth.fonts import MissingFontError

    try:
        if name == "samples":
            from synth.samples import write_samples

            paths = write_samples(out, seed=seed, long_side=size or 1600)
            typer.echo(f"wrote {len(paths)} sample images under {out}")
            return
        from synth.kinds import renderer_factory
        from synth.runner import generate

        options = {} if size is None or name not in PAGE_KINDS else {"long_side": size}
        if text_scale is not None:
            options["text_scale"] = text_scale
        options.update(line_options)
        if scan_prob is not None:
            options["scan_prob"] = scan_prob
        if office_prob is not None:
            options["office_prob"] = office_prob
        if max_roll is not None:
            options["max_roll"] = max_roll
        if layouts is not None:
            options["layouts"] = [x.strip() for x in layouts.split(",") if x.strip()]
            from synth.plates import PlateDesigner

            known = PlateDesigner.LAYOUT_WEIGHTS
            unknown = sorted(set(options["layouts"]) - set(known))
            if unknown or not options["layouts"]:
                fail(f"--layouts: unknown plate layouts {', '.join(unknown) or '(none given)'};"
                     f" known: {', '.join(known)}", EXIT_USAGE)
        factory = renderer_factory(name, **options)
        t0 = time.perf_counter()
        summary = generate(factory, out, n, seed=seed, workers=workers, progress=progress)
        elapsed = time.perf_counter() - t0
    except MissingFontError as exc:
        fail(str(exc))
    rate = summary.written / max(elapsed, 1e-9)
    typer.echo(f"wrote {summary.written} {name} samples to {out} ({summary.labels_path.name}); "
               f"{summary.failed} failed; {rate:.1f} samples/s")
    if summary.written == 0:
        raise typer.Exit(1)
