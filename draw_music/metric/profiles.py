"""Profiles of a set of pieces: pooled histograms that are not the signature's features.

A second opinion on generated music, beside the set-level judgement of the signatures
(`set_measures`): each profile is one histogram pooled over every piece of a set, and two
sets are compared by the total variation distance between their profiles,
`0.5 * sum |p - q|` (0: the same histogram; 1: no bin in common). A set tuned to the
signature's statistics per chunk (means, extremes, spreads) can still get these wrong, and
the other way round. Notes are those of `features.py` (a maximal run of active steps of one
pitch), in its (onset, pitch) order; a beat is `steps_per_beat` steps and a chunk starts on
a beat.

  pitch_class     notes by pitch class (pitch mod 12), 12 bins: pitch content (not
                  transposed to one key: a corpus in many keys has a flat-ish profile, a
                  set stuck in one key does not)
  register        notes by octave (pitch // 12), 11 bins
  polyphony       steps by number of pitches on: 0, 1, ..., 7, 8 or more (9 bins)
  onset_position  notes by step of the beat where they start (`steps_per_beat` bins): the
                  rhythm on the beat grid
  interval        consecutive notes by |pitch difference|: 0, 1, ..., 12, 13 or more (14 bins)
  note_length     notes by length in steps: 1, 2, ..., 16, 17 or more (17 bins)
  chord_size      onset times by number of notes starting there: 1, ..., 5, 6 or more (6 bins)

`calibrate` gives the yardstick: the distance between two piece-level halves of the corpus
(`set_measures.split_by_piece`), over several random splits. Each half holds about half the
pieces, so its profile is noisier than the corpus's whole: a set whose distance to the
corpus is within the halves' largest is as near to the corpus as one half of it is to the
other, a loose test on the side of "same" (as `set_measures.calibrate` says of its bounds).
"""

from __future__ import annotations

import numpy as np

from draw_music.metric import features
from draw_music.metric import set_measures

PROFILE_NAMES = ("pitch_class", "register", "polyphony", "onset_position", "interval",
                 "note_length", "chord_size")
STEPS_PER_BEAT = 8
_POLYPHONY_BINS = 9
_INTERVAL_BINS = 14
_LENGTH_BINS = 17
_CHORD_BINS = 6


def _counts(rolls, steps_per_beat):
  """Unnormalised histograms of one `[m, T, 128]` block (`features._block_notes`)."""
  m, length, _ = rolls.shape
  notes = features._block_notes(rolls)  # pylint: disable=protected-access
  piece, time, pitch = notes["piece"], notes["time"], notes["pitch"]
  same_piece = piece[1:] == piece[:-1]
  interval = np.abs(np.diff(pitch))[same_piece]
  onset_key = piece * length + time                  # non-decreasing: notes by onset
  _, chord = np.unique(onset_key, return_counts=True)
  return {
      "pitch_class": np.bincount(pitch % 12, minlength=12),
      "register": np.bincount(pitch // 12, minlength=11),
      "polyphony": np.bincount(np.minimum(notes["active_per_step"].ravel(),
                                          _POLYPHONY_BINS - 1), minlength=_POLYPHONY_BINS),
      "onset_position": np.bincount(time % steps_per_beat, minlength=steps_per_beat),
      "interval": np.bincount(np.minimum(interval, _INTERVAL_BINS - 1),
                              minlength=_INTERVAL_BINS),
      "note_length": np.bincount(np.minimum(notes["duration"].astype(np.int64),
                                            _LENGTH_BINS) - 1, minlength=_LENGTH_BINS),
      "chord_size": np.bincount(np.minimum(chord, _CHORD_BINS) - 1, minlength=_CHORD_BINS),
  }


def profiles(rolls, steps_per_beat=STEPS_PER_BEAT):
  """The profiles of a set of pieces, each pooled over all of them.

  Args:
    rolls: `[n, T, 128]` piano rolls (bool, or numeric: a cell is on where non-zero).
    steps_per_beat: steps of a beat, for `onset_position`.

  Returns:
    dict name (`PROFILE_NAMES`) -> float64 histogram summing to 1 (all zeros where the set
    has nothing to count, e.g. no interval in a set of one-note pieces).
  """
  rolls = np.asarray(rolls)
  if rolls.ndim != 3 or rolls.shape[2] != features.NUM_PITCHES:
    raise ValueError(f"rolls must have shape [n, T, {features.NUM_PITCHES}], got "
                     f"{rolls.shape}")
  if isinstance(steps_per_beat, bool) or int(steps_per_beat) != steps_per_beat \
      or steps_per_beat < 1:
    raise ValueError(f"steps_per_beat must be a positive integer, got {steps_per_beat!r}")
  steps_per_beat = int(steps_per_beat)
  total = None
  # Blocks of pieces bound the memory of the note arrays, as `features.signatures` does.
  per_block = features.pieces_per_block(max(1, rolls.shape[1]))
  for start in range(0, len(rolls), per_block):
    counts = _counts(np.ascontiguousarray(rolls[start:start + per_block]) != 0,
                     steps_per_beat)
    total = counts if total is None else {k: total[k] + counts[k] for k in total}
  if total is None:
    raise ValueError("rolls must hold at least one piece")
  return {k: v / v.sum() if v.sum() else v.astype(np.float64) for k, v in total.items()}


def total_variation(p, q):
  """`0.5 * sum |p - q|` of two histograms of the same bins (each summing to 1)."""
  p, q = np.asarray(p, np.float64), np.asarray(q, np.float64)
  if p.shape != q.shape:
    raise ValueError(f"histograms must have the same bins, got {p.shape} and {q.shape}")
  return 0.5 * float(np.abs(p - q).sum())


def distances(profiles_a, profiles_b):
  """dict name -> total variation distance between two sets' profiles (`profiles`)."""
  return {k: total_variation(profiles_a[k], profiles_b[k]) for k in PROFILE_NAMES}


def semitone_clusters(rolls):
  """How often a set sounds two neighbouring semitones at once.

  Returns:
    `(cells, pieces)`: the share of the set's active cells that have an active semitone
    neighbour at the same step, and the share of its pieces that have at least one such
    cell (0 and 0 for a silent set).
  """
  rolls = np.asarray(rolls) != 0
  if rolls.ndim != 3 or rolls.shape[2] != features.NUM_PITCHES:
    raise ValueError(f"rolls must have shape [n, T, {features.NUM_PITCHES}], got "
                     f"{rolls.shape}")
  pairs = rolls[..., 1:] & rolls[..., :-1]
  clustered = np.zeros_like(rolls)
  clustered[..., 1:] |= pairs
  clustered[..., :-1] |= pairs
  active = rolls.sum()
  return (float(clustered.sum() / active) if active else 0.0,
          float(clustered.any(axis=(1, 2)).mean()) if len(rolls) else 0.0)


def nearest_overlap(rolls, chunks, roll_pieces=None, chunk_pieces=None):
  """How near each roll comes to copying one of `chunks`: its largest overlap with any of
  them, the Jaccard index of active cells (cells active in both over cells active in
  either; 0 where both are silent).

  `roll_pieces` and `chunk_pieces` (`[n]` and `[m]` piece ids, given together) leave out
  the chunks of a roll's own piece: the corpus's chunks against the rest of the corpus give
  how much unrelated chunks of real music share, the scale to read a generator's against.

  Returns:
    `[n]` float64 in [0, 1] (1: a roll is one of the chunks, cell for cell).
  """
  rolls, chunks = np.asarray(rolls) != 0, np.asarray(chunks) != 0
  for name, x in (("rolls", rolls), ("chunks", chunks)):
    if x.ndim != 3 or x.shape[2] != features.NUM_PITCHES:
      raise ValueError(f"{name} must have shape [n, T, {features.NUM_PITCHES}], got "
                       f"{x.shape}")
  if rolls.shape[1] != chunks.shape[1]:
    raise ValueError(f"rolls and chunks must have the same length, got {rolls.shape[1]} "
                     f"and {chunks.shape[1]} steps")
  if (roll_pieces is None) != (chunk_pieces is None):
    raise ValueError("roll_pieces and chunk_pieces go together")
  a = rolls.reshape(len(rolls), -1).astype(np.float32)
  b = chunks.reshape(len(chunks), -1).astype(np.float32)
  both = (a @ b.T).astype(np.float64)  # exact: counts far below 2**24
  either = a.sum(1)[:, None] + b.sum(1)[None, :] - both
  overlap = np.where(either > 0, both / np.maximum(either, 1), 0.0)
  if roll_pieces is not None:
    overlap[np.asarray(roll_pieces)[:, None] == np.asarray(chunk_pieces)[None, :]] = 0.0
  return overlap.max(axis=1) if len(chunks) else np.zeros(len(rolls))


def calibrate(rolls, piece_index, num_splits=10, seed=0, steps_per_beat=STEPS_PER_BEAT):
  """How far apart two piece-level halves of a corpus are, profile by profile.

  Args:
    rolls: `[n, T, 128]` the corpus's chunks.
    piece_index: `[n]` int, the piece of each chunk; at least two distinct pieces.
    num_splits: random splits (`set_measures.split_by_piece`), >= 1.
    seed: seed of the splits.
    steps_per_beat: as in `profiles`.

  Returns:
    dict name -> `[num_splits]` float64 distances between the halves of each split.
  """
  rolls = np.asarray(rolls)
  piece_index = np.asarray(piece_index)
  if piece_index.shape != rolls.shape[:1]:
    raise ValueError(f"piece_index must have shape [{rolls.shape[0]}], got "
                     f"{piece_index.shape}")
  if isinstance(num_splits, bool) or int(num_splits) != num_splits or num_splits < 1:
    raise ValueError(f"num_splits must be a positive integer, got {num_splits!r}")
  rng = np.random.default_rng(seed)
  out = {k: [] for k in PROFILE_NAMES}
  for _ in range(int(num_splits)):
    mask = set_measures.split_by_piece(piece_index, rng)
    d = distances(profiles(rolls[mask], steps_per_beat), profiles(rolls[~mask], steps_per_beat))
    for k in PROFILE_NAMES:
      out[k].append(d[k])
  return {k: np.asarray(v) for k, v in out.items()}


def compare(reference_profiles, other_rolls, calibration, steps_per_beat=STEPS_PER_BEAT):
  """A set's profiles against a corpus's, each beside the corpus halves' spread.

  Args:
    reference_profiles: `profiles` of the corpus.
    other_rolls: `[m, T, 128]` the set to judge (e.g. generated pieces).
    calibration: `calibrate` of the same corpus.
    steps_per_beat: as in `profiles`.

  Returns:
    dict name -> dict with `distance` (to the corpus), `halves_median`, `halves_max` (the
    corpus halves' distances) and `within` (`distance <= halves_max`).
  """
  d = distances(profiles(other_rolls, steps_per_beat), reference_profiles)
  return {k: {"distance": d[k], "halves_median": float(np.median(calibration[k])),
              "halves_max": float(np.max(calibration[k])),
              "within": bool(d[k] <= np.max(calibration[k]))} for k in PROFILE_NAMES}
