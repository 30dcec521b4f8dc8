"""``pipeline export``: a results JSON as plain text, hOCR or ALTO files (``pipeline.exports``).

Exit codes: 0 when every page that has a result was written (failed entries have nothing to
export: they are listed, and do not change the code), 1 when a file could not be written, 2
for a bad option or a file that is not a results JSON.
"""

from __future__ import annotations

from pathlib import Path

import typer

from core.cli import EXIT_FAILED, EXIT_USAGE, fail
from pipeline.exports import FORMATS_HELP


def export(
    results: Path = typer.Argument(..., help="Results JSON written by `pipeline run`."),
    format_: str = typer.Option(..., "--format", "-f", help=FORMATS_HELP),
    out: Path = typer.Option(..., "--out", "-o", help="Folder for the files (created)."),
) -> None:
    """Write each page of a results JSON as txt / hOCR / ALTO files, one per format."""
    from pipeline.exports import PageExporter, parse_formats
    from pipeline.results import Page
    from pipeline.results_file import read_results

    try:
        formats = parse_formats(format_)
    except ValueError as exc:
        fail(f"--format: {exc}", EXIT_USAGE)
    if out.exists() and not out.is_dir():
        fail(f"--out {out} is a file; give a folder", EXIT_USAGE)
    try:
        entries = read_results(results)["images"]
    except ValueError as exc:
        fail(str(exc), EXIT_USAGE)
    pages = []
    for n, entry in enumerate(entries):
        try:
            pages.append(Page.from_dict(entry))
        except (KeyError, TypeError, ValueError) as exc:
            fail(f"{results}: images[{n}] is not a results entry ({type(exc).__name__}: "
                 f"{exc})", EXIT_USAGE)
    exporter = PageExporter(out, formats)
    for page in pages:  # names are claimed in results order, failed entries included
        exporter.claim(page.file, page.page)
    written = 0
    failed = [page for page in pages if page.error]
    for page in pages:
        try:
            written += len(exporter.write(page))
        except OSError as exc:
            fail(f"cannot write into --out {out}: {exc.strerror or exc}", EXIT_FAILED)
    typer.echo(f"{written} files ({', '.join(formats)}) for {len(pages) - len(failed)} pages "
               f"-> {out}", err=True)
    if failed:
        typer.echo(f"{len(failed)} failed entries have no files:", err=True)
        for page in failed:
            where = page.file if page.page is None else f"{page.file} page {page.page}"
            typer.echo(f"  {where}: {page.error}", err=True)
