"""Small builders shared by tests: lopsided random rolls and folders of MIDI files."""

import pathlib

import numpy as np

from draw_music.corpora import midi_io


def random_roll(rng, length, density, low=30, high=90):
  """A `[length, 128]` bool roll with notes of random length between `low` and `high`."""
  roll = np.zeros((length, 128), bool)
  num_notes = max(1, int(density * length))
  starts = rng.integers(0, length, num_notes)
  lengths = rng.integers(1, 12, num_notes)
  pitches = rng.integers(low, high, num_notes)
  for s, n, p in zip(starts, lengths, pitches):
    roll[s:s + n, p] = True
  return roll


def write_corpus(folder, rolls):
  """Writes each roll as `piece_<i>.mid` under `folder`; returns the folder."""
  folder = pathlib.Path(folder)
  folder.mkdir(parents=True, exist_ok=True)
  for i, roll in enumerate(rolls):
    midi_io.write_midi(roll, folder / f"piece_{i:02d}.mid")
  return folder


def train_tiny(out_dir, steps=3):
  """A tiny model (`tiny` config) trained `steps` steps on 12 random 16-step chunks.

  Returns:
    `(out_dir, chunks)`.
  """
  from draw_music.writer import model as model_lib  # pylint: disable=g-import-not-at-top  (TF)
  from draw_music.writer import train  # pylint: disable=g-import-not-at-top
  rng = np.random.default_rng(0)
  chunks = np.stack([random_roll(rng, 16, 0.4) for _ in range(12)])
  train.train(model_lib.get_config("tiny"), chunks, np.arange(12) % 4, out_dir,
              train.TrainConfig(max_steps=steps, verbose=False))
  return out_dir, chunks


def train_baseline_config(fields, *argv):
  """`train_baseline`'s model config from the flags `argv`, in a fresh process (absl flags
  parse once per process): the finished process, its stdout the config's `fields` in order,
  separated by spaces."""
  import subprocess  # pylint: disable=g-import-not-at-top
  import sys  # pylint: disable=g-import-not-at-top
  code = ("import sys; from absl import flags; from experiments import train_baseline as t; "
          "flags.FLAGS(['train_baseline', *sys.argv[2:]]); c = t.model_config_from_flags(); "
          "print(*(getattr(c, f) for f in sys.argv[1].split(',')))")
  return subprocess.run([sys.executable, "-c", code, ",".join(fields), *argv],
                        capture_output=True, text=True, check=False)
