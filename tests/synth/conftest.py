"""Shared fixtures: one font catalogue and tiny renderers for the whole synth test package."""

from __future__ import annotations

import pytest

from synth.fonts import FontBook


@pytest.fixture(scope="session")
def fonts() -> FontBook:
    return FontBook()
