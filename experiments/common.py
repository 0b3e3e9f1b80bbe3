"""Flags and helpers shared by the experiments (defined once, never mutated)."""

from __future__ import annotations

import os
import sys

from absl import flags

from draw_music import corpus as corpus_lib


def corpus_folder(value, default_bundled):
  """The folder named by a corpus flag, or the bundled corpus `default_bundled` when empty."""
  if value:
    return value
  from draw_music import bundled  # pylint: disable=g-import-not-at-top  (music21 is slow to import)
  return str(bundled.bundled_corpus_dir(default_bundled))


def load_named_corpus(folder, flag_name):
  """Loads a corpus folder for an experiment; exits with a clear message when unusable."""
  try:
    corpus = corpus_lib.load_corpus(folder)
  except (FileNotFoundError, NotADirectoryError) as e:
    raise flags.ValidationError(f"--{flag_name}: {e}") from e
  if corpus.skipped:
    print(corpus.skipped_report(), file=sys.stderr)
  if not len(corpus):
    raise flags.ValidationError(f"--{flag_name}: no readable MIDI file under {folder!r}")
  return corpus


def set_name(folder):
  """A short label for a corpus folder: its base name."""
  return os.path.basename(os.path.normpath(folder))


def stage(message):
  """One progress line per experiment stage."""
  print(f"[{message}]", flush=True)
