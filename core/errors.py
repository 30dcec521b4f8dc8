"""Error kinds the command line tells apart: a usage error (exit 2) names what the user asked
for that cannot be done as asked; anything else that escapes is an internal error (exit 1)."""

from __future__ import annotations

import os


class UsageError(Exception):
    """The user's input cannot be used as given: a missing weights file, a bad option.

    The message must name the thing (file, field, option) and say what to do instead.
    """


class MissingWeightsError(UsageError, FileNotFoundError):
    """A model config names no weights file, or one that does not exist.

    An untrained (randomly initialised) model is built only when the config asks for one with
    ``untrained: true``; otherwise a missing file is this error, never a silent random model.

    Args:
        field: the config field that names the file (``detector.weights``).
        path: the file as resolved, or ``None`` when the field is not set.
        instead: the way to a model without this file, ending the message; default: set
            ``<section>.untrained: true`` (inference). Training says how to start from scratch.
    """

    def __init__(self, field: str, path: str | os.PathLike[str] | None,
                 instead: str | None = None):
        section = field.rsplit(".", 1)[0]
        ask = instead or (f"or set {section}.untrained: true for a randomly initialised "
                          "(untrained) model")
        if path is None:
            message = f"{field} is not set: point it at a weights file, {ask}"
        else:
            message = (f"{field}: weights file not found: {path}; point {field} at an "
                       f"existing file (train one, or check the path), {ask}")
        super().__init__(message)
        # Not OSError's ``filename``: that would turn str(exc) into "[Errno None] ...".
        self.field = field
        self.path = None if path is None else os.fspath(path)


class UnsafeWeightsError(UsageError, ValueError):
    """A weights file that ``torch.load(weights_only=True)`` refuses: it holds pickled objects
    (an ultralytics ``best.pt``, an official ``yolov8n.pt``), which are never unpickled on
    load. The message names the file and the command that converts it once, explicitly."""
