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
features (`rizo17`, the default). `extended` and `candidates` (module `features_extended`)
add pitch-class, metre and texture features. Standard deviations are population ones (ddof = 0).

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
# The features `features_extended` adds (defined there). `candidates` is the 17 without
# occupation_rate (= notes_per_step * duration_mean) plus all of them; `extended` keeps
# the candidates that separate composers (see `features_extended`, "Selection").
EXTRA_NAMES = (
    "pc_entropy", "pc_top3", "scale_consistency",
    "ic_semitone", "ic_third", "ic_fourth", "ic_unison",
    "onset_on_beat", "onset_offbeat", "onset_odd", "ioi_mean", "ioi_std",
    "groove_consistency",
    "chord_size", "sounding_mean", "polyphony_rate", "empty_beat_rate",
    "bass_mean", "top_mean", "spread_mean", "ic_tone", "ic_tritone", "top_step_rate",
    "beat_onsets_std", "key_clarity", "minor_mode", "tonic_share", "out_of_key",
)
CANDIDATE_NAMES = tuple(n for n in FEATURE_NAMES if n != "occupation_rate") + EXTRA_NAMES
EXTENDED_NAMES = (
    "polyphonic_rate", "pitch_min", "pitch_std", "interval_min", "interval_max",
    "interval_std", "duration_max", "duration_min", "duration_mean",
    "pc_entropy", "pc_top3", "scale_consistency", "key_clarity", "tonic_share",
    "out_of_key", "ic_semitone", "ic_third", "ic_fourth", "ic_unison",
    "onset_odd", "chord_size", "sounding_mean", "polyphony_rate", "spread_mean", "top_mean",
)
FEATURE_SETS = {"paper15": FEATURE_NAMES[:15], "rizo17": FEATURE_NAMES,
                "extended": EXTENDED_NAMES, "candidates": CANDIDATE_NAMES}
DEFAULT_FEATURE_SET = "rizo17"


def feature_names(feature_set=DEFAULT_FEATURE_SET):
  """Names of the features of `feature_set` (a key of `FEATURE_SETS`), in signature order."""
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


def pieces_per_block(length):
  """Pieces of `length` steps in a block of at most `_BLOCK_CELLS` cells (at least one)."""
  return max(1, _BLOCK_CELLS // (length * NUM_PITCHES))


def _block_notes(rolls):
  """The notes of a `[m, T, 128]` block, from its active cells only.

  `np.flatnonzero` lists the active cells in (piece, time, pitch) order, and a cell starts
  (ends) a note where the cell one step earlier (later) at the same pitch is off, which is
  a gather into the roll, not a pass over every cell. Onsets, kept in that order, are the
  notes ordered by (onset, pitch).

  Returns:
    dict with `piece`, `time`, `pitch`: `[notes]` int, the notes by (piece, onset, pitch);
    `duration`, `duration_piece`: `[notes]` durations (float64, steps) and their piece, in
    (piece, pitch, onset) order; `active_per_step`: `[m, T]` int, pitches on at each step;
    `num_notes`: `[m]`; `sounding_step` (`piece * T + time` of each step with a pitch on),
    `step_low`, `step_high`: `[sounding steps]` int, its lowest and highest pitch on.
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
  piece = cell_piece[is_onset]  # notes by (piece, onset, pitch)
  # Durations: in (piece, pitch, time) order the k-th onset and the k-th offset are the same
  # note. Their order within a piece differs from the notes' one, which duration statistics
  # do not see.
  key = (cell_piece * NUM_PITCHES + cell_pitch) * length + cell_time
  on_key, off_key = np.sort(key[is_onset]), np.sort(key[is_offset])
  # Lowest and highest pitch on at each sounding step: cells are sorted by (step, pitch).
  new_step = np.ones(step.shape, bool)
  new_step[1:] = step[1:] != step[:-1]
  first = np.flatnonzero(new_step)
  last_cell = np.r_[first[1:] - 1, step.size - 1] if first.size else first
  return {
      "sounding_step": step[first], "step_low": cell_pitch[first],
      "step_high": cell_pitch[last_cell],
      "piece": piece, "time": cell_time[is_onset], "pitch": cell_pitch[is_onset],
      "duration": (off_key - on_key + 1).astype(np.float64),
      "duration_piece": on_key // (NUM_PITCHES * length),
      "active_per_step": np.bincount(step, minlength=m * length).reshape(m, length),
      "num_notes": np.bincount(piece, minlength=m),
  }


def _block_features(rolls, notes=None):
  """All 17 features of a `[m, T, 128]` block, and its `[m]` note counts.

  `notes` is `_block_notes(rolls)` when the caller already has it.
  """
  m, length, _ = rolls.shape
  notes = _block_notes(rolls) if notes is None else notes
  piece, pitch, num_notes = notes["piece"], notes["pitch"], notes["num_notes"]
  duration, duration_piece = notes["duration"], notes["duration_piece"]
  active_per_step = notes["active_per_step"]

  same_piece = piece[1:] == piece[:-1]
  interval = np.abs(np.diff(pitch))[same_piece]
  interval_piece = piece[1:][same_piece]
  num_intervals = np.bincount(interval_piece, minlength=m)
  interval_counts = np.bincount(interval_piece * NUM_PITCHES + interval,
                                minlength=m * NUM_PITCHES).reshape(m, NUM_PITCHES)

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
    feature_set: 'rizo17' (default), 'paper15', or 'extended' or 'candidates'
      (`features_extended`).
    return_degenerate: also return the `[n]` bool mask of pieces with fewer than two notes.

  Returns:
    `[n, F]` float64 signatures (F = 17, 15, 25 or 44), and the mask if asked.
  """
  names = feature_names(feature_set)
  rolls = np.asarray(rolls)
  if rolls.ndim != 3 or rolls.shape[2] != NUM_PITCHES:
    raise ValueError(f"rolls must have shape [n, T, {NUM_PITCHES}], got {rolls.shape}")
  n, length, _ = rolls.shape
  if length == 0:
    raise ValueError("rolls must have at least one time step, got T = 0")
  rolls = np.ascontiguousarray(rolls)  # a copy only when the input is not contiguous
  block = pieces_per_block(length)
  if feature_set in ("extended", "candidates"):
    from draw_music.metric import features_extended  # pylint: disable=g-import-not-at-top  (cycle)
    compute, width = features_extended.block_signatures, len(CANDIDATE_NAMES)
  else:
    compute, width = _block_features, len(FEATURE_NAMES)
  parts = [compute(rolls[i:i + block]) for i in range(0, n, block)]
  if parts:
    feats = np.concatenate([p[0] for p in parts])
    num_notes = np.concatenate([p[1] for p in parts])
  else:
    feats, num_notes = np.zeros((0, width)), np.zeros((0,), np.int64)
  if feature_set == "extended":
    feats = feats[:, [CANDIDATE_NAMES.index(name) for name in names]]
  feats = feats[:, :len(names)]
  if return_degenerate:
    return feats, num_notes < 2
  return feats


def signature(roll, feature_set=DEFAULT_FEATURE_SET):
  """Signature of one `[T, 128]` piano roll: `[F]` float64."""
  return signatures(np.asarray(roll)[None], feature_set)[0]
