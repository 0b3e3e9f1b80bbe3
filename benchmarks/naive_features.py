"""A plain, per-piece, per-note implementation of the 17 features (DESIGN.md section 3).

Written from DESIGN.md alone, without looking at `draw_music.metric.features`, to serve as the
benchmark's baseline and as an independent cross-check of the vectorised signature. Nothing
here is clever: each piece is turned into Python lists, each pitch row is scanned step by step
to find its runs (a note = a maximal run of consecutive active steps of one pitch), the notes
are sorted by (onset, pitch), and every statistic is a plain loop or a `statistics` call.

Conventions (the same ones DESIGN.md fixes):
- standard deviations are population ones (`statistics.pstdev`);
- the interval mode is the most frequent interval, the smallest one on a tie;
- a piece with no note gets all zeros; with one note, the interval features are zeros;
  fewer than two notes is "degenerate".
"""

from __future__ import annotations

import math
import statistics

NUM_PITCHES = 128
PITCH_SCALE = 127.0
NUM_FEATURES = 17


def find_notes(roll):
  """Notes of one piece, as `(onset, pitch, duration)` sorted by (onset, pitch).

  Each pitch row is scanned step by step; a run of consecutive non-zero cells is one note.

  Args:
    roll: `[T, 128]` array or nested list; a cell is on where it is non-zero.

  Returns:
    A list of `(onset, pitch, duration)` tuples of ints.
  """
  return _notes_of_rows(_as_lists(roll))


def _notes_of_rows(rows):
  """`find_notes` of a piece already turned into `T` lists of 128 values."""
  length = len(rows)
  notes = []
  columns = list(zip(*rows))  # 128 tuples of T values: one per pitch
  for pitch, column in enumerate(columns):
    if not any(column):  # a silent pitch: nothing to scan
      continue
    t = 0
    while t < length:
      if column[t] != 0:
        onset = t
        while t < length and column[t] != 0:
          t += 1
        notes.append((onset, pitch, t - onset))
      else:
        t += 1
  notes.sort(key=lambda note: (note[0], note[1]))
  return notes


def _as_lists(roll):
  """`roll` as a list of `T` lists of 128 Python values."""
  rows = roll.tolist() if hasattr(roll, "tolist") else [list(step) for step in roll]
  for step in rows:
    if len(step) != NUM_PITCHES:
      raise ValueError(f"each step must hold {NUM_PITCHES} pitches, got {len(step)}")
  return rows


def _four_stats(values):
  """max, min, mean, population std of a non-empty list of numbers."""
  return [max(values), min(values), statistics.fmean(values), statistics.pstdev(values)]


def signature(roll):
  """The 17 features of one `[T, 128]` piece, as a list of floats.

  Args:
    roll: `[T, 128]` array or nested list (a cell is on where non-zero), T >= 1.

  Returns:
    `(features, degenerate)`: a list of 17 floats and whether the piece has fewer than two
    notes.
  """
  rows = _as_lists(roll)
  length = len(rows)
  if length == 0:
    raise ValueError("a piece needs at least one time step")
  notes = _notes_of_rows(rows)
  num_notes = len(notes)

  active_cells = 0
  polyphonic_steps = 0
  for step in rows:
    sounding = len(step) - step.count(0)  # False == 0 and 0.0 == 0: counts the non-zeros
    active_cells += sounding
    if sounding >= 2:
      polyphonic_steps += 1

  feats = [0.0] * NUM_FEATURES
  feats[0] = num_notes / length
  feats[1] = active_cells / length
  if num_notes == 0:
    # No note at all: features 1 and 3-17 are undefined or zero; occupation is 0 too.
    return feats, True
  feats[2] = polyphonic_steps / num_notes

  pitches = [pitch for _, pitch, _ in notes]
  durations = [duration for _, _, duration in notes]
  feats[3:7] = [value / PITCH_SCALE for value in _four_stats(pitches)]
  feats[11:15] = [float(value) for value in _four_stats(durations)]

  intervals = [abs(pitches[k + 1] - pitches[k]) for k in range(num_notes - 1)]
  if intervals:
    feats[7:11] = [value / PITCH_SCALE for value in _four_stats(intervals)]
    counts = {}
    for interval in intervals:
      counts[interval] = counts.get(interval, 0) + 1
    best = max(counts.values())
    feats[15] = min(i for i, c in counts.items() if c == best) / PITCH_SCALE
    feats[16] = float(len(counts))
  return feats, num_notes < 2


def signatures(rolls, feature_set="rizo17"):
  """Signatures of a batch: a list of `n` lists of 17 (or 15 for 'paper15') floats."""
  if feature_set not in ("paper15", "rizo17"):
    raise ValueError(f"unknown feature_set {feature_set!r}")
  size = 15 if feature_set == "paper15" else NUM_FEATURES
  return [signature(roll)[0][:size] for roll in rolls]


def mahalanobis(signature_values, mean, precision):
  """`sqrt(d^T P d)` with `d = x - mean`, by plain loops (clipped at 0 against round-off).

  Args:
    signature_values: `[F]` sequence of floats.
    mean: `[F]` sequence of floats.
    precision: `[F, F]` nested sequence (the pseudo-inverse of the covariance).
  """
  d = [x - m for x, m in zip(signature_values, mean)]
  total = 0.0
  for i, di in enumerate(d):
    row = precision[i]
    for j, dj in enumerate(d):
      total += di * row[j] * dj
  return math.sqrt(max(total, 0.0))


def distances(signature_list, mean, precision):
  """Mahalanobis distance of each signature of a list, one at a time."""
  mean = [float(m) for m in mean]
  precision = [[float(v) for v in row] for row in precision]
  return [mahalanobis(sig, mean, precision) for sig in signature_list]
