"""Error kinds the command line tells apart: a usage error (exit 2) names what the user asked
for that cannot be done as asked; anything else that escapes is an internal error (exit 1)."""

from __future__ import annotations


class UsageError(Exception):
    """The user's input cannot be used as given: a missing weights file, a bad option.

    The message must name the thing (file, field, option) and say what to do instead.
    """
