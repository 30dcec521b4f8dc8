"""``pipeline data``: the catalogue of public datasets, and preparing one for the trainers.

A thin layer over :mod:`dataprep`: ``list`` shows ``configs/data/*.yaml``, ``prepare`` reads
one dataset at its pinned commit and writes ``OUT/{train,tune,test}/`` (``labels.tsv`` crop
folders or COCO ``annotations.json`` pages) plus ``OUT/prepared.json``. An
``evaluation_only`` set (benchmark only, e.g. every SROIE mirror) gets no ``train`` part.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import typer

from core.cli import EXIT_USAGE, fail

log = logging.getLogger(__name__)

data_app = typer.Typer(
    help="Real training data: list the dataset catalogue, prepare a dataset for the trainers.",
    no_args_is_help=True,
)

CATALOGUE_HELP = "Catalogue folder (default: configs/data of the project)."


def _catalogue(folder: Path | None):
    from core.config import ConfigError
    from dataprep.catalogue import CATALOGUE_DIR, load_catalogue

    try:
        return load_catalogue(folder or CATALOGUE_DIR)
    except ConfigError as exc:
        fail(str(exc), EXIT_USAGE)


@data_app.command("list")
def list_datasets(
    as_json: bool = typer.Option(False, "--json", help="Print the catalogue as JSON."),
    catalogue: Path | None = typer.Option(None, "--catalogue", help=CATALOGUE_HELP),
) -> None:
    """The catalogue: name, repository, pinned commit, licence, kind, image count and whether
    the set is evaluation only (benchmark only, never trained on)."""
    entries = _catalogue(catalogue)
    if as_json:
        typer.echo(json.dumps([e.summary() for e in entries.values()], indent=1,
                              ensure_ascii=False))
        return
    rows = [("name", "repo", "commit", "kind", "images", "eval only", "licence")]
    rows += [(e.name, e.repo, e.commit[:12], e.kind, str(e.images),
              "yes" if e.evaluation_only else "no", e.licence) for e in entries.values()]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        typer.echo("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=False)) + "  "
                   + row[-1])


@data_app.command("prepare")
def prepare_dataset(
    name: str = typer.Argument(..., help="Catalogue name (see `pipeline data list`)."),
    out: Path | None = typer.Option(
        None, "--out", "-o", help="Output folder (default: data/real/NAME)."),
    source: Path | None = typer.Option(
        None, "--source", help="Local clone or bare git directory of the dataset's repository; "
        "read through git at the pinned commit, no checkout needed. Without it the public "
        "repository is cloned (needs internet; not possible offline)."),
    clone_dir: Path | None = typer.Option(
        None, "--clone-dir", help="Where to clone without --source "
        "(default: <cache>/datasets/<owner>+<name>.git)."),
    reserved_list: Path | None = typer.Option(
        None, "--reserved-list", help="TSV of images reserved for held-out evaluation "
        "(default: reserved_images.tsv beside ../shared/tools/reserved.py)."),
    reserved_tool: Path | None = typer.Option(
        None, "--reserved-tool", help="The reserved-images tool "
        "(default: ../shared/tools/reserved.py beside the project)."),
    no_reserved_check: bool = typer.Option(
        False, "--no-reserved-check", help="Do not drop reserved images. Only for data you "
        "know holds none of them: evaluation numbers are worthless after training on them."),
    allow_partial: bool = typer.Option(
        False, "--allow-partial", help="Skip and count images whose content a partial clone "
        "lacks (retried on the next run) instead of exiting 2."),
    catalogue: Path | None = typer.Option(None, "--catalogue", help=CATALOGUE_HELP),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Progress bar."),
) -> None:
    """Prepare one dataset: train / tune / test folders in the layouts the trainers read.

    Images are split by a stable hash of their writer, car or video sequence when the source
    tells them apart, else of their path. Reserved images are dropped and counted, bad images
    skipped and counted. An evaluation-only set (benchmark only) gets its tune and test parts
    and no train part; a train part an earlier run left in OUT is removed. Re-running skips
    finished work. A wrong commit, a missing file or a malformed label exits 2 naming the file
    and line.
    """
    from core.errors import UsageError
    from core.logs import setup_logging
    from core.paths import DATA_DIR
    from dataprep.gitsource import GitSource, clone_pinned
    from dataprep.prepare import prepare
    from dataprep.reserved import DEFAULT_TOOL, ReservedFilter

    setup_logging("INFO")
    entries = _catalogue(catalogue)
    if name not in entries:
        fail(f"no dataset {name!r} in the catalogue; known: {', '.join(entries)}", EXIT_USAGE)
    entry = entries[name]
    out = out or DATA_DIR / "real" / name
    try:
        if no_reserved_check:
            typer.echo(f"WARNING: --no-reserved-check: images reserved for held-out evaluation "
                       f"are NOT dropped from {out}; do not train shipped models on it!",
                       err=True)
            check, check_fp = None, "unchecked"
        else:
            check = ReservedFilter(reserved_tool or DEFAULT_TOOL, reserved_list)
            check_fp = check.fingerprint
        if source is None:
            from core.offline import default_cache_dir

            dest = clone_dir or (default_cache_dir() / "datasets"
                                 / (entry.repo.replace("/", "+") + ".git"))
            source = clone_pinned(entry.repo, entry.commit, dest)
        with GitSource(source, entry.commit) as repo:
            report = prepare(entry, repo, out, check, check_fp, progress, allow_partial)
    except UsageError as exc:
        fail(str(exc), EXIT_USAGE)
    if report.stale_train_removed:
        typer.echo(f"NOTE: {name} is evaluation only (never trained on): removed the train "
                   f"part an earlier run left in {out / 'train'}", err=True)
    if report.already_done:
        typer.echo(f"{name}: already prepared in {out} (nothing to do)")
    per_split = ", ".join(f"{s} {n}" for s, n in report.samples.items())
    unit = "crops" if report.output == "crops" else "pages"
    typer.echo(f"{name}: {report.images} images, {report.written} written ({unit}: {per_split})"
               f"; bad images {len(report.bad_images)}; reserved dropped "
               f"{report.reserved_dropped}; skipped labels {report.skipped_labels or 0}"
               + (f"; evaluation only: {report.train_not_written} train-part images not "
                  "written" if report.evaluation_only else ""))
    if report.evaluation_only and out.is_dir():
        # e.g. train_lines from `pipeline convert crops OUT/train`: not prepare's to delete
        derived = sorted(p.name for p in out.iterdir() if p.name.startswith("train"))
        if derived:
            typer.echo(f"WARNING: {name} is evaluation only, but {out} still holds "
                       f"{', '.join(derived)} (made from an earlier train part, not by "
                       f"prepare, so left as is): delete {'them' if len(derived) > 1 else 'it'}"
                       ", this set must never be trained on", err=True)
    if report.missing_blobs:
        typer.echo(f"WARNING: {len(report.missing_blobs)} images are missing from the partial "
                   f"clone {source} and were skipped (first: {report.missing_blobs[0]}); run "
                   "again with a full clone to add them", err=True)
    typer.echo(f"report: {out / 'prepared.json'}")
