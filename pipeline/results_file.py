"""The results JSON of ``pipeline run``: atomic writes and reading back for ``--resume``.

Top level: ``{"version": 1, "mode": ..., "config": ..., "models": {"detector": ...,
"recognizer": ...}, "images": [<Page.export()>, ...]}`` (see README "Results JSON").
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pipeline.results import Page

RESULTS_VERSION = 1


def file_key(file: str | Path) -> str:
    """How an image file is recognised across runs: its absolute, normalised path."""
    return os.path.normcase(os.path.abspath(str(file)))


PageKey = tuple[str, int | None]


def page_key(file: str | Path, page: int | None = None) -> PageKey:
    """How a result is recognised across runs: the file's :func:`file_key` and its page
    (1-based in a multi-page TIFF, ``None`` for a single-page file)."""
    return file_key(file), page


def entry_key(entry: dict[str, Any]) -> PageKey:
    """:func:`page_key` of a results entry (files written before pages existed have none)."""
    return page_key(entry["file"], entry.get("page"))


def write_json_atomic(path: str | Path, data: Any) -> None:
    """Write JSON to ``path`` via a temporary file and ``os.replace``: never half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(data, fh, ensure_ascii=False, indent=1)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:  # no stray temporary file beside a results file we failed to write
        tmp.unlink(missing_ok=True)
        raise


def read_results(path: str | Path) -> dict[str, Any]:
    """Read a results file; ``ValueError`` saying why when it is not one."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: not a readable results JSON ({exc})") from exc
    if not isinstance(data, dict) or not isinstance(data.get("images"), list):
        raise ValueError(f"{path}: not a results file (no 'images' list)")
    for n, item in enumerate(data["images"]):
        if not isinstance(item, dict) or "file" not in item:
            raise ValueError(f"{path}: images[{n}] has no 'file'")
        page = item.get("page")
        if page is not None and (not isinstance(page, int) or isinstance(page, bool)
                                 or page < 1):
            raise ValueError(f"{path}: images[{n}] has page {page!r}: not a page number "
                             "(1, 2, ... or null)")
    return data


class ResultsWriter:
    """Collects page results and rewrites the output file atomically now and then.

    Args:
        path: the results JSON.
        meta: top-level fields besides ``images`` (mode, config, models).
        previous: entries kept from an earlier run (``--resume``); an entry for the same
            file and page (:func:`entry_key`) is replaced by a new result.
        flush_every: seconds between rewrites; :meth:`flush` writes at once.
    """

    def __init__(self, path: str | Path, meta: dict[str, Any],
                 previous: Iterable[dict[str, Any]] = (), flush_every: float = 2.0):
        self.path = Path(path)
        self.meta = {"version": RESULTS_VERSION, **meta}
        self.entries: dict[PageKey, dict[str, Any]] = {entry_key(e): e for e in previous}
        self._pages: dict[str, set[int | None]] = {}
        for file, number in self.entries:
            self._pages.setdefault(file, set()).add(number)
        self.flush_every = flush_every
        self._last = 0.0

    def add(self, page: Page) -> None:
        """Record one page; the file is rewritten when ``flush_every`` seconds have passed."""
        file, number = page_key(page.file, page.page)
        pages = self._pages.setdefault(file, set())
        # A file is one unnumbered page or numbered pages, never both: an entry of the other
        # kind is from a run before the file changed (or before pages were numbered).
        for old in [n for n in pages if (n is None) != (number is None)]:
            pages.discard(old)
            del self.entries[file, old]
        pages.add(number)
        self.entries[file, number] = page.export()
        if time.monotonic() - self._last >= self.flush_every:
            self.flush()

    def flush(self) -> None:
        """Write everything collected so far."""
        write_json_atomic(self.path, {**self.meta, "images": list(self.entries.values())})
        self._last = time.monotonic()

    @property
    def failed(self) -> list[dict[str, Any]]:
        """Entries whose image failed."""
        return [e for e in self.entries.values() if e.get("error")]
