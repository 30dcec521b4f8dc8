"""``prepare``: one catalogued dataset → split folders the trainers read.

Steps: open the pinned commit (:class:`GitSource`) → the converter lists crops or pages →
for each image: split by its group key, copy its bytes, decode it (bad images are skipped and
counted), drop it if reserved → write ``labels.tsv`` / ``annotations.json`` per split and the
report ``prepared.json``.

Re-running skips finished work: each image's outcome is appended to ``OUT/.journal.tsv`` as
it is done, so an interrupted run resumes where it stopped, and a finished run (its
``prepared.json`` carries the same fingerprint) returns at once. The fingerprint covers the
catalogue entry, the output format and the reserved list; when it changes, ``OUT`` is
prepared again from scratch.

An ``evaluation_only`` entry (a set the rules forbid training on, e.g. every SROIE mirror)
gets its tune and test parts exactly as any other set (same split rule, same files) and no
train part: the images whose split is ``train`` are not read or written, only counted
(``train_not_written``), and a train part left in ``OUT`` by an earlier run is removed.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import shutil
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image

from dataprep.catalogue import DatasetEntry
from dataprep.converters import CONVERTERS, Crop, Item, Page
from dataprep.errors import DataError
from dataprep.gitsource import GitSource, MissingBlob
from dataprep.split import SPLITS, split_of
from dataprep.writers import categories_of, output_name, write_coco, write_labels

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
REPORT = "prepared.json"
JOURNAL = ".journal.tsv"

ReservedCheck = Callable[[Path], bool]


@dataclass
class PrepareReport:
    """What ``prepare`` did; saved as ``OUT/prepared.json``.

    Attributes:
        images: distinct source images the converter named.
        written: images copied into the splits.
        bad_images: images that did not decode (skipped), by source path.
        reserved_dropped: images dropped because they are reserved for evaluation.
        missing_blobs: images whose content the (partial) clone lacks; only with
            ``allow_partial``, and such a report is never taken as finished.
        skipped_labels: labels left out on purpose, by reason.
        samples: crops (``labels.tsv`` rows) or pages per split.
        annotations: COCO annotations per split (pages only).
        evaluation_only: the entry is benchmark only: no train part was written.
        train_not_written: images of the train split not written because of that.
        stale_train_removed: this run removed a train part an earlier run had left in OUT.
    """

    name: str
    repo: str
    commit: str
    licence: str
    kind: str
    output: str
    fingerprint: str
    reserved_check: str
    images: int = 0
    written: int = 0
    bad_images: list[str] = field(default_factory=list)
    reserved_dropped: int = 0
    missing_blobs: list[str] = field(default_factory=list)
    skipped_labels: dict[str, int] = field(default_factory=dict)
    samples: dict[str, int] = field(default_factory=dict)
    annotations: dict[str, int] = field(default_factory=dict)
    split_rule: str = "sha1(group key) % 100: <80 train, <90 tune, else test"
    resumed: int = 0
    already_done: bool = False
    evaluation_only: bool = False
    train_not_written: int = 0
    stale_train_removed: bool = False

    def export(self) -> dict[str, Any]:
        return asdict(self)


def fingerprint(entry: DatasetEntry, reserved_fingerprint: str) -> str:
    """Changes whenever the output could: entry, output format or reserved list.

    ``evaluation_only`` counts only when set, so the sets without it keep the fingerprints
    they had before the field existed (and are not prepared again).
    """
    dumped = entry.model_dump()
    if not dumped["evaluation_only"]:
        del dumped["evaluation_only"]
    blob = json.dumps([dumped, FORMAT_VERSION, reserved_fingerprint],
                      sort_keys=True, ensure_ascii=False)
    return hashlib.sha1(blob.encode("utf-8")).hexdigest()


class Journal:
    """``OUT/.journal.tsv``: one line per finished image, ``source<TAB>status<TAB>split<TAB>
    name<TAB>width<TAB>height``; the first line is ``# <fingerprint>``."""

    def __init__(self, path: Path, fp: str):
        self.path = path
        self.done: dict[str, tuple[str, str, str, int, int]] = {}
        if path.is_file():
            lines = path.read_text(encoding="utf-8").splitlines()
            for line in lines[1:]:
                parts = line.split("\t")
                if len(parts) == 6:  # a line cut by an interruption is redone
                    self.done[parts[0]] = (parts[1], parts[2], parts[3], int(parts[4]),
                                           int(parts[5]))
        else:
            path.write_text(f"# {fp}\n", encoding="utf-8")
        self._file = path.open("a", encoding="utf-8")

    def record(self, source: str, status: str, split: str, name: str, width: int = 0,
               height: int = 0) -> None:
        self.done[source] = (status, split, name, width, height)
        self._file.write(f"{source}\t{status}\t{split}\t{name}\t{width}\t{height}\n")
        self._file.flush()

    def close(self) -> None:
        self._file.close()


def _journal_fingerprint(path: Path) -> str | None:
    if not path.is_file():
        return None
    with path.open(encoding="utf-8") as f:
        first = f.readline().strip()
    return first[2:] if first.startswith("# ") else None


def _claim_out(out: Path, fp: str) -> PrepareReport | None:
    """Make ``out`` ready; return the saved report when it is already prepared as asked."""
    report_path, journal_path = out / REPORT, out / JOURNAL
    if report_path.is_file():
        saved = json.loads(report_path.read_text(encoding="utf-8"))
        if saved.get("fingerprint") == fp and not saved.get("missing_blobs"):
            return PrepareReport(**{**saved, "already_done": True})
    ours = report_path.is_file() or journal_path.is_file()
    if ours and _journal_fingerprint(journal_path) != fp:
        log.warning("%s was prepared from a different catalogue entry or reserved list: "
                    "preparing it again", out)
        for split in SPLITS:
            shutil.rmtree(out / split, ignore_errors=True)
        report_path.unlink(missing_ok=True)
        journal_path.unlink(missing_ok=True)
    elif not ours and out.exists() and any(out.iterdir()):
        raise DataError(str(out), "output folder is not empty and holds no prepared set; "
                        "choose an empty or new folder")
    out.mkdir(parents=True, exist_ok=True)
    return None


def _written_splits(entry: DatasetEntry) -> tuple[str, ...]:
    """The parts ``prepare`` writes: all, or tune and test for an evaluation-only set."""
    return tuple(s for s in SPLITS if not (entry.evaluation_only and s == "train"))


def _remove_stale_train(out: Path) -> bool:
    """Remove the train part an earlier run left in a prepared ``out`` of an evaluation-only
    set (it must never be trained on); True when there was one. A folder that holds no
    prepared set is left alone (``_claim_out`` refuses it)."""
    train = out / "train"
    prepared = (out / REPORT).is_file() or (out / JOURNAL).is_file()
    if not (prepared and train.exists()):
        return False
    log.warning("%s: evaluation-only set (never trained on): removing the train part an "
                "earlier run left in %s", out.name, train)
    if train.is_dir() and not train.is_symlink():
        shutil.rmtree(train)
    else:
        train.unlink()
    return True


def _decode_size(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as im:
        im.load()  # decodes every pixel: truncated or corrupt files fail here
        return im.size


def prepare(entry: DatasetEntry, source: GitSource, out: Path,
            reserved: ReservedCheck | None, reserved_fingerprint: str = "unchecked",
            progress: bool = True, allow_partial: bool = False) -> PrepareReport:
    """Prepare ``entry`` from ``source`` into ``out``.

    Args:
        entry: the catalogue entry.
        source: its repository at the pinned commit.
        out: output folder (created; a folder holding something else is refused).
        reserved: returns True for a reserved image file; ``None`` skips the check (only on
            the user's explicit request).
        reserved_fingerprint: identifies the reserved list (part of the fingerprint).
        progress: show a tqdm progress bar.
        allow_partial: skip and count images whose blob a partial clone lacks (retried on
            the next run) instead of stopping.

    Returns:
        The report, also saved as ``out/prepared.json``.

    Raises:
        DataError: wrong commit, missing files or malformed labels (names the file and line).
    """
    from tqdm import tqdm

    fp = fingerprint(entry, reserved_fingerprint)
    stale_train = entry.evaluation_only and _remove_stale_train(out)
    done = _claim_out(out, fp)
    if done is not None:
        done.stale_train_removed = stale_train
        return done
    converter = CONVERTERS[entry.converter]
    options = entry.converter_options(f"configs/data/{entry.name}.yaml")
    skipped: Counter[str] = Counter()
    items: list[Item] = list(converter.items(source, options, skipped))
    report = PrepareReport(entry.name, entry.repo, entry.commit, entry.licence, entry.kind,
                           converter.output, fp, reserved_fingerprint,
                           evaluation_only=entry.evaluation_only,
                           stale_train_removed=stale_train)
    journal = Journal(out / JOURNAL, fp)
    splits = _written_splits(entry)
    for split in splits:
        (out / split / "images").mkdir(parents=True, exist_ok=True)
    kept: dict[str, list[tuple[Item, str, int, int]]] = {s: [] for s in SPLITS}
    seen: set[str] = set()
    try:
        for item in tqdm(items, desc=entry.name, unit="img", disable=not progress,
                         dynamic_ncols=True):
            if item.image in seen:
                skipped["duplicate label of an image"] += 1
                continue
            seen.add(item.image)
            split = split_of(item.group)
            if split not in splits:  # evaluation only: the train part is never read or written
                report.train_not_written += 1
                continue
            if item.image in journal.done:
                report.resumed += 1
                status, split, name, width, height = journal.done[item.image]
            else:
                name = output_name(item.image)
                try:
                    status, width, height = _copy_image(source, item.image,
                                                        out / split / "images" / name, reserved)
                except MissingBlob:
                    if not allow_partial:
                        raise
                    report.missing_blobs.append(item.image)
                    continue
                journal.record(item.image, status, split, name, width, height)
            if status == "ok":
                kept[split].append((item, name, width, height))
            elif status == "reserved":
                report.reserved_dropped += 1
            else:
                report.bad_images.append(item.image)
    finally:
        journal.close()
    report.images = len(seen)
    report.written = sum(len(v) for v in kept.values())
    report.skipped_labels = dict(skipped)
    categories = categories_of([i for i in items if isinstance(i, Page)]) or ["line"]
    for split in splits:
        folder = out / split
        report.samples[split] = len(kept[split])
        if converter.output == "crops":
            write_labels(folder, [(i, n) for i, n, _, _ in kept[split] if isinstance(i, Crop)])
        else:
            report.annotations[split] = write_coco(
                folder, [(i, n, w, h) for i, n, w, h in kept[split] if isinstance(i, Page)],
                categories)
    if report.images != entry.images:
        log.warning("%s: catalogue expects %d images, the source named %d", entry.name,
                    entry.images, report.images)
    tmp = out / (REPORT + ".tmp")
    tmp.write_text(json.dumps(report.export(), indent=1, ensure_ascii=False), encoding="utf-8")
    tmp.replace(out / REPORT)
    return report


def _copy_image(source: GitSource, path: str, dest: Path, reserved: ReservedCheck | None
                ) -> tuple[str, int, int]:
    """Copy one image; ``(status, width, height)`` with status ``ok``, ``bad`` or
    ``reserved``. Only ``ok`` leaves a file at ``dest``."""
    data = source.read(path)
    try:
        width, height = _decode_size(data)
    except Exception as exc:  # noqa: BLE001 - any decoder failure: skip and count
        log.warning("skipping unreadable image %s: %s", path, exc)
        return "bad", 0, 0
    part = dest.with_name(dest.name + ".part")
    part.write_bytes(data)
    if reserved is not None and reserved(part):
        part.unlink()
        dest.unlink(missing_ok=True)
        return "reserved", width, height
    part.replace(dest)
    return "ok", width, height
