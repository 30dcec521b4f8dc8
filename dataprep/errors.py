"""The one error a preparer raises for bad input: it names the file (and line) at fault."""

from __future__ import annotations

from core.errors import UsageError


class DataError(UsageError):
    """A source cannot be prepared as catalogued: wrong commit, missing file, malformed label.

    Attributes:
        file: the file at fault (a path inside the source repository, or on disk).
        line: 1-based line number inside ``file``, when one is known.
    """

    def __init__(self, file: str, message: str, line: int | None = None):
        self.file = file
        self.line = line
        where = f"{file}:{line}" if line is not None else file
        super().__init__(f"{where}: {message}")
