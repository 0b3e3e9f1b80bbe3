"""The paper's post-processing of a generated canvas: min-max normalise, then threshold.

Pure NumPy (no TensorFlow), so that scoring code can use it without loading the model.
"""

from __future__ import annotations

import concurrent.futures

import numpy as np


def normalise(canvases):
  """Min-max normalises each `[time, pitch]` output to [0, 1], as `binarize` does.

  Args:
    canvases: `[..., time, pitch]` float array; not modified.

  Returns:
    `[..., time, pitch]` float64; a constant output maps to all zeros.
  """
  values = np.asarray(canvases, dtype=np.float64)
  if values.ndim < 2:
    raise ValueError(f"canvases must be [..., time, pitch], got shape {values.shape}")
  low = values.min(axis=(-2, -1), keepdims=True)
  span = values.max(axis=(-2, -1), keepdims=True) - low
  safe = np.where(span > 0, span, 1.0)
  return np.where(span > 0, (values - low) / safe, 0.0)


def binarize(canvas, alpha):
  """The paper's post-processing: min-max normalise each output, then threshold.

  Each `[time, pitch]` output is mapped to `[0, 1]` over its own cells,
  `(v - min) / (max - min)`; a constant output (max == min) maps to all zeros. A cell is on
  when its normalised value is strictly greater than `alpha`.

  Args:
    canvas: `[..., time, pitch]` float array (a `tf.Tensor` is accepted); not modified.
    alpha: threshold in `[0, 1]`.

  Returns:
    `[..., time, pitch]` bool numpy array.
  """
  if not 0 <= alpha <= 1:
    raise ValueError(f"alpha must be in [0, 1], got {alpha!r}")
  return normalise(canvas) > alpha


# ---------------------------------------------------------------------------------------------
# Beyond the paper: note-level decoding (the `writer` config, DESIGN.md section 8).

DECODERS = ("paper", "notes")


def note_starts(active):
  """`[n, time, ...]` bool: the cells where a run along time (axis 1) begins, a note's onset."""
  active = np.asarray(active, bool)
  starts = active.copy()
  starts[:, 1:] &= ~active[:, :-1]
  return starts


def _runs(active):
  """Run labels of `active` along time.

  Args:
    active: `[n, time, pitch]` bool.

  Returns:
    `(run_id, num_runs)`: `[n, time, pitch]` int64, 0 where inactive and `1..num_runs` on
    the cells of each maximal run of active steps of one (piece, pitch) column.
  """
  n, steps, pitches = active.shape
  cols = np.ascontiguousarray(np.moveaxis(active, 1, 2)).reshape(-1, steps)  # [n*P, T]
  run_id, _ = _row_runs(cols)
  num_runs = int(run_id.max(initial=0))
  return np.moveaxis(run_id.reshape(n, pitches, steps), 1, 2), num_runs


def _row_runs(rows):
  """`(run_id, starts)` of `[r, time]` bool rows: `run_id` `[r * time]` int64, 0 where
  inactive and `1, 2, ...` on the cells of each maximal run (numbered in row order);
  `starts` `[r, time]` bool, the first cell of each run."""
  starts = note_starts(rows)
  return np.cumsum(starts.ravel()) * rows.ravel(), starts


def decode_notes(values, on, hold=0.5, min_steps=2):
  """Notes from a canvas by hysteresis: a note starts above `on` and is held above `hold * on`.

  A cell is on when it belongs to a maximal run (along time, one pitch) of cells above
  `hold * on` that holds at least one cell above `on`, and that run is at least `min_steps`
  long. One global threshold cuts a note whose probability dips for a step into fragments
  one or two steps long (re-struck notes, too short durations); hysteresis holds the note
  through the dip, and `min_steps` drops blips that are shorter than any note the corpus has
  in numbers (an eighth of a beat is one step).

  Args:
    values: `[..., time, pitch]` float canvas (probabilities, or min-max normalised); not
      modified.
    on: onset threshold, a scalar or an array broadcastable to `values.shape[:-2]` (one
      threshold per piece).
    hold: the note is held while its value stays above `hold * on`, `0 < hold <= 1` (1: no
      hysteresis).
    min_steps: runs shorter than this are dropped (1: none dropped).

  Returns:
    `[..., time, pitch]` bool.
  """
  values = np.asarray(values, np.float64)
  if values.ndim < 2:
    raise ValueError(f"values must be [..., time, pitch], got shape {values.shape}")
  if not 0 < hold <= 1:
    raise ValueError(f"hold must be in (0, 1], got {hold!r}")
  if isinstance(min_steps, bool) or int(min_steps) != min_steps or min_steps < 1:
    raise ValueError(f"min_steps must be a positive integer, got {min_steps!r}")
  lead = values.shape[:-2]
  flat = values.reshape((-1,) + values.shape[-2:])
  on = np.broadcast_to(np.asarray(on, np.float64), lead).reshape(-1, 1, 1)
  run_id, num_runs = _runs(flat > hold * on)
  seeded = np.bincount(run_id.ravel(), weights=(flat > on).ravel(), minlength=num_runs + 1)
  lengths = np.bincount(run_id.ravel(), minlength=num_runs + 1)
  keep = (seeded > 0) & (lengths >= min_steps)
  keep[0] = False
  return keep[run_id].reshape(values.shape)


def _kept_runs(cols, colmax, on, hold, min_steps, rows):
  """The runs `decode_notes` keeps, labelled on the rows that can hold one.

  `cols` is `[n, pitch, time]` float64 (a canvas with time last), `colmax` its `[n, pitch]`
  maxima over time, `on` `[n]` thresholds; only the `(piece, pitch)` rows marked in `rows`
  `[n, pitch]` and reaching above `hold * on` are read (a row that never does holds no note).

  Returns:
    `(rows, piece, run_id, starts, lengths, keep)`: the rows read `[n, pitch]` bool, the
    piece of each `[r]`, their runs (`_row_runs`: `run_id` `[r * time]`, `starts`
    `[r, time]`), each run's length and whether it is kept, `[num_runs + 1]` (index 0, the
    inactive cells, is never kept).
  """
  level = hold * on
  rows = rows & (colmax > level[:, None])
  piece = np.nonzero(rows)[0]
  sub = cols[rows]                                   # [r, time]
  run_id, starts = _row_runs(sub > level[piece][:, None])
  num_runs = int(run_id.max(initial=0))
  lengths = np.bincount(run_id, minlength=num_runs + 1)
  seeded = np.bincount(run_id, weights=(sub > on[piece][:, None]).ravel(),
                       minlength=num_runs + 1)
  keep = (seeded > 0) & (lengths >= min_steps)
  keep[0] = False
  return rows, piece, run_id, starts, lengths, keep


def _kept_cells(cols, colmax, on, hold, min_steps, rows):
  """`[n]` cells `decode_notes` keeps in each piece, counted on the rows that can hold one
  (`_kept_runs`, its arguments)."""
  _, piece, _, starts, lengths, keep = _kept_runs(cols, colmax, on, hold, min_steps, rows)
  run_piece = piece[np.flatnonzero(starts.ravel()) // starts.shape[1]]
  return np.bincount(run_piece, weights=lengths[1:] * keep[1:], minlength=len(cols))


def _decode_rows(cols, colmax, on, hold, min_steps):
  """`decode_notes` of canvases given time-last, read only on the rows that can hold a note.

  `cols`, `colmax`, `on` as in `_kept_runs`. Returns `[n, time, pitch]` bool, equal to
  `decode_notes` of the same canvases, several times faster on sparse canvases.
  """
  rows, _, run_id, starts, _, keep = _kept_runs(cols, colmax, on, hold, min_steps,
                                                np.ones(colmax.shape, bool))
  out = np.zeros(cols.shape, bool)
  out[rows] = keep[run_id].reshape(starts.shape)
  return np.ascontiguousarray(np.moveaxis(out, 1, 2))


def decode_to_density(values, targets, hold=0.5, min_steps=2, iterations=30):
  """`decode_notes` with each piece's threshold set to give `targets[i]` active cells.

  The number of active cells `decode_notes` gives falls as `on` rises, and the cells a
  higher threshold keeps are a subset of those a lower one keeps (a run above `hold * on`
  lies inside a run above any lower `hold * on'`, with at least its seeds and length), so
  the threshold of each piece is found by bisection on `[0, max value]` (all pieces at
  once). The result has the active-cell count nearest to the target that a threshold can
  give (cells tie, and a held run comes or goes whole, so it may differ from the target by a
  few cells). A piece leaves the bisection as soon as a threshold gives its target exactly
  (by the subset property every threshold with that count keeps the same cells), and each
  step counts only the `(piece, pitch)` rows that reach above `hold * on`: the same rolls as
  decoding every cell at every step, several times faster.

  Args:
    values: `[n, time, pitch]` float canvases; not modified.
    targets: `[n]` wanted active cells per piece (e.g. `round(values.sum((1, 2)))`, the
      model's own expected count under its Bernoulli output).
    hold, min_steps: as in `decode_notes`.
    iterations: bisection steps (30 resolve the threshold to 1e-9 of the range).

  Returns:
    `(rolls, thresholds)`: `[n, time, pitch]` bool and `[n]` float64, a threshold that gives
    those rolls.
  """
  values = np.asarray(values, np.float64)
  if values.ndim != 3:
    raise ValueError(f"values must be [n, time, pitch], got shape {values.shape}")
  targets = np.broadcast_to(np.asarray(targets, np.float64), values.shape[:1])
  if np.any(targets < 0) or not np.all(np.isfinite(targets)):
    raise ValueError("targets must be finite and non-negative")
  if not 0 < hold <= 1:
    raise ValueError(f"hold must be in (0, 1], got {hold!r}")
  cols = np.ascontiguousarray(np.moveaxis(values, 1, 2))   # [n, pitch, time]
  colmax = cols.max(axis=2)
  low = np.zeros(len(values))                      # count(low) >= target (or low = 0)
  high = colmax.max(axis=1) + 1e-12                 # count(high) == 0 <= target
  open_ = np.ones(len(values), bool)
  for _ in range(iterations):
    if not open_.any():
      break
    mid = (low + high) / 2
    counts = _kept_cells(cols, colmax, mid, hold, min_steps, open_[:, None])
    too_many = open_ & (counts > targets)
    low = np.where(too_many, mid, low)
    high = np.where(open_ & ~too_many, mid, high)
    open_ &= counts != targets
  # Of the two ends, the count nearer the target (`high` never gives more than it).
  rolls_high = _decode_rows(cols, colmax, high, hold, min_steps)
  count_high = rolls_high.sum(axis=(1, 2))
  use_low = (count_high != targets) & (low > 0)
  if use_low.any():
    rolls_low = _decode_rows(cols[use_low], colmax[use_low], low[use_low], hold, min_steps)
    count_low = rolls_low.sum(axis=(1, 2))
    better = np.abs(count_low - targets[use_low]) < np.abs(count_high[use_low] - targets[use_low])
    which = np.flatnonzero(use_low)[better]
    rolls_high[which] = rolls_low[better]
    high[which] = low[which]
  return rolls_high, high


def expected_cells(canvases):
  """`[n]` the expected number of active cells of each `[time, pitch]` Bernoulli canvas."""
  return np.asarray(canvases, np.float64).sum(axis=(-2, -1))


def bridge_gaps(rolls, max_gap):
  """Joins two notes of one pitch across a short silence in which nothing else starts.

  A canvas whose value for a held pitch dips for a step or two gives the note twice, a
  re-strike the model did not write as one. A gap of at most `max_gap` silent steps
  between two notes of one pitch is filled when no other pitch has a note starting inside
  the gap or on the step where the second note starts; a re-strike with anything else
  happening around it (a repeated chord, a melody note between) is kept.

  Args:
    rolls: `[n, time, pitch]` bool; not modified.
    max_gap: longest gap filled, in steps (0: nothing filled).

  Returns:
    `[n, time, pitch]` bool.
  """
  rolls = np.asarray(rolls, bool)
  if rolls.ndim != 3:
    raise ValueError(f"rolls must be [n, time, pitch], got shape {rolls.shape}")
  if isinstance(max_gap, bool) or int(max_gap) != max_gap or max_gap < 0:
    raise ValueError(f"max_gap must be a non-negative integer, got {max_gap!r}")
  if max_gap == 0:
    return rolls.copy()
  n, steps, pitches = rolls.shape
  onsets = note_starts(rolls)
  # started[:, t] = note starts (any pitch) at steps < t.
  started = np.concatenate([np.zeros((n, 1), np.int64), np.cumsum(onsets.sum(2), 1)], 1)
  # Step indices in the narrowest integer type that holds -1..steps (the arrays below are
  # [n, time, pitch]: int16 instead of int64 makes them a quarter of the memory traffic).
  step_type = np.int16 if steps < np.iinfo(np.int16).max else np.int64
  t = np.arange(steps, dtype=step_type)[None, :, None]
  last_on = np.maximum.accumulate(np.where(rolls, t, step_type(-1)), axis=1)  # active at/before
  next_on = np.flip(np.minimum.accumulate(np.flip(np.where(rolls, t, step_type(steps)), 1),
                                          axis=1), 1)
  first, resume = last_on + 1, next_on                                      # gap [first, resume)
  gap = ~rolls & (last_on >= 0) & (next_on < steps) & (resume - first <= max_gap)
  # Note starts in [first, resume], less the resuming note's own (read on gap cells only).
  piece, step, pitch = np.nonzero(gap)
  others = (started[piece, np.minimum(resume[piece, step, pitch], steps - 1) + 1]
            - started[piece, np.minimum(first[piece, step, pitch], steps)] - 1)
  out = rolls.copy()
  out[piece[others == 0], step[others == 0], pitch[others == 0]] = True
  return out


def density_targets(expected, model_expected, corpus_cells):
  """Active-cell targets that follow the corpus's density, ranked as the model ranks them.

  Quantile mapping: a piece whose expected number of active cells (`expected_cells`) is at
  quantile q of the model's own expected counts (`model_expected`, from a reference draw of
  the model) gets the corpus's quantile q of active cells per chunk. The model decides which
  pieces are dense; the corpus decides how dense that is. (The model's expected counts
  alone ran lower and wider than the corpus's in the models we trained.)

  Args:
    expected: `[n]` expected active cells of the pieces to decode.
    model_expected: `[m]` expected active cells of a reference draw of the same model.
    corpus_cells: `[k]` active cells of each corpus chunk.

  Returns:
    `[n]` float64 targets, rounded to whole cells.
  """
  return np.round(quantile_map(expected, model_expected, corpus_cells, "density_targets"))


def quantile_map(values, reference, corpus, name="quantile_map"):
  """`[n]` the corpus's quantile q of each value, q its mid-rank quantile among `reference`.

  The corpus's values are spread as the corpus spreads them, ranked as `reference` (a
  reference draw of the model) ranks `values`: a value at quantile q of the reference gets
  `np.quantile(corpus, q)`, with q the mid-rank `(rank + 0.5) / (len(reference) + 1)` (ties
  share their middle rank), in (0, 1).
  """
  reference = np.sort(np.asarray(reference, np.float64))
  corpus = np.asarray(corpus, np.float64)
  if reference.size == 0 or corpus.size == 0:
    raise ValueError(f"{name} needs a reference draw and corpus chunks")
  values = np.asarray(values, np.float64)
  rank = (np.searchsorted(reference, values, "left")
          + np.searchsorted(reference, values, "right")) / 2
  return np.quantile(corpus, (rank + 0.5) / (reference.size + 1))


# Note lengths that follow the corpus: one hold level for every piece gives every piece about
# the same mean note length, where a piano corpus has slow chunks of long notes beside fast
# runs. Holding each piece's notes at the level that gives it the corpus's length of the same
# rank spreads them as the corpus spreads them.

# The hold levels `to_rolls` chooses from with `length_targets`, from long notes to short.
DURATION_HOLDS = (0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.85, 1.0)
# Threads that decode the hold levels (`to_rolls` with `length_targets`).
DECODE_THREADS = 2


def mean_note_steps(rolls):
  """`[n]` the mean length in steps of each piece's notes: active cells / notes (0: none).

  A note is a run of active cells of one pitch (`note_starts`), so this is the symbolic
  features' `duration_mean` of the piece (`features.py`), without their degenerate cases.
  """
  rolls = np.asarray(rolls, bool)
  notes = note_starts(rolls).sum(axis=(1, 2))
  return rolls.sum(axis=(1, 2)) / np.maximum(notes, 1)


def length_targets(evidence, model_evidence, corpus_lengths):
  """Mean note lengths that follow the corpus's, ranked as the model ranks its pieces.

  `quantile_map` of each piece's mean note length at the config's fixed `hold`
  (`evidence`, `mean_note_steps`) among the same of a reference draw of the model
  (`model_evidence`) onto the corpus chunks' mean note lengths (`corpus_lengths`).
  """
  return quantile_map(evidence, model_evidence, corpus_lengths, "length_targets")


def choose_lengths(candidates, targets):
  """Per piece, the candidate decoding whose mean note length is nearest its target.

  Args:
    candidates: `[k, n, time, pitch]` bool, k decodings of the same n pieces (as many hold
      levels).
    targets: `[n]` wanted mean note lengths in steps.

  Returns:
    `(rolls, choice)`: `[n, time, pitch]` bool and `[n]` int, the candidate each piece took:
    the one nearest in ratio, `|log(length / target)|` (lengths and targets below half a
    step count as half a step, so a silent candidate has a finite distance); ties go to the
    first.
  """
  candidates = np.asarray(candidates, bool)
  if candidates.ndim != 4 or len(candidates) == 0:
    raise ValueError(f"candidates must be [k >= 1, n, time, pitch], got shape "
                     f"{candidates.shape}")
  targets = np.asarray(targets, np.float64)
  if targets.shape != candidates.shape[1:2]:
    raise ValueError(f"targets must be [{candidates.shape[1]}], got shape {targets.shape}")
  lengths = np.stack([mean_note_steps(c) for c in candidates])          # [k, n]
  gap = np.abs(np.log(np.maximum(lengths, 0.5)) - np.log(np.maximum(targets, 0.5)))
  choice = np.argmin(gap, axis=0)
  return candidates[choice, np.arange(candidates.shape[1])], choice


# Onsets off the sixteenth grid: the note decoder writes on a grid of two steps (32nd notes
# at 8 steps a beat), where a piano corpus has a share of its onsets on odd steps (triplets,
# 32nd runs, ornaments; about a third of Beethoven's chunks have some). The moves below put
# onsets there where the canvas rises a step off the grid, as many as the corpus has.


def onset_steps(rolls):
  """`[n, time]` bool: the steps of each piece where at least one note starts."""
  return note_starts(rolls).any(axis=2)


def odd_onset_shares(rolls):
  """`[n]` share of each piece's onset steps (`onset_steps`) that are odd (0 without any)."""
  steps = onset_steps(rolls)
  return steps[:, 1::2].sum(axis=1) / np.maximum(steps.sum(axis=1), 1)


def _odd_moves(rolls, values):
  """The one-step moves of each even onset step, and the canvas's evidence for them.

  An onset step's notes (those of its pitches that start there) move together, so a chord
  stays a chord: one step later (`late`; the notes lose their first step, so each must be at
  least two steps long) or one step earlier (each note gains a step; the cell two steps
  before must be silent, or the note would join the one before). The evidence for a move is
  the mean, over the moved notes, of the canvas's rise at the new onset: `v[t+1] - v[t]`
  late, `v[t-1] - v[t-2]` early (`v[-1] = 0`); of the two, the move with more evidence.

  Returns:
    `(evidence, late)`: `[n, time]` float64, `-inf` where no move is possible, and `[n, time]`
    bool, True where the move is one step later.
  """
  rolls = np.asarray(rolls, bool)
  values = np.asarray(values, np.float64)
  n, steps, pitches = rolls.shape
  starts = note_starts(rolls)
  starts[:, 1::2] = False                              # only onsets on the grid move
  count = starts.sum(axis=2)
  pad_v = np.concatenate([np.zeros((n, 2, pitches)), values, np.zeros((n, 1, pitches))], 1)
  pad_r = np.concatenate([np.zeros((n, 2, pitches), bool), rolls,
                          np.zeros((n, 1, pitches), bool)], 1)
  v_next, v_prev, v_prev2 = pad_v[:, 3:], pad_v[:, 1:-2], pad_v[:, :-3]

  def mean(rise):
    return (rise * starts).sum(axis=2) / np.maximum(count, 1)

  late_ok = count > 0
  late_ok &= ~(starts & ~pad_r[:, 3:]).any(axis=2)     # every note at least two steps long
  early_ok = (count > 0) & (np.arange(steps) >= 1)[None, :]
  early_ok &= ~(starts & pad_r[:, :-3]).any(axis=2)    # two steps before: silent
  late = np.where(late_ok, mean(v_next - values), -np.inf)
  early = np.where(early_ok, mean(v_prev - v_prev2), -np.inf)
  return np.maximum(late, early), late >= early


def odd_onset_evidence(rolls, values):
  """`[n]` share of each piece's movable onset steps whose best move has positive evidence:
  how much the model's canvas itself leans off the grid (`_odd_moves`)."""
  evidence, _ = _odd_moves(rolls, values)
  movable = np.isfinite(evidence)
  return (evidence > 0).sum(axis=1) / np.maximum(movable.sum(axis=1), 1)


def place_odd_onsets(rolls, values, shares):
  """Moves onset steps one step off the grid, `round(shares[i] * onset steps)` in piece i.

  The onset steps with the most evidence (`_odd_moves`) move, their notes together; a piece
  with fewer movable onset steps moves them all. `shares` come from the corpus
  (`odd_onset_targets`), so the corpus decides how many and the canvas which.

  Args:
    rolls: `[n, time, pitch]` bool, notes on an even grid (`to_rolls` with `grid_steps` 2).
    values: `[n, time, pitch]` the canvases they were decoded from.
    shares: `[n]` wanted share of odd onset steps, in [0, 1].

  Returns:
    `[n, time, pitch]` bool.
  """
  rolls = np.asarray(rolls, bool)
  if rolls.ndim != 3 or np.shape(values) != rolls.shape:
    raise ValueError(f"rolls and values must both be [n, time, pitch], got {rolls.shape} and "
                     f"{np.shape(values)}")
  shares = np.broadcast_to(np.asarray(shares, np.float64), rolls.shape[:1])
  if np.any(~np.isfinite(shares)) or np.any(shares < 0) or np.any(shares > 1):
    raise ValueError("shares must be in [0, 1]")
  evidence, late = _odd_moves(rolls, values)
  starts = note_starts(rolls)
  wanted = np.round(shares * starts.any(axis=2).sum(axis=1)).astype(np.int64)
  # Rank of each step's evidence within its piece (0 = most); stable, so ties go by time.
  order = np.argsort(-evidence, axis=1, kind="stable")
  rank = np.empty_like(order)
  np.put_along_axis(rank, order, np.arange(rolls.shape[1])[None, :], axis=1)
  move = np.isfinite(evidence) & (rank < wanted[:, None])
  moved = starts & move[:, :, None]
  out = rolls.copy()
  out[moved & late[:, :, None]] = False                 # late: the first step goes
  early = moved & ~late[:, :, None]
  out[:, :-1][early[:, 1:]] = True                      # early: the step before comes
  return out


def odd_onset_targets(evidence, model_evidence, corpus_shares):
  """`[n]` shares of odd onset steps that follow the corpus, ranked as the model ranks its
  pieces by `odd_onset_evidence` (`quantile_map`)."""
  return quantile_map(evidence, model_evidence, corpus_shares, "odd_onset_targets")


def pitch_peaks(values):
  """Canvases with every cell that is not a peak along pitch set to 0.

  A cell is a peak when its value is at least that of the semitone below and more than that
  of the semitone above, at the same time step (of two equal neighbours the upper one is
  kept). A Bernoulli canvas unsure whether a note is C or C sharp puts probability on both,
  and thresholding then sounds both: a semitone cluster. Piano rolls of real music almost
  never sound two neighbouring semitones at once: 0.16% to 0.54% of the active cells of the
  chunks of the five shared corpora (Beethoven, Chopin, Mozart, Schubert piano pieces, jazz
  solos) have an active semitone neighbour, where 9.5% of those of 500 pieces of a 30-minute
  writer model (seed 0) decoded without it had, in 88% of the pieces, and 2.2% of those
  decoded with it (`benchmarks/bench_profiles.py`, BENCHMARKS.md). Only the stronger of the
  two stays in the canvas, so the piece's density target goes to notes of its own
  elsewhere; the decoder's grid (the larger of two steps), hysteresis, bridging and moved
  onsets can still put two neighbours on together, which is why a few remain.

  Args:
    values: `[..., time, pitch]` float canvases; not modified.

  Returns:
    `[..., time, pitch]` float64, the values of the peaks and 0 elsewhere.
  """
  values = np.asarray(values, np.float64)
  if values.ndim < 2:
    raise ValueError(f"values must be [..., time, pitch], got shape {values.shape}")
  below = np.zeros_like(values)
  below[..., 1:] = values[..., :-1]
  above = np.zeros_like(values)
  above[..., :-1] = values[..., 1:]
  return np.where((values >= below) & (values > above), values, 0.0)


def to_rolls(canvases, decoder="paper", alpha=0.25, hold=0.5, min_note_steps=2,
             bridge_steps=0, targets=None, grid_steps=1, length_targets=None,
             holds=DURATION_HOLDS, peaks=False):
  """Pieces from final canvases, by the paper's post-processing or the note decoder.

  Args:
    canvases: `[n, time, pitch]` float canvases (`sigmoid(c[num_steps])`).
    decoder: 'paper' (`binarize` at `alpha`) or 'notes' (`decode_to_density` with each
      piece's target the model's expected number of active cells, `expected_cells`).
    alpha: the paper's threshold (only 'paper').
    hold, min_note_steps: the note decoder's (only 'notes').
    bridge_steps: the note decoder then joins re-struck notes across gaps of at most this
      many steps (`bridge_gaps`; only 'notes').
    targets: `[n]` active cells per piece for the note decoder (e.g. `density_targets`);
      None: the model's own expectation, `round(expected_cells)`.
    grid_steps: the note decoder writes notes on a grid of this many steps (2: sixteenth
      notes, the grid most of a piano corpus's onsets lie on): each cell of the coarse grid
      takes the largest value of its steps, notes are decoded there (`min_note_steps`,
      `bridge_steps` and the targets divided by the grid, rounded up, down and to nearest)
      and spread back over the steps. The time axis must be a multiple of it.
    length_targets: `[n]` mean note lengths in steps (e.g. `length_targets`): each piece is
      decoded at every level of `holds` (in place of `hold`) and keeps the one whose mean
      note length is nearest its target (`choose_lengths`); None: every piece at `hold`.
    holds: the hold levels `length_targets` chooses from.
    peaks: the note decoder reads only the canvas's peaks along pitch (`pitch_peaks`): of
      two neighbouring semitones at one step, the less likely is read as 0.

  Returns:
    `[n, time, pitch]` bool.
  """
  if decoder == "paper":
    return binarize(canvases, alpha)
  if decoder == "notes":
    if length_targets is None:
      return note_candidates(canvases, (hold,), min_note_steps, bridge_steps, targets,
                             grid_steps, peaks)[0]
    return choose_lengths(note_candidates(canvases, holds, min_note_steps, bridge_steps,
                                          targets, grid_steps, peaks), length_targets)[0]
  raise ValueError(f"decoder must be one of {DECODERS}, got {decoder!r}")


def note_candidates(canvases, holds, min_note_steps=2, bridge_steps=0, targets=None,
                    grid_steps=1, peaks=False):
  """`[len(holds), n, time, pitch]` bool: the note decoder's pieces at each hold level.

  The note decoder of `to_rolls` (its arguments), once per level of `holds`. The levels
  decode independently and numpy releases the GIL in the heavy steps, so they run on
  `DECODE_THREADS` threads: the same rolls sooner.
  """
  values = np.asarray(canvases, np.float64)
  if targets is None:
    targets = np.round(expected_cells(values))
  if peaks:
    values = pitch_peaks(values)
  g = int(grid_steps)
  if g < 1 or values.shape[-2] % g:
    raise ValueError(f"grid_steps must be a positive divisor of the {values.shape[-2]} "
                     f"time steps, got {grid_steps!r}")
  if not holds:
    raise ValueError("holds must name at least one hold level")
  n, steps, pitches = values.shape
  coarse = values.reshape(n, steps // g, g, pitches).max(axis=2)
  coarse_targets = np.round(np.asarray(targets, np.float64) / g)

  def decode(level):
    rolls = decode_to_density(coarse, coarse_targets, level, -(-min_note_steps // g))[0]
    return np.repeat(bridge_gaps(rolls, bridge_steps // g), g, axis=1)

  if len(holds) == 1:
    return decode(holds[0])[None]
  with concurrent.futures.ThreadPoolExecutor(min(DECODE_THREADS, len(holds))) as pool:
    return np.stack(list(pool.map(decode, holds)))
