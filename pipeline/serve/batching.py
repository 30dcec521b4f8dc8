"""Requests of concurrent clients read together: one worker thread, one model, small batches.

Each request hands its pages to :class:`BatchingWorker` as one job and waits on a future. The
worker thread takes the oldest job, then keeps taking jobs for up to ``window_s`` seconds or
until ``max_batch`` pages are in hand, and runs them through
:meth:`pipeline.ocr.OcrPipeline.process_batch` together (``max_batch`` pages at a time), so
the detector and the recognizer see batches across clients. A window of 0 never waits: each
job is read on its own, as a run of ``pipeline run`` would read it.

Inference stays in the one thread, so the model is never used from two threads at once.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pipeline.images import ImagePage
    from pipeline.ocr import OcrPipeline
    from pipeline.results import Page

log = logging.getLogger(__name__)

# One page to read: the name its result carries (Page.file) and the page of a file.
PageItem = tuple[str, "ImagePage"]


@dataclass
class _Job:
    items: Sequence[PageItem]
    future: Future = field(default_factory=Future)


class BatchingWorker:
    """The thread that runs the pipeline on batches of pages from several requests.

    Args:
        ocr: the pipeline, loaded once; only this worker's thread calls it.
        window_s: how long the worker waits for more jobs after the first one of a batch;
            0 reads every job alone.
        max_batch: most pages given to ``process_batch`` at once; a batch stops taking jobs
            once it holds that many pages, and its pages are read ``max_batch`` at a time.

    Attributes:
        batch_sizes: pages of each ``process_batch`` call, the latest 1000 (for tests and
            ``/health``).
        jobs_per_batch: jobs whose pages went into each batch, the latest 1000.
        batches, pages: ``process_batch`` calls and pages read since the start.
    """

    def __init__(self, ocr: OcrPipeline, window_s: float = 0.02, max_batch: int = 8):
        if window_s < 0:
            raise ValueError(f"batch window must be >= 0 seconds, got {window_s}")
        if max_batch < 1:
            raise ValueError(f"max batch must be >= 1 page, got {max_batch}")
        self.ocr = ocr
        self.window_s = window_s
        self.max_batch = max_batch
        self.batch_sizes: deque[int] = deque(maxlen=1000)
        self.jobs_per_batch: deque[int] = deque(maxlen=1000)
        self.batches = 0
        self.pages = 0
        self._queue: queue.Queue[_Job | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        """Start the worker thread (again after :meth:`stop`); a no-op while it runs."""
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._thread = threading.Thread(target=self._loop, name="ocr-batching-worker",
                                            daemon=True)
            self._thread.start()

    @property
    def running(self) -> bool:
        """Whether the worker thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def stop(self, timeout: float | None = 30.0) -> None:
        """Finish the jobs already queued, then end the thread."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None and thread.is_alive():
            self._queue.put(None)
            thread.join(timeout)

    def submit(self, items: Sequence[PageItem]) -> Future[list[Page]]:
        """Queue the pages of one request; the future gives one :class:`Page` per item, in
        order (a page that cannot be read is an error entry, as in ``pipeline run``)."""
        self.start()
        job = _Job(list(items))
        if not job.items:
            job.future.set_result([])
        else:
            self._queue.put(job)
        return job.future

    def _loop(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            jobs = [first]
            stop = self._gather(jobs)
            self._run(jobs)
            if stop:
                return

    def _gather(self, jobs: list[_Job]) -> bool:
        """Add jobs to ``jobs`` until the window closes or the batch is full; whether a stop
        was asked for meanwhile."""
        pages = len(jobs[0].items)
        deadline = time.monotonic() + self.window_s
        while self.window_s > 0 and pages < self.max_batch:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                job = self._queue.get(timeout=remaining)
            except queue.Empty:
                break
            if job is None:
                return True
            jobs.append(job)
            pages += len(job.items)
        return False

    def _run(self, jobs: list[_Job]) -> None:
        # A request whose client went away before its turn was cancelled: not read.
        jobs = [job for job in jobs if job.future.set_running_or_notify_cancel()]
        if not jobs:
            return
        items = [item for job in jobs for item in job.items]
        try:
            pages: list[Page] = []
            for start in range(0, len(items), self.max_batch):
                chunk = items[start:start + self.max_batch]
                self.batch_sizes.append(len(chunk))
                self.jobs_per_batch.append(len(jobs))
                self.batches += 1
                self.pages += len(chunk)
                pages.extend(page for page, _ in self.ocr.process_batch(chunk))
        except Exception as exc:  # a bug or a model failure: every waiting request hears it
            log.error("internal error while reading a batch of %d pages", len(items),
                      exc_info=True)
            for job in jobs:
                job.future.set_exception(exc)
            return
        at = 0
        for job in jobs:
            job.future.set_result(pages[at:at + len(job.items)])
            at += len(job.items)
