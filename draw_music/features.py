"""The piece signature: 17 symbolic features of a piano roll (DESIGN.md section 3).

A note is a maximal run of consecutive active steps of one pitch. Notes are ordered by
(onset, pitch); an interval is `|pitch(n+1) - pitch(n)|` between consecutive notes in that
order. For a piece of `T` steps:

  1 notes_per_step      number of notes / T
  2 occupation_rate     number of active cells / T
  3 polyphonic_rate     number of steps with >= 2 active pitches / number of notes
  4-7 pitch_max, pitch_min, pitch_mean, pitch_std           over notes, each / 127
  8-11 interval_max, interval_min, interval_mean, interval_std  each / 127
  12-15 duration_max, duration_min, duration_mean, duration_std  in steps, not scaled
  16 interval_mode      most frequent interval / 127 (the smallest one on a tie)
  17 distinct_intervals number of distinct interval values

Features 1-15 are the paper's text (`paper15`); 16-17 complete Rizo et al. (2006)'s interval
features (`rizo17`, the default). Standard deviations are population ones (ddof = 0).

Undefined cases are zeros, never NaN: a piece with no note has every feature 0; a piece
with one note has no interval, so features 8-11 and 16-17 are 0 (so is its pitch and
duration std). Such pieces (fewer than 2 notes) are flagged as degenerate.

Everything is computed on a batch `[n, T, 128]` at once, from the active cells only (one
`np.flatnonzero`; piano rolls are sparse): per-piece statistics are segment reductions.
There is no Python loop over notes or pieces; large batches are cut into blocks of pieces
(at most 2^22 cells each) only to bound memory.
"""

from __future__ import annotations

import numpy as np

NUM_PITCHES = 128
PITCH_SCALE = 127.0

FEATURE_NAMES = (
    "notes_per_step", "occupation_rate", "polyphonic_rate",
    "pitch_max", "pitch_min", "pitch_mean", "pitch_std",
    "interval_max", "interval_min", "interval_mean", "interval_std",
    "duration_max", "duration_min", "duration_mean", "duration_std",
    "interval_mode", "distinct_intervals",
)
FEATURE_SETS = {"paper15": FEATURE_NAMES[:15], "rizo17": FEATURE_NAMES}
DEFAULT_FEATURE_SET = "rizo17"


def feature_names(feature_set=DEFAULT_FEATURE_SET):
  """Names of the features of `feature_set` ('paper15' or 'rizo17'), in signature order."""
  if feature_set not in FEATURE_SETS:
    raise ValueError(f"unknown feature_set {feature_set!r}; expected one of "
                     f"{sorted(FEATURE_SETS)}")
  return FEATURE_SETS[feature_set]


def _segment_stats(values, seg, counts):
  """max, min, mean, std of `values` per segment; zeros for empty segments.

  Args:
    values: `[m]` float64, grouped by segment (`seg` is non-decreasing).
    seg: `[m]` int segment index of each value.
    counts: `[n]` number of values per segment.
  """
  n = counts.shape[0]
  out = np.zeros((4, n))
  nonempty = counts > 0
  if values.size == 0:
    return out
  starts = (np.cumsum(counts) - counts)[nonempty]
  out[0, nonempty] = np.maximum.reduceat(values, starts)
  out[1, nonempty] = np.minimum.reduceat(values, starts)
  safe = np.maximum(counts, 1)
  mean = np.bincount(seg, weights=values, minlength=n) / safe
  out[2] = mean
  out[3] = np.sqrt(np.bincount(seg, weights=(values - mean[seg]) ** 2, minlength=n) / safe)
  return out


# Pieces per block are chosen so that a block holds at most this many cells. The sparse
# arrays of `_block_features` take about 58 bytes per active cell (measured), so even an
# all-on block peaks near 250 MB; smaller blocks cost no measurable time.
_BLOCK_CELLS = 1 << 22


def _block_features(rolls):
  """All 17 features of a `[m, T, 128]` block, and its `[m]` note counts.

  Works on the active cells only (piano rolls are sparse): `np.flatnonzero` lists them in
  (piece, time, pitch) order, and a cell starts (ends) a note where the cell one step
  earlier (later) at the same pitch is off, which is a gather into the roll, not a pass
  over every cell. Onsets, kept in that order, are the notes ordered by (onset, pitch).
  """
  m, length, _ = rolls.shape
  flat = rolls.reshape(-1)  # a view when `rolls` is contiguous; only ever read
  cell = np.flatnonzero(flat)  # (piece, time, pitch) order
  step = cell // NUM_PITCHES  # piece * T + time
  cell_pitch = cell - step * NUM_PITCHES
  cell_time = step % length
  cell_piece = step // length
  last = flat.size - 1
  prev_on = (cell_time > 0) & (flat[np.maximum(cell - NUM_PITCHES, 0)] != 0)
  next_on = (cell_time < length - 1) & (flat[np.minimum(cell + NUM_PITCHES, last)] != 0)
  is_onset, is_offset = ~prev_on, ~next_on

  piece, pitch = cell_piece[is_onset], cell_pitch[is_onset]  # notes by (piece, onset, pitch)
  num_notes = np.bincount(piece, minlength=m)
  # Durations: in (piece, pitch, time) order the k-th onset and the k-th offset are the same
  # note. Their order within a piece differs from the notes' one, which duration statistics
  # do not see.
  key = (cell_piece * NUM_PITCHES + cell_pitch) * length + cell_time
  on_key, off_key = np.sort(key[is_onset]), np.sort(key[is_offset])
  duration = (off_key - on_key + 1).astype(np.float64)
  duration_piece = on_key // (NUM_PITCHES * length)

  same_piece = piece[1:] == piece[:-1]
  interval = np.abs(np.diff(pitch))[same_piece]
  interval_piece = piece[1:][same_piece]
  num_intervals = np.bincount(interval_piece, minlength=m)
  interval_counts = np.bincount(interval_piece * NUM_PITCHES + interval,
                                minlength=m * NUM_PITCHES).reshape(m, NUM_PITCHES)

  active_per_step = np.bincount(step, minlength=m * length).reshape(m, length)
  feats = np.zeros((m, len(FEATURE_NAMES)))
  feats[:, 0] = num_notes / length
  feats[:, 1] = active_per_step.sum(axis=1) / length
  feats[:, 2] = (active_per_step >= 2).sum(axis=1) / np.maximum(num_notes, 1)
  feats[:, 3:7] = _segment_stats(pitch.astype(np.float64), piece, num_notes).T / PITCH_SCALE
  feats[:, 7:11] = _segment_stats(interval.astype(np.float64), interval_piece,
                                  num_intervals).T / PITCH_SCALE
  feats[:, 11:15] = _segment_stats(duration, duration_piece, num_notes).T
  feats[:, 15] = np.argmax(interval_counts, axis=1) / PITCH_SCALE  # 0 when no interval
  feats[:, 16] = (interval_counts > 0).sum(axis=1)
  return feats, num_notes


def signatures(rolls, feature_set=DEFAULT_FEATURE_SET, return_degenerate=False):
  """Signature vectors of a batch of piano rolls.

  Args:
    rolls: `[n, T, 128]` array (bool, or numeric: a cell is on where non-zero). Not modified.
    feature_set: 'rizo17' (default) or 'paper15'.
    return_degenerate: also return the `[n]` bool mask of pieces with fewer than two notes.

  Returns:
    `[n, F]` float64 signatures (F = 17 or 15), and the mask if asked.
  """
  names = feature_names(feature_set)
  rolls = np.asarray(rolls)
  if rolls.ndim != 3 or rolls.shape[2] != NUM_PITCHES:
    raise ValueError(f"rolls must have shape [n, T, {NUM_PITCHES}], got {rolls.shape}")
  n, length, _ = rolls.shape
  if length == 0:
    raise ValueError("rolls must have at least one time step, got T = 0")
  rolls = np.ascontiguousarray(rolls)  # a copy only when the input is not contiguous
  block = max(1, _BLOCK_CELLS // (length * NUM_PITCHES))
  parts = [_block_features(rolls[i:i + block]) for i in range(0, n, block)]
  if parts:
    feats = np.concatenate([p[0] for p in parts])
    num_notes = np.concatenate([p[1] for p in parts])
  else:
    feats, num_notes = np.zeros((0, len(FEATURE_NAMES))), np.zeros((0,), np.int64)
  feats = feats[:, :len(names)]
  if return_degenerate:
    return feats, num_notes < 2
  return feats


def signature(roll, feature_set=DEFAULT_FEATURE_SET):
  """Signature of one `[T, 128]` piano roll: `[F]` float64."""
  return signatures(np.asarray(roll)[None], feature_set)[0]
