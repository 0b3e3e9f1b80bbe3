"""Flags and helpers shared by the experiments (defined once, never mutated)."""

from __future__ import annotations

import os
import sys

from absl import app
from absl import flags

from draw_music import cli
from draw_music.corpora import corpus as corpus_lib

# Read from the command line by `cli.quiet_startup` before TensorFlow loads (see
# experiments/__init__.py); defined here so that absl accepts it.
flags.DEFINE_bool("verbose", False, "show the libraries' start-up and log lines "
                  "(TensorFlow's); setting TF_CPP_MIN_LOG_LEVEL yourself does too")


def _parse_flags(argv):
  """absl's flag parsing, with a bad flag reported as one line and exit status 2."""
  try:
    return flags.FLAGS(argv)
  except flags.Error as e:
    sys.exit(cli.fail(e))


def run(main):
  """`app.run(main)`, where a bad flag or path ends the command with one line and status 2.

  `app.UsageError`, `flags.ValidationError` (raised by `load_named_corpus`) and a flag
  parsing error print `error: ...` (one line, no traceback, no usage text).
  """
  def guarded(argv):
    try:
      return main(argv)
    except (app.UsageError, flags.Error) as e:
      return cli.fail(e)

  app.run(guarded, flags_parser=_parse_flags)


def corpus_folder(value, default_bundled):
  """The folder named by a corpus flag, or the bundled corpus `default_bundled` when empty."""
  if value:
    return value
  from draw_music.corpora import bundled  # pylint: disable=g-import-not-at-top  (music21 is slow to import)
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


def load_checkpoint_and_chunks(checkpoint, corpus_value):
  """A trained model and its reference corpus's chunks at the model's chunk length.

  Prints a clear error naming the flag and returns None when the checkpoint or the corpus
  cannot be used; warns when the corpus does not give as many chunks as the model was
  trained on (probably not its training corpus).

  Returns:
    `(model, step, corpus_dir, chunks)` or None.
  """
  from draw_music.paper import reproduce  # pylint: disable=g-import-not-at-top  (loads TensorFlow)
  stage(f"loading the trained model from {checkpoint}")
  try:
    model, step, trained_chunks = reproduce.load_checkpoint(checkpoint)
  except reproduce.CheckpointError as e:
    print(f"error: --checkpoint: {e}", file=sys.stderr)
    return None
  corpus_dir = corpus_folder(corpus_value, "beethoven")
  stage(f"loading corpus {corpus_dir}")
  try:
    corpus = load_named_corpus(corpus_dir, "corpus")
  except flags.ValidationError as e:
    print(f"error: {e}", file=sys.stderr)
    return None
  chunks, _ = corpus_lib.corpus_chunks(corpus.rolls, model.config.chunk_steps)
  if trained_chunks is not None and trained_chunks != len(chunks):
    print(f"warning: {corpus_dir} gives {len(chunks)} chunks, the model was trained on "
          f"{trained_chunks}: is it the training corpus?", file=sys.stderr)
  return model, step, corpus_dir, chunks


def load_corpus_and_others(corpus_value, others_value):
  """The corpus folder and rolls, and the other styles' rolls by name (bundled defaults).

  Returns:
    `(corpus_dir, corpus, other_dirs, others)`: `others` maps each folder's `set_name` to
    its rolls.
  """
  corpus_dir = corpus_folder(corpus_value, "beethoven")
  stage(f"loading corpus {corpus_dir}")
  corpus = load_named_corpus(corpus_dir, "corpus")  # a bad --corpus fails before any
  other_dirs = list(others_value) or [corpus_folder("", "bach")]  # conversion
  others = {}
  for folder in other_dirs:
    stage(f"loading other style {folder}")
    others[set_name(folder)] = load_named_corpus(folder, "others").rolls
  return corpus_dir, corpus, other_dirs, others
