"""``pipeline convert``: bring real data into the layouts the trainers read.

A thin layer over the library readers and writers:

* ``coco-to-yolo``: COCO / NTO pages → an ultralytics dataset folder
  (:mod:`detection.yolo_dataset`, :func:`detection.coco.load_coco`).
* ``page-tiles``: COCO page photos → upright pages (by their labelled page quad) cut into
  tiles at the scale the detector reads words (:mod:`detection.tiles`).
* ``zooms``: COCO photos → close-up windows around each object of a category (a plate across
  a third of the frame or more), for detectors that mostly saw objects small
  (:func:`detection.tiles.object_zooms`).
* ``yolo-to-coco``: a YOLO ``images/`` + ``labels/`` pair → COCO JSON.
* ``crops``: CCPD names, the plate-course ``meta_<region>_ref`` files, COCO word polygons or a
  manifest → a crops folder ``DIR/images/*.png`` + ``DIR/labels.tsv``
  (:func:`recognition.datasets.read_dataset`).
* ``recognizer-weights``: a training checkpoint → shipped weights (no optimizer state,
  float16 storage; :func:`recognition.checkpoint.export_checkpoint`).
* ``detector-weights``: a TRUSTED ultralytics ``.pt`` (a pickle: ``best.pt`` / ``last.pt``,
  ``yolov8n.pt``) → our YOLO weights, which load with ``torch.load(weights_only=True)``
  (:func:`detection.yolo.convert_ultralytics_checkpoint`). The only place a detector file
  named by the user is unpickled, once, on request.

Heavy imports stay inside the command bodies so ``pipeline --help`` stays fast.
"""

from __future__ import annotations

import json
import logging
import shutil
from enum import Enum
from pathlib import Path

import typer

from core.cli import EXIT_USAGE, fail

log = logging.getLogger(__name__)

convert_app = typer.Typer(
    help="Convert real data (COCO <-> YOLO, CCPD / plate course / COCO words -> crops) and "
         "weights files (training checkpoints, trusted ultralytics .pt) to shipped weights.",
    no_args_is_help=True,
)


class CropsKind(str, Enum):
    auto = "auto"
    ccpd = "ccpd"
    plate_course = "plate_course"
    coco = "coco"
    manifest = "manifest"
    crops = "crops"


class CropsFormat(str, Enum):
    png = "png"
    webp = "webp"
    bilevel = "bilevel"


def _encode_crop(crop, fmt: CropsFormat, height: int | None, quality: int):
    """``(suffix, image, cv2 write flags)`` of a crop (RGB ``uint8``) in ``fmt``."""
    import cv2

    from core.imaging import to_gray

    image = cv2.cvtColor(crop, cv2.COLOR_RGB2BGR) if fmt is CropsFormat.png else to_gray(crop)
    if height is not None and image.shape[0] != height:
        h, w = image.shape[:2]
        image = cv2.resize(image, (max(1, round(w * height / h)), height),
                           interpolation=cv2.INTER_AREA if h > height else cv2.INTER_LINEAR)
    if fmt is CropsFormat.webp:
        return ".webp", image, [cv2.IMWRITE_WEBP_QUALITY, quality]
    if fmt is CropsFormat.bilevel:
        flags = [cv2.IMWRITE_PNG_BILEVEL, 1, cv2.IMWRITE_PNG_COMPRESSION, 9]
        return ".png", (image >= 128).astype("uint8") * 255, flags
    return ".png", image, []


def _split_names(text: str | None) -> list[str]:
    return [c.strip() for c in text.split(",") if c.strip()] if text else []


def _coco_category_names(path: Path) -> list[str]:
    """Category names of a COCO file, ordered by category id."""
    data = json.loads(path.read_text(encoding="utf-8"))
    cats = sorted(data.get("categories") or [], key=lambda c: c.get("id", 0))
    return [str(c["name"]) for c in cats if "name" in c]


def _read_coco(annotations: Path, images: Path | None) -> tuple[list, list[str], Path]:
    """The records and category names of a COCO file and the folder its images are in
    (``images``, else ``images/`` beside the file, else the file's folder); exits with a
    clear message when the file is missing or broken."""
    from detection.coco import CocoFormatError, load_coco

    if not annotations.is_file():
        fail(f"annotations file not found: {annotations}", EXIT_USAGE)
    try:
        records = load_coco(annotations)
        names = _coco_category_names(annotations)
    except (CocoFormatError, json.JSONDecodeError, OSError) as exc:
        fail(str(exc))
    if images is None:
        images = annotations.parent / "images"
        if not images.is_dir():
            images = annotations.parent
    return records, names, images


def _tile_objects(record, skip_label: str | None = None) -> list:
    """A COCO record's objects as :class:`detection.tiles.TileObject` (box corners where an
    object has no polygon), leaving out ``skip_label``."""
    import numpy as np

    from core.geometry import box_polygon
    from detection.tiles import TileObject

    objects = []
    for o in record.objects:
        if o.label == skip_label:
            continue
        x, y, w, h = o.bbox
        poly = o.polygon if o.polygon is not None else box_polygon(x, y, x + w, y + h)
        objects.append(TileObject(o.label, np.asarray(poly, np.float64), dict(o.attributes)))
    return objects


def _write_view(out: Path, name: str, view, kept: list, quality: int) -> dict:
    """Save one cut-out view as ``out/images/name`` and return its record for
    :func:`synth.runner.write_coco`."""
    import cv2

    cv2.imwrite(str(out / "images" / name), view, [cv2.IMWRITE_JPEG_QUALITY, quality])
    return {"file": name, "width": view.shape[1], "height": view.shape[0],
            "annotations": [{"category": o.label, "polygon": o.polygon.tolist(),
                             "text": o.attributes.pop("translation", ""),
                             "attributes": o.attributes} for o in kept]}


def _replace_links_with_copies(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_symlink():
            target = path.resolve()
            path.unlink()
            shutil.copy2(target, path)


@convert_app.command("coco-to-yolo")
def coco_to_yolo(
    annotations: Path = typer.Argument(..., help="COCO annotations.json (NTO layout)."),
    images: Path | None = typer.Option(
        None, "--images", help="Folder that file_name is relative to "
        "(default: images/ next to the JSON, else the JSON's folder)."),
    out: Path = typer.Option(..., "--out", "-o", help="Output dataset folder."),
    classes: str | None = typer.Option(
        None, "--classes", help="Comma-separated class names in YOLO id order, e.g. word,line "
        "(default: every category of the file, by id)."),
    val_fraction: float = typer.Option(
        0.1, "--val-fraction", min=0.0, max=0.9,
        help="Share of images for images/val; 0 makes val the same images as train."),
    seed: int = typer.Option(0, help="Seed of the train / val split."),
    copy: bool = typer.Option(False, "--copy", help="Copy images instead of symlinking them."),
) -> None:
    """COCO / NTO pages → YOLO: OUT/images/{train,val}, OUT/labels/{train,val}/*.txt, data.yaml."""
    from core.logs import setup_logging

    setup_logging("INFO")
    from detection.split import stratified_split
    from detection.yolo_dataset import write_dataset_yaml, write_yolo_split

    records, names, images = _read_coco(annotations, images)
    names = _split_names(classes) or names
    if not names:
        fail(f"{annotations}: no categories; pass --classes", EXIT_USAGE)
    known = {o.label for im in records for o in im.objects}
    unused = [c for c in names if c not in known]
    if unused:
        log.warning("classes with no annotation in %s: %s", annotations, ", ".join(unused))
    if not images.is_dir():
        fail(f"--images folder not found: {images}", EXIT_USAGE)

    train, val = stratified_split(records, val_fraction, seed=seed) if val_fraction else (
        list(records), [])
    if not val:
        val = train
    out.mkdir(parents=True, exist_ok=True)
    n_train = write_yolo_split(train, images, out, "train", names)
    n_val = write_yolo_split(val, images, out, "val", names)
    if copy:
        _replace_links_with_copies(out / "images")
    if n_train == 0:
        fail(f"no image of {annotations} was found under {images}")
    yaml_path = write_dataset_yaml(out, names)
    typer.echo(f"wrote {n_train} train / {n_val} val images, classes {names} -> {yaml_path}")


@convert_app.command("page-tiles")
def page_tiles(
    annotations: Path = typer.Argument(..., help="COCO annotations.json of page photos."),
    out: Path = typer.Option(..., "--out", "-o", help="Output folder: images/ + annotations.json."),
    images: Path | None = typer.Option(
        None, "--images", help="Folder that file_name is relative to (default: images/ next "
        "to the JSON, else the JSON's folder)."),
    text_height: float = typer.Option(
        16.0, "--text-height", min=2.0, help="Median word height, in pixels, of a tile "
        "resized to --imgsz (the detector's text_height)."),
    imgsz: int = typer.Option(640, "--imgsz", min=32, help="Training view size."),
    overlap: float = typer.Option(0.2, "--overlap", min=0.0, max=0.9,
                                  help="Share of a tile its neighbour covers too."),
    page_label: str = typer.Option(
        "page", "--page-label", help="Category of the page quad: an image with one is warped "
        "upright first, as the documents pipeline reads it."),
    quality: int = typer.Option(92, "--quality", min=50, max=100, help="JPEG quality."),
    split_lines: str | None = typer.Option(
        None, "--split-lines", help="Category of labelled text lines to cut into `word` "
        "boxes at their ink gaps, one per word of the line's text, before tiling (real sets "
        "that box lines, e.g. SROIE); a line without enough gaps stays one box."),
) -> None:
    """COCO page photos → upright pages cut into tiles at the detector's text scale (COCO)."""
    from core.logs import setup_logging

    setup_logging("INFO")
    import cv2

    from detection.tiles import line_words, upright_page
    from detection.tiles import page_tiles as cut_tiles
    from synth.runner import write_coco

    records, names, images = _read_coco(annotations, images)
    categories = tuple(n for n in names if n != page_label)
    if split_lines:
        categories = tuple(dict.fromkeys("word" if n == split_lines else n for n in categories))
    unsplit = 0
    (out / "images").mkdir(parents=True, exist_ok=True)
    written, skipped = [], 0
    for record in records:
        bgr = cv2.imread(str(images / record.file_name), cv2.IMREAD_COLOR)
        if bgr is None:
            log.warning("%s: unreadable image, skipped", record.file_name)
            skipped += 1
            continue
        quads = [o.polygon for o in record.objects if o.label == page_label
                 and o.polygon is not None and len(o.polygon) >= 4]
        objects = _tile_objects(record, skip_label=page_label)
        if quads:
            bgr, objects = upright_page(bgr, objects, quads[0])
        if split_lines:
            cut = []
            for o in objects:
                words = line_words(bgr, o) if o.label == split_lines else [o]
                if words is None:
                    unsplit += 1
                    o.label = "word"
                    words = [o]
                cut += words
            objects = cut
        stem = Path(record.file_name).stem
        for k, (tile, kept, _) in enumerate(cut_tiles(bgr, objects, text_height, imgsz,
                                                      overlap)):
            if not kept:
                continue
            written.append(_write_view(out, f"{stem}_{k:02d}.jpg", tile, kept, quality))
    if not written:
        fail(f"no tile with a labelled object came out of {annotations}")
    write_coco(out / "annotations.json", written, categories)
    note = f", {unsplit} lines kept whole (too few ink gaps)" if split_lines else ""
    typer.echo(f"wrote {len(written)} tiles of {len(records) - skipped} images "
               f"({skipped} skipped{note}) -> {out / 'annotations.json'}")


@convert_app.command("zooms")
def zooms(
    annotations: Path = typer.Argument(..., help="COCO annotations.json of photos."),
    out: Path = typer.Option(..., "--out", "-o", help="Output folder: images/ + annotations.json."),
    images: Path | None = typer.Option(
        None, "--images", help="Folder that file_name is relative to (default: images/ next "
        "to the JSON, else the JSON's folder)."),
    label: str = typer.Option("plate", "--label", help="Category to zoom on."),
    min_width: float = typer.Option(0.3, "--min-width", min=0.01, max=1.0,
                                    help="Smallest share of the window width the object spans."),
    max_width: float = typer.Option(0.9, "--max-width", min=0.01, max=1.0,
                                    help="Largest share of the window width the object spans."),
    min_pixels: int = typer.Option(
        48, "--min-pixels", min=1, help="Objects narrower than this (pixels) get no close-up: "
        "their window would be a blurred upscale, not a close-up photo."),
    per_object: int = typer.Option(1, "--per-object", min=1, help="Windows per object."),
    seed: int = typer.Option(0, "--seed", help="Seed of the window draws."),
    quality: int = typer.Option(92, "--quality", min=50, max=100, help="JPEG quality."),
) -> None:
    """COCO photos → close-up windows around each LABEL object (COCO)."""
    from core.logs import setup_logging

    setup_logging("INFO")
    import cv2
    import numpy as np

    from detection.tiles import object_zooms, zoom_targets
    from synth.runner import write_coco

    if min_width > max_width:
        fail(f"--min-width {min_width} is above --max-width {max_width}", EXIT_USAGE)
    records, names, images = _read_coco(annotations, images)
    if label not in names:
        fail(f"--label {label!r} is not a category of {annotations} ({names})", EXIT_USAGE)
    rng = np.random.default_rng(seed)
    (out / "images").mkdir(parents=True, exist_ok=True)
    written, skipped = [], 0
    for record in records:
        objects = _tile_objects(record)
        if not zoom_targets(objects, label, min_pixels):
            continue  # nothing to zoom on: the image is not read
        bgr = cv2.imread(str(images / record.file_name), cv2.IMREAD_COLOR)
        if bgr is None:
            log.warning("%s: unreadable image, skipped", record.file_name)
            skipped += 1
            continue
        stem = Path(record.file_name).stem
        views = object_zooms(bgr, objects, label, (min_width, max_width), rng, per_object,
                             min_pixels=min_pixels)
        written.extend(_write_view(out, f"{stem}_z{k:02d}.jpg", view, kept, quality)
                       for k, (view, kept, _) in enumerate(views))
    if not written:
        fail(f"no {label!r} object of {annotations} is {min_pixels} pixels wide or more")
    write_coco(out / "annotations.json", written, tuple(names))
    typer.echo(f"wrote {len(written)} close-ups of {len(records) - skipped} images "
               f"({skipped} skipped) -> {out / 'annotations.json'}")


@convert_app.command("yolo-to-coco")
def yolo_to_coco(
    images_dir: Path = typer.Argument(..., help="Folder of images."),
    labels_dir: Path = typer.Argument(..., help="Folder of YOLO <image stem>.txt label files."),
    classes: str = typer.Option(..., "--classes", help="Comma-separated class names in YOLO id "
                                "order, e.g. word,line."),
    out: Path = typer.Option(..., "--out", "-o", help="Output annotations.json."),
) -> None:
    """YOLO images + labels → COCO JSON (boxes only; file_name relative to IMAGES_DIR)."""
    from detection.yolo_dataset import yolo_dir_to_coco, yolo_labels_to_coco

    names = _split_names(classes)
    if not names:
        fail("--classes needs at least one name", EXIT_USAGE)
    for folder, what in ((images_dir, "IMAGES_DIR"), (labels_dir, "LABELS_DIR")):
        if not folder.is_dir():
            fail(f"{what} not found: {folder}", EXIT_USAGE)
    try:
        data = yolo_dir_to_coco(images_dir, labels_dir, names)
    except (ValueError, IndexError, OSError) as exc:
        # Name the offending label file: the library reports only the line.
        for label in sorted(labels_dir.glob("*.txt")):
            try:
                yolo_labels_to_coco(label.read_text().splitlines(), 1, 1, names)
            except (ValueError, IndexError) as bad:
                fail(f"{label}: {bad or 'class id out of range for --classes'}")
        fail(f"{images_dir}: {exc}")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    typer.echo(f"wrote {len(data['images'])} images, {len(data['annotations'])} boxes -> {out}")


@convert_app.command("crops")
def crops(
    data: Path = typer.Argument(..., help="Dataset folder (or COCO json)."),
    out: Path = typer.Option(..., "--out", "-o", help="Output crops folder."),
    kind: CropsKind = typer.Option(CropsKind.auto, "--kind", help="Input layout."),
    phase: str | None = typer.Option(None, "--phase", help="plate_course only: train / test "
                                     "(default: every phase)."),
    categories: str | None = typer.Option(None, "--categories", help="coco only: comma-"
                                          "separated categories (default: all but line)."),
    region_field: str | None = typer.Option(
        None, "--region-field", help="manifest only: entry field holding the region, e.g. "
        "state (default: region)."),
    charset: str = typer.Option("default", "--charset", help="Samples with other characters "
                                "are skipped ('default' = the recognizer's alphabet)."),
    limit: int | None = typer.Option(None, "--limit", min=1, help="Keep the first N samples."),
    image_format: CropsFormat = typer.Option(
        CropsFormat.png, "--format", help="png: the crop as it is; webp: gray and lossy "
        "(--quality; ~2-5 KB a 40-row line); bilevel: 1-bit PNG thresholded at mid-gray "
        "(~1.4 KB a binarized printed line). The small ones carry synthetic lines to a "
        "machine that has no fonts to render them."),
    height: int | None = typer.Option(None, "--height", min=8, help="Scale every crop to "
                                      "this many rows, aspect kept (default: as cut)."),
    quality: int = typer.Option(85, "--quality", min=1, max=100, help="webp quality."),
    box_pad: float | None = typer.Option(
        None, "--box-pad", min=0.0, max=1.0, help="Cut each object's axis-aligned box "
        "instead of its polygon, grown by this fraction of its size on every side, as the "
        "pipeline cuts a detector's box (crops.pad): training crops like the ones a preset "
        "reads (plates: 0.1)."),
    box_jitter: float = typer.Option(
        0.0, "--box-jitter", min=0.0, max=0.5, help="With --box-pad: each side of the box "
        "first moves by a random error of up to this fraction of the box's size, as a "
        "detector's box misses the object's (seeded by --seed)."),
    seed: int = typer.Option(0, "--seed", help="Random seed of --box-jitter."),
    min_height: int = typer.Option(
        0, "--min-height", min=0, help="With --box-pad: skip objects under this many pixels "
        "high (a plate a few pixels high in a street photo shows no readable text)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing OUT."),
) -> None:
    """Labelled data → OUT/images/* + OUT/labels.tsv (file<TAB>text[<TAB>region]).

    CCPD plates are cut by the name's bbox, COCO words by their polygon (outside white).
    Bad samples are logged with their file name and skipped. A crops folder rewritten with
    ``--format webp --height 40`` or ``--format bilevel`` is ~15-40 times smaller.
    """
    from core.logs import setup_logging

    setup_logging("INFO")
    import cv2

    from recognition.datasets import UnreadableImage, load_sample, read_dataset

    if not data.exists():
        fail(f"dataset not found: {data}", EXIT_USAGE)
    if (out / "labels.tsv").exists() and not overwrite:
        fail(f"{out / 'labels.tsv'} exists; pass --overwrite to replace it", EXIT_USAGE)
    try:
        samples = read_dataset(data, kind=kind.value, charset=charset, phase=phase,
                               region_field=region_field,
                               categories=_split_names(categories) or None, limit=limit)
    except (ValueError, OSError) as exc:
        fail(str(exc))
    if out.exists() and overwrite:
        shutil.rmtree(out / "images", ignore_errors=True)
    (out / "images").mkdir(parents=True, exist_ok=True)
    import numpy as np

    lines, skipped = [], 0
    rng = np.random.default_rng(seed)
    for sample in samples:
        if box_pad is not None:
            sample = detector_box_sample(sample, box_pad, box_jitter, rng, min_height)
            if sample is None:  # too small to read
                skipped += 1
                continue
        if any(c in sample.text for c in "\t\r\n"):
            skipped += 1
            log.warning("skipping %s: label %r holds a tab or newline", sample.path, sample.text)
            continue
        try:
            crop = load_sample(sample)
        except UnreadableImage as exc:
            skipped += 1
            log.warning("skipping %s", exc)
            continue
        suffix, image, flags = _encode_crop(crop, image_format, height, quality)
        name = f"images/{len(lines) + 1:06d}{suffix}"
        if not cv2.imwrite(str(out / name), image, flags):
            fail(f"cannot write {out / name}")
        lines.append("\t".join([name, sample.text] + ([sample.region] if sample.region else [])))
    if not lines:
        fail(f"{data}: no sample could be cropped")
    (out / "labels.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    msg = f"wrote {len(lines)} crops -> {out / 'labels.tsv'}"
    typer.echo(msg + (f" ({skipped} skipped, see the log)" if skipped else ""))


def detector_box_sample(sample, pad: float, jitter: float, rng, min_height: float = 0.0):
    """``sample`` (a ``TextSample`` with a polygon or box) cut by its axis-aligned box instead:
    each side moved by up to ``jitter`` of the box's size (uniform, ``rng``), then grown by
    ``pad`` of its size on every side, as :func:`pipeline.steps.grown` grows a detector's
    box (clipped to the image when the crop is cut). ``None`` when the box, after its error,
    is under ``min_height`` pixels high."""
    from dataclasses import replace

    import numpy as np

    from core.geometry import bbox_of

    if sample.polygon is not None:
        x1, y1, x2, y2 = bbox_of(np.asarray(sample.polygon, dtype=np.float64))
    elif sample.bbox is not None:
        x1, y1, x2, y2 = (float(v) for v in sample.bbox)
    else:
        return sample  # the whole image is the object
    w, h = x2 - x1, y2 - y1
    if jitter > 0:
        dx1, dx2, dy1, dy2 = rng.uniform(-jitter, jitter, 4)
        x1, x2, y1, y2 = x1 + dx1 * w, x2 + dx2 * w, y1 + dy1 * h, y2 + dy2 * h
        w, h = max(x2 - x1, 1.0), max(y2 - y1, 1.0)
    if h < min_height:
        return None
    box = (int(np.floor(max(0.0, x1 - pad * w))), int(np.floor(max(0.0, y1 - pad * h))),
           int(np.ceil(x2 + pad * w)), int(np.ceil(y2 + pad * h)))
    return replace(sample, polygon=None, bbox=box)


@convert_app.command("recognizer-weights")
def recognizer_weights(
    src: Path = typer.Argument(..., help="Recognizer checkpoint (a run's best.pt)."),
    out: Path = typer.Option(..., "--out", "-o", help="Shipped weights file to write."),
    half: bool = typer.Option(True, "--half/--full", help="Store float tensors as float16."),
    arch: str | None = typer.Option(
        None, "--arch", help="Write it as this architecture: ctc_transformer drops a joint "
        "reader's decoder (unused when the preset reads with merge: ctc)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing OUT."),
) -> None:
    """A training checkpoint -> shipped recognizer weights (what data/models/ holds)."""
    from recognition.checkpoint import export_checkpoint

    if out.exists() and not overwrite:
        fail(f"{out} exists; pass --overwrite to replace it", EXIT_USAGE)
    try:
        export_checkpoint(src, out, half=half, arch=arch)
    except (FileNotFoundError, ValueError) as exc:
        fail(str(exc))
    mb_in, mb_out = src.stat().st_size / 2**20, out.stat().st_size / 2**20
    typer.echo(f"wrote {out} ({mb_out:.1f} MB, from {mb_in:.1f} MB)")


@convert_app.command("average-recognizers")
def average_recognizers(
    first: Path = typer.Argument(..., help="A recognizer checkpoint (e.g. the shipped one)."),
    second: Path = typer.Argument(..., help="A checkpoint of the same model (its fine-tune)."),
    out: Path = typer.Option(..., "--out", "-o", help="Averaged checkpoint to write."),
    weight: float = typer.Option(0.5, "--weight", min=0.0, max=1.0,
                                 help="Share of SECOND in every float tensor."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing OUT."),
) -> None:
    """Two checkpoints of one model -> their weight average (a fine-tune and its start)."""
    from recognition.checkpoint import average_checkpoints

    if out.exists() and not overwrite:
        fail(f"{out} exists; pass --overwrite to replace it", EXIT_USAGE)
    try:
        average_checkpoints(first, second, out, weight)
    except (FileNotFoundError, ValueError) as exc:
        fail(str(exc))
    typer.echo(f"wrote {out} ({1 - weight:g} x {first} + {weight:g} x {second})")


@convert_app.command("detector-weights")
def detector_weights(
    src: Path = typer.Argument(..., help="ultralytics checkpoint (best.pt / last.pt from "
                               "training, or an official yolov8n.pt). TRUSTED FILES ONLY."),
    out: Path = typer.Option(..., "--out", "-o", help="Detector weights file to write "
                             "(what detector.weights names)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing OUT."),
) -> None:
    """A TRUSTED ultralytics .pt -> detector weights that load safely.

    WARNING: an ultralytics checkpoint is a Python pickle, and reading it
    EXECUTES CODE stored in the file. Use this only on files you trust (your
    own training run, the official ultralytics release). It unpickles SRC
    once and writes OUT as plain tensors, the model's YAML and class names;
    pipeline run and training load OUT with torch.load(weights_only=True)
    and never unpickle anything.
    """
    from core.logs import setup_logging

    setup_logging("INFO")
    from detection.yolo import CHECKPOINT_FORMAT, convert_ultralytics_checkpoint, load_yolo_weights

    if not src.is_file():
        fail(f"detector checkpoint not found: {src}", EXIT_USAGE)
    if out.exists() and not overwrite:
        fail(f"{out} exists; pass --overwrite to replace it", EXIT_USAGE)
    try:
        load_yolo_weights(src)
    except ValueError:
        pass  # not ours yet: what this command is for
    else:
        fail(f"{src} is already a {CHECKPOINT_FORMAT} file that loads safely; nothing to "
             "convert: point detector.weights at it", EXIT_USAGE)
    log.warning("unpickling %s: this runs code stored in the file; only convert files you "
                "trust", src)
    try:
        _, classes = convert_ultralytics_checkpoint(src, out)
    except Exception as exc:  # noqa: BLE001 - any unpickling failure: name the file
        fail(f"cannot convert {src}: {type(exc).__name__}: {exc}")
    mb_in, mb_out = src.stat().st_size / 2**20, out.stat().st_size / 2**20
    typer.echo(f"wrote {out} ({mb_out:.1f} MB, from {mb_in:.1f} MB), classes {classes}; "
               f"set detector.weights={out} and detector.classes to match")
