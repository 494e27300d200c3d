"""Where the shared recorded fixtures live, and the rule for skipping without them.

The real pages and upstream recordings sit in ``../shared/fixtures`` beside the
repository and are read in place. A clone without them still runs the suite on the
project's own small fixtures (``tests/fixtures``); tests that need the shared corpus
skip saying why, unless ``OAHELPER_REQUIRE_SHARED=1`` (set by CI) turns the skip
into a failure.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
OWN_FIXTURES = REPO / "tests" / "fixtures"


def shared_fixtures() -> Path | None:
    """The shared fixtures folder, or None when this clone has none beside it."""
    override = os.environ.get("OAHELPER_SHARED_FIXTURES")
    path = Path(override) if override else REPO.parent / "shared" / "fixtures"
    return path if path.is_dir() else None


def require_shared(sub: str = "") -> Path:
    """The shared fixtures folder (or a sub-folder); skip or fail when missing."""
    base = shared_fixtures()
    path = base / sub if base else None
    if path is not None and path.exists():
        return path
    why = f"shared fixtures not found at {REPO.parent / 'shared' / 'fixtures' / sub}"
    if os.environ.get("OAHELPER_REQUIRE_SHARED") == "1":
        pytest.fail(f"{why}, and OAHELPER_REQUIRE_SHARED=1 forbids skipping")
    pytest.skip(f"{why} (clone ../shared beside the repo to run the corpus tests)")
