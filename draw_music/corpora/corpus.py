"""A corpus: every MIDI file under a folder, as piano rolls, cached; and chunks of it.

`load_corpus(folder)` reads every `*.mid` / `*.midi` file under `folder` (recursively, in
sorted order). A file that cannot be decoded (corrupt, truncated, empty, type 2, no notes,
absurdly long) is skipped and reported in `Corpus.skipped` as `(path, reason)`; nothing else
in the corpus is lost.

Parsed corpora are cached as one `.npz` per corpus under the cache folder, keyed by the
content hash of every file, its relative path, the reading settings and this module's
format version; a changed, added or removed file gives a new key. The cache folder is
`$DRAW_MUSIC_CACHE` if set, else `~/.cache/draw_music`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import pathlib
import sys

import numpy as np

from draw_music.corpora import midi_io

CACHE_FORMAT_VERSION = 1
MIDI_SUFFIXES = (".mid", ".midi")
DEFAULT_CHUNK_STEPS = 104


def cache_root():
  """The cache folder: `$DRAW_MUSIC_CACHE`, else `~/.cache/draw_music`."""
  return pathlib.Path(os.environ.get("DRAW_MUSIC_CACHE")
                      or pathlib.Path.home() / ".cache" / "draw_music")


@dataclasses.dataclass(frozen=True)
class Corpus:
  """Pieces read from a folder.

  Attributes:
    root: the folder that was read.
    names: path of each piece relative to `root`.
    rolls: one `[time_i, 128]` bool piano roll per piece.
    skipped: `(path, reason)` for each file that could not be read.
    from_cache: whether the rolls came from the cache.
  """
  root: str
  names: tuple
  rolls: tuple
  skipped: tuple
  from_cache: bool = False

  def __len__(self):
    return len(self.rolls)

  def skipped_report(self):
    """A readable summary of the skipped files (empty string if none)."""
    if not self.skipped:
      return ""
    lines = [f"skipped {len(self.skipped)} of {len(self.skipped) + len(self.rolls)} files "
             f"under {self.root}:"]
    lines += [f"  {path}: {reason}" for path, reason in self.skipped]
    return "\n".join(lines)


def find_midi_files(folder):
  """Sorted paths of every MIDI file under `folder` (recursive); raises if no such folder."""
  folder = pathlib.Path(folder)
  if not folder.exists():
    raise FileNotFoundError(f"corpus folder {str(folder)!r} does not exist")
  if not folder.is_dir():
    raise NotADirectoryError(f"corpus folder {str(folder)!r} is not a folder")
  return sorted(p for p in folder.rglob("*")
                if p.suffix.lower() in MIDI_SUFFIXES and p.is_file())


def _cache_key(root, paths, steps_per_beat, max_steps):
  digest = hashlib.sha256()
  digest.update(json.dumps([CACHE_FORMAT_VERSION, steps_per_beat, max_steps]).encode())
  for path in paths:
    digest.update(str(path.relative_to(root)).encode() + b"\0")
    digest.update(hashlib.sha256(path.read_bytes()).digest())
  return digest.hexdigest()[:32]


def _read_cache(path):
  with np.load(path, allow_pickle=False) as data:
    meta = json.loads(str(data["meta"]))
    flat = data["rolls"]
  bounds = np.cumsum([0] + meta["lengths"])
  rolls = tuple(flat[a:b] for a, b in zip(bounds[:-1], bounds[1:]))
  return tuple(meta["names"]), rolls, tuple(tuple(s) for s in meta["skipped"])


def _write_cache(path, names, rolls, skipped):
  path.parent.mkdir(parents=True, exist_ok=True)
  meta = {"names": list(names), "lengths": [int(r.shape[0]) for r in rolls],
          "skipped": [list(s) for s in skipped]}
  flat = (np.concatenate(rolls) if rolls else np.zeros((0, midi_io.NUM_PITCHES), bool))
  tmp = path.with_name(path.name + f".tmp{os.getpid()}.npz")
  np.savez(tmp, rolls=flat, meta=np.array(json.dumps(meta)))
  os.replace(tmp, path)  # atomic: a killed writer never leaves a half cache behind


def load_corpus(folder, steps_per_beat=midi_io.STEPS_PER_BEAT,
                max_steps=midi_io.DEFAULT_MAX_STEPS, use_cache=True, verbose=False):
  """Reads every MIDI file under `folder` into piano rolls, skipping the bad ones.

  Args:
    folder: a folder of MIDI files (searched recursively).
    steps_per_beat: grid resolution (8 in the paper).
    max_steps: files longer than this are skipped as corrupt.
    use_cache: read and write the parsed corpus in `cache_root()`.
    verbose: print the skipped files to stderr.

  Returns:
    A `Corpus`. It may hold no piece (every file bad, or no MIDI file): callers that need
    pieces check `len(corpus)`.

  Raises:
    FileNotFoundError / NotADirectoryError: `folder` is not a folder.
  """
  root = pathlib.Path(folder)
  paths = find_midi_files(root)
  cache_file = None
  if use_cache:
    key = _cache_key(root, paths, steps_per_beat, max_steps)
    cache_file = cache_root() / "corpora" / f"{key}.npz"
    if cache_file.exists():
      try:
        names, rolls, skipped = _read_cache(cache_file)
        corpus = Corpus(str(root), names, rolls, skipped, from_cache=True)
        if verbose and skipped:
          print(corpus.skipped_report(), file=sys.stderr)
        return corpus
      except Exception:  # unreadable cache entry: parse again and overwrite it
        pass
  names, rolls, skipped = [], [], []
  for path in paths:
    rel = str(path.relative_to(root))
    try:
      rolls.append(midi_io.read_midi(path, steps_per_beat, max_steps))
      names.append(rel)
    except midi_io.MidiDecodeError as e:
      skipped.append((rel, e.reason))
  corpus = Corpus(str(root), tuple(names), tuple(rolls), tuple(skipped))
  if cache_file is not None:
    _write_cache(cache_file, corpus.names, corpus.rolls, corpus.skipped)
  if verbose and skipped:
    print(corpus.skipped_report(), file=sys.stderr)
  return corpus


def chunk_roll(roll, length=DEFAULT_CHUNK_STEPS, stride=None, drop_empty=True):
  """Cuts a piano roll into chunks.

  Args:
    roll: `[time, 128]` piano roll.
    length: chunk length in steps (104 = 13 beats in the paper).
    stride: steps between chunk starts; default `length` (non-overlapping). A smaller
      stride gives the overlapping chunks the paper proposes as an extension.
    drop_empty: drop chunks with no active cell.

  Returns:
    `[num_chunks, length, 128]` array of the roll's dtype (a copy). The trailing partial
    chunk is dropped.
  """
  stride = length if stride is None else stride
  if length <= 0:
    raise ValueError(f"chunk length must be a positive integer, got {length}")
  if stride <= 0:
    raise ValueError(f"chunk stride must be a positive integer, got {stride}")
  roll = np.asarray(roll)
  if roll.shape[0] < length:
    return np.zeros((0, length) + roll.shape[1:], roll.dtype)
  windows = np.lib.stride_tricks.sliding_window_view(roll, length, axis=0)[::stride]
  chunks = np.ascontiguousarray(np.moveaxis(windows, -1, 1))  # [n, length, 128]
  if drop_empty:
    chunks = chunks[chunks.reshape(len(chunks), -1).any(axis=1)]
  return chunks


def corpus_chunks(rolls, length=DEFAULT_CHUNK_STEPS, stride=None, drop_empty=True):
  """Chunks of every roll, concatenated.

  Args:
    rolls: a sequence of `[time_i, 128]` rolls (for example `Corpus.rolls`).

  Returns:
    `(chunks, piece_index)`: `[n, length, 128]` chunks and `[n]` int index of the roll each
    chunk came from.
  """
  parts = [chunk_roll(r, length, stride, drop_empty) for r in rolls]
  if not parts:
    return np.zeros((0, length, midi_io.NUM_PITCHES), bool), np.zeros((0,), np.int64)
  index = np.concatenate([np.full(len(p), i, np.int64) for i, p in enumerate(parts)])
  return np.concatenate(parts), index
