"""Shared fixtures: a private cache folder, and the real MIDI data beside the repository."""

import os
import pathlib
import tempfile

import pytest

REPO = pathlib.Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"

# Every test process gets its own cache, so tests never read a user's cache and never leave
# files behind. Set before any draw_music module reads it.
os.environ.setdefault("DRAW_MUSIC_CACHE", tempfile.mkdtemp(prefix="draw_music_test_cache_"))


def shared_data(name):
  """`../shared/data/<name>`, or skip the test when the shared data is not there."""
  path = SHARED_DATA / name
  if not path.is_dir():
    pytest.skip(f"shared data folder {path} is not present")
  return path


@pytest.fixture
def beethoven_dir():
  return shared_data("beethoven_piano")
