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

Everything is computed on a batch `[n, T, 128]` at once: one `np.nonzero` finds every note
of every piece, and per-piece statistics are segment reductions. There is no Python loop
over notes or pieces.
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
  on = np.ascontiguousarray((rolls != 0).transpose(0, 2, 1))  # [n, 128, T], a new array
  onset = on.copy()
  onset[:, :, 1:] &= ~on[:, :, :-1]
  offset = on.copy()
  offset[:, :, :-1] &= ~on[:, :, 1:]
  # nonzero walks in (piece, pitch, time) order, so the k-th onset and the k-th offset
  # belong to the same note.
  piece, pitch, t_on = np.nonzero(onset)
  t_off = np.nonzero(offset)[2]
  duration = (t_off - t_on + 1).astype(np.float64)
  order = np.lexsort((pitch, t_on, piece))  # notes by (piece, onset, pitch)
  piece, pitch, duration = piece[order], pitch[order], duration[order]
  num_notes = np.bincount(piece, minlength=n)

  same_piece = piece[1:] == piece[:-1]
  interval = np.abs(np.diff(pitch))[same_piece]
  interval_piece = piece[1:][same_piece]
  num_intervals = np.bincount(interval_piece, minlength=n)
  interval_counts = np.bincount(interval_piece * NUM_PITCHES + interval,
                                minlength=n * NUM_PITCHES).reshape(n, NUM_PITCHES)

  active_per_step = on.sum(axis=1)  # [n, T]
  feats = np.zeros((n, len(FEATURE_NAMES)))
  feats[:, 0] = num_notes / length
  feats[:, 1] = active_per_step.sum(axis=1) / length
  feats[:, 2] = (active_per_step >= 2).sum(axis=1) / np.maximum(num_notes, 1)
  feats[:, 3:7] = _segment_stats(pitch.astype(np.float64), piece, num_notes).T / PITCH_SCALE
  feats[:, 7:11] = _segment_stats(interval.astype(np.float64), interval_piece,
                                  num_intervals).T / PITCH_SCALE
  feats[:, 11:15] = _segment_stats(duration, piece, num_notes).T
  feats[:, 15] = np.argmax(interval_counts, axis=1) / PITCH_SCALE  # 0 when no interval
  feats[:, 16] = (interval_counts > 0).sum(axis=1)
  feats = feats[:, :len(names)]
  if return_degenerate:
    return feats, num_notes < 2
  return feats


def signature(roll, feature_set=DEFAULT_FEATURE_SET):
  """Signature of one `[T, 128]` piano roll: `[F]` float64."""
  return signatures(np.asarray(roll)[None], feature_set)[0]
