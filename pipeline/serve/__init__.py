"""The HTTP service of ``pipeline serve``: the app (:mod:`pipeline.serve.app`), the worker that
batches requests of concurrent clients (:mod:`pipeline.serve.batching`) and the browser page
(``static/``)."""

from pipeline.serve.app import ServeLimits, create_app

__all__ = ["ServeLimits", "create_app"]
