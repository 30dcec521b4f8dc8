"""Registry of synthetic data kinds: name → renderer class (imported lazily)."""

from __future__ import annotations

import importlib
from functools import partial
from typing import Any

from synth.base import Renderer

# kind → "module:Class"; options are passed to the class as keyword arguments.
KINDS: dict[str, str] = {
    "lines": "synth.lines:LineRenderer",
    "scene_words": "synth.scene_words:SceneWordRenderer",
    "plates": "synth.plates:PlateCropRenderer",
    "plate_scenes": "synth.scenes:PlateSceneRenderer",
    "street_scenes": "synth.street:StreetSceneRenderer",
    "documents": "synth.pages:DocumentRenderer",
    "notebooks": "synth.pages:NotebookRenderer",
    "receipts": "synth.receipts:ReceiptRenderer",
    "page_photos": "synth.page_photos:PagePhotoRenderer",
}


def renderer_class(kind: str) -> type[Renderer]:
    """The renderer class registered for ``kind``.

    Raises:
        KeyError: unknown kind (the message lists the known ones).
    """
    if kind not in KINDS:
        raise KeyError(f"unknown synth kind {kind!r}; known: {', '.join(KINDS)}")
    module, name = KINDS[kind].split(":")
    return getattr(importlib.import_module(module), name)


def make_renderer(kind: str, **options: Any) -> Renderer:
    """Build the renderer for ``kind`` with ``options``."""
    return renderer_class(kind)(**options)


def renderer_factory(kind: str, **options: Any) -> partial[Renderer]:
    """A picklable zero-argument factory (one renderer per worker process)."""
    return partial(make_renderer, kind, **options)
