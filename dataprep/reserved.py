"""Images reserved for held-out evaluation: found with the shared tool, dropped by ``prepare``.

The tool (``../shared/tools/reserved.py`` beside the project) is imported by its path, not
copied, so the exact and near-duplicate matching stays the one the evaluators maintain.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
from pathlib import Path
from types import ModuleType

from core.errors import UsageError
from core.paths import PROJECT_ROOT

log = logging.getLogger(__name__)

DEFAULT_TOOL = PROJECT_ROOT.parent / "shared" / "tools" / "reserved.py"


def default_list(tool: Path = DEFAULT_TOOL) -> Path:
    """The reserved list that ships beside the tool."""
    return tool.parent / "reserved_images.tsv"


def load_tool(tool: Path) -> ModuleType:
    """Import the reserved-images tool from its file.

    Raises:
        UsageError: the file is missing or does not provide ``load_reserved`` / ``is_reserved``.
    """
    if not tool.is_file():
        raise UsageError(
            f"reserved-images tool not found: {tool}. It lists images kept for held-out "
            "evaluation, which must never be trained on; put it there, or pass "
            "--no-reserved-check if you know this data holds none of them")
    spec = importlib.util.spec_from_file_location("shared_reserved_images", tool)
    if spec is None or spec.loader is None:
        raise UsageError(f"cannot import the reserved-images tool {tool}")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # noqa: BLE001 - any import failure means the same to the user
        raise UsageError(f"cannot import the reserved-images tool {tool}: {exc}") from exc
    for name in ("load_reserved", "is_reserved"):
        if not hasattr(module, name):
            raise UsageError(f"{tool} has no {name}(); is it the reserved-images tool?")
    return module


class ReservedFilter:
    """``filter(path)`` is True for an image reserved for held-out evaluation.

    Args:
        tool: ``reserved.py`` to import.
        reserved_list: the TSV of reserved hashes (default: the one beside the tool).

    Attributes:
        fingerprint: SHA-256 of the list, so a prepared set knows which list it was checked with.
    """

    def __init__(self, tool: Path = DEFAULT_TOOL, reserved_list: Path | None = None):
        self.module = load_tool(tool)
        self.list_path = reserved_list or default_list(tool)
        if not self.list_path.is_file():
            raise UsageError(f"reserved-images list not found: {self.list_path}")
        try:
            self.reserved = self.module.load_reserved(self.list_path)
        except Exception as exc:  # noqa: BLE001
            raise UsageError(f"{self.list_path}: cannot read the reserved list: {exc}") from exc
        self.fingerprint = hashlib.sha256(self.list_path.read_bytes()).hexdigest()

    def __call__(self, path: Path) -> bool:
        return bool(self.module.is_reserved(path, self.reserved))
