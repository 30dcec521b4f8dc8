"""Which weights file a model config names, checked before any model is built."""

from __future__ import annotations

from pathlib import Path

from core.errors import MissingWeightsError
from core.paths import resolve_path


def required_weights(weights: str | Path | None, untrained: bool, field: str) -> Path | None:
    """The weights file a config names, resolved (:func:`core.paths.resolve_path`) and checked.

    Args:
        weights: the config's ``weights`` value.
        untrained: the config's ``untrained`` flag: a random model asked for on purpose.
        field: the config field naming the file (``detector.weights``), for the message.

    Returns:
        The existing file, or ``None`` when no file is named and ``untrained`` is set.

    Raises:
        MissingWeightsError: no file named without ``untrained``, or the file does not exist.
    """
    if weights is None:
        if untrained:
            return None
        raise MissingWeightsError(field, None)
    path = resolve_path(weights)
    if not path.is_file():
        raise MissingWeightsError(field, path)
    return path


def check_untrained(weights: str | Path | None, untrained: bool) -> None:
    """A model config's ``untrained: true`` must not also name weights (a config validator).

    Raises:
        ValueError: both are set; pydantic reports it against the config.
    """
    if untrained and weights is not None:
        raise ValueError(f"untrained: true builds a random model, but weights names {weights}: "
                         "set weights to null, or untrained to false")
