"""Reading-order variants scored on whole pages, without reading them again.

The ``documents`` pipeline reads each page once; the words it hands to its assembler (text,
polygons in the rectified, upright page) are cached under ``runs/bench/order_cache``. Each
variant then re-assembles the cached words with ``assembler.layout`` keys changed and is
scored by page CER (Levenshtein distance over the ground-truth length, whitespace collapsed,
pooled over the set), so an order rule is chosen on tune pages in seconds, and a detector or
reader change needs ``--refresh``.

``--set KEY=VALUE --tag NAME`` reads the pages with preset overrides (another detector or
reader) into their own cache, to compare models the same way; ``--peers`` adds Tesseract and
RapidOCR's page CER on the same pages.

Sets: ``receipts`` (data/synth/receipts_<part>, `pipeline synth receipts`), ``printed_pages``
(../shared/data/docs_printed_pages), and any COCO folder of page photos given with
``--coco NAME=FOLDER`` (annotations.json with ``line`` texts in reading order).

    .venv/bin/python bench/bench_reading_order.py --part tune \\
        --variant base= --variant rows=layout.table_rows=6
"""

from __future__ import annotations

import argparse
import functools
import pickle
import sys
from collections.abc import Iterable
from pathlib import Path

from rapidfuzz.distance import Levenshtein

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_accuracy import load_coco_pages, load_coco_part, text_norm, upper_norm  # noqa: E402
from realdata import Sample, load_set  # noqa: E402

CACHE = ROOT / "runs" / "bench" / "order_cache"


def samples_of(name: str, part: str, coco: dict[str, Path], limit: int) -> list[Sample]:
    if name in coco:
        found = load_coco_pages(coco[name])
    elif name == "receipts":
        found = load_coco_part("receipts", part) or []
    elif name == "printed_pages":
        found = load_set("docs_printed_pages", part)
    else:
        raise SystemExit(f"unknown set {name!r}: receipts, printed_pages or a --coco name")
    return found[:limit] if limit else found


@functools.cache
def documents_pipeline(overrides: tuple[str, ...]):
    """One documents pipeline per set of overrides, loaded once for every set read."""
    from pipeline.ocr import OcrPipeline

    return OcrPipeline.from_preset("documents", device="cpu", overrides=list(overrides))


def cached_words(name: str, part: str, samples: list[Sample], refresh: bool,
                 overrides: list[str] = (), tag: str = "") -> list:
    """The assembler's input words of each sample, read once and cached (``tag`` names the
    cache of a run with pipeline ``overrides``)."""
    path = CACHE / f"{name}_{part}_{len(samples)}{'_' + tag if tag else ''}.pkl"
    if path.is_file() and not refresh:
        with path.open("rb") as f:  # written by this script below: a local cache
            return pickle.load(f)
    pipe = documents_pipeline(tuple(overrides))
    seen: list = []
    inner = pipe.assembler.assemble

    def capture(words):
        seen.append(list(words))
        return inner(words)

    pipe.assembler.assemble = capture
    out = []
    try:
        for s in samples:
            seen.clear()
            pipe.run([s.path])
            out.append(seen[-1] if seen else [])
            print(f"  read {s.path.name}: {len(out[-1])} words", flush=True)
    finally:
        pipe.assembler.assemble = inner
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as f:
        pickle.dump(out, f)
    return out


def assembler_for(overrides: list[str]):
    from pipeline.assembler import Assembler
    from pipeline.presets import load_pipeline_config

    config = load_pipeline_config("documents", overrides=overrides)
    return Assembler(config.assembler)


def page_cer(texts: Iterable[str], samples: list[Sample], norm=text_norm) -> float:
    """Levenshtein distance over the truth's length, whitespace collapsed (``norm``), pooled."""
    edits = chars = 0
    for text, s in zip(texts, samples, strict=True):
        gt = norm(s.text)
        edits += Levenshtein.distance(norm(text), gt)
        chars += len(gt)
    return edits / max(chars, 1)


def score(assembler, words_per_page: list, samples: list[Sample], norm=text_norm) -> float:
    return page_cer(("\n".join(line.text for line in assembler.assemble(words))
                     for words in words_per_page), samples, norm)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--part", default="tune")
    ap.add_argument("--sets", nargs="*", default=["receipts", "printed_pages"])
    ap.add_argument("--coco", action="append", default=[], metavar="NAME=FOLDER")
    ap.add_argument("--limit", type=int, default=0, help="pages per set (0: all)")
    ap.add_argument("--variant", action="append", default=[], metavar="NAME=KEY=VALUE[,..]",
                    help="assembler overrides of the documents preset ('base=' for none); "
                         "keys under assembler., e.g. layout.gutter_gap=0.6")
    ap.add_argument("--refresh", action="store_true", help="read the pages again")
    ap.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                    help="documents preset overrides for reading the pages (e.g. "
                         "detector.weights=...); needs --tag, which names their cache")
    ap.add_argument("--tag", default="", help="cache name of the --set run")
    ap.add_argument("--upper", nargs="*", default=[], metavar="NAME",
                    help="sets compared in upper case (ground truth in capitals whatever the "
                         "print, e.g. SROIE receipts)")
    ap.add_argument("--peers", action="store_true",
                    help="also read the pages with Tesseract and RapidOCR (same CER)")
    args = ap.parse_args()
    if args.overrides and not args.tag:
        ap.error("--set needs --tag (the cache of that run)")
    coco = dict((k, Path(v)) for k, _, v in (c.partition("=") for c in args.coco))
    variants = args.variant or ["base="]
    sets = [*args.sets, *coco]
    data = {}
    for name in sets:
        samples = samples_of(name, args.part, coco, args.limit)
        data[name] = (samples, cached_words(name, args.part, samples, args.refresh,
                                            args.overrides, args.tag))
    norms = {n: upper_norm if n in args.upper else text_norm for n in sets}
    print("| variant | " + " | ".join(f"{n} ({len(data[n][0])})" for n in sets) + " |")
    print("|---|" + "---|" * len(sets))
    for spec in variants:
        label, _, rest = spec.partition("=")
        overrides = [f"assembler.{kv}" for kv in rest.split(",") if kv]
        assembler = assembler_for(overrides)
        cers = [score(assembler, data[n][1], data[n][0], norms[n]) for n in sets]
        print(f"| {label} | " + " | ".join(f"{c:.3f}" for c in cers) + " |", flush=True)
    if args.peers:
        from peers import RapidOcr, Tesseract

        for peer in (Tesseract(), RapidOcr()):
            cers = [peer_cer(peer, data[n][0], norms[n]) for n in sets]
            print(f"| {peer.version()} | " + " | ".join(f"{c:.3f}" for c in cers) + " |",
                  flush=True)


def peer_cer(peer, samples: list[Sample], norm=text_norm) -> float:
    return page_cer((peer.read(s.path, "page") for s in samples), samples, norm)


if __name__ == "__main__":
    main()
