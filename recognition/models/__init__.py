"""Recognition architectures, registered by name (see :mod:`recognition.models.registry`)."""

from recognition.models import crnn, joint  # noqa: F401  (registers the architectures)
from recognition.models.registry import (
    DEFAULT_CFGS,
    create_model,
    list_models,
    model_defaults,
    register,
)

__all__ = ["DEFAULT_CFGS", "create_model", "list_models", "model_defaults", "register"]
