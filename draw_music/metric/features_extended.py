"""The `extended` signature: the paper's features plus pitch content, metre and texture.

The 17 features of `features.py` see density, range, intervals and durations; what tells
composers apart is also which pitch classes they use, where notes fall in the beat, and how
many sound at once. This module computes 44 `candidates` (the 17 without `occupation_rate`,
which is `notes_per_step * duration_mean`, plus the 28 below) and the `extended` set keeps
the 25 of them that separate composers (see "Selection"). Notes, their (onset, pitch) order
and their intervals are those of `features.py`; a step is 1/8 beat, so a beat is
`STEPS_PER_BEAT` = 8 steps, and a chunk starts on a beat (104 steps = 13 beats). The bar is
not used: a 13-beat chunk starts anywhere in a bar and does not know its metre.

Pitch content, key-free (a transposed roll has the same values):
  pc_entropy         entropy of the notes' pitch-class distribution (bits / log2 12, in [0, 1])
  pc_top3            share of notes on the three most used pitch classes (the first three
                     entries of the sorted pitch-class profile)
  scale_consistency  largest share of notes inside one diatonic set (the 7 pitch classes of
                     a major scale, over its 12 transpositions; MusPy's definition)
  key_clarity        largest Pearson correlation of the pitch-class profile with the 24
                     Krumhansl-Kessler key profiles (the Krumhansl-Schmuckler key estimate)
  minor_mode         1 when that key is minor
  tonic_share        share of notes on that key's tonic
  out_of_key         share of notes outside that key's scale (major; or natural minor plus
                     the raised 7th)
  ic_unison, ic_semitone, ic_tone, ic_third, ic_fourth, ic_tritone
                     share of intervals (consecutive notes) whose interval class
                     `min(i mod 12, 12 - i mod 12)` is 0, 1, 2, 3 or 4, 5, 6
Metre:
  onset_on_beat, onset_offbeat, onset_odd
                     share of notes starting on a beat (step mod 8 = 0), half-way (4), on an
                     odd step (1, 3, 5, 7: 32nds and quantised triplets)
  ioi_mean, ioi_std  mean and std (steps) of the gaps between consecutive distinct onset times
  groove_consistency 1 - mean Hamming distance / 8 between the onset patterns (which of the
                     8 positions hold an onset) of consecutive whole beats (MusPy's, per beat)
  beat_onsets_std    std over whole beats of the number of notes starting in the beat
Texture:
  chord_size         notes per distinct onset time (1 for a melody)
  sounding_mean      pitches on per sounding step (MusPy's polyphony)
  polyphony_rate     share of steps with at least 2 pitches on (not MusPy's "more than 2")
  empty_beat_rate    share of whole beats with no pitch on (the empty ones, not
                     pypianoroll's inverted count)
  bass_mean, top_mean, spread_mean
                     lowest pitch, highest pitch, and their difference, averaged over
                     sounding steps, / 127
  top_step_rate      share of consecutive onset times whose top notes (highest pitch starting
                     there) move by at most 2 semitones

Undefined cases are values, never NaN: with no note every feature is 0 except
`groove_consistency` (1: consecutive beats are equally empty) and `empty_beat_rate` (1);
a feature over intervals, inter-onset intervals or a key is 0 when there is none (one note;
one onset time; a flat pitch-class profile); `groove_consistency` is 1 with fewer than two
whole beats, `empty_beat_rate` and `beat_onsets_std` 0 with none (T < 8).

Selection. Each candidate's separation was measured on the shared composers (Beethoven,
Chopin, Mozart, Schubert piano pieces, and music21's first 60 Bach chorales): for each of
the 10 pairs, the Welch t statistic between the two composers' per-piece means of the
feature (pieces, not chunks, are the independent units), and its median over the pairs.
`extended` keeps the 25 candidates whose median |t| is at least 2 (`feature_separation` in
the JSON of `python -m experiments.composer_separation --corpora
../shared/data/beethoven_piano,../shared/data/other,../shared/data/mozart_piano,
../shared/data/schubert_piano --bundled bach:60`). Dropped as noise there (median |t|):
the metre features but `onset_odd` (2.94): `ioi_mean` 1.97, `beat_onsets_std` 1.92,
`onset_on_beat` 1.88, `ioi_std` 1.78, `groove_consistency` 1.70, `onset_offbeat` 1.22,
`empty_beat_rate` 1.00; `ic_tone` 1.97, `minor_mode` 1.75, `bass_mean` 1.12, `ic_tritone`
0.54, `top_step_rate` 0.52; and from the 17 `notes_per_step` 1.94, `interval_mean` 1.90,
`pitch_mean` 1.79, `interval_mode` 1.64, `duration_std` 1.56, `distinct_intervals` 1.05,
`pitch_max` 0.69. They do add noise: with all 44 `candidates`, Beethoven against Schubert
gets p = 0.048 in the piece-level test, with the 25 of `extended` p = 0.006 (README,
"Telling composers apart"). They stay in `candidates`.

Everything is computed on a batch `[n, T, 128]` at once from `features._block_notes` (one
pass over the active cells, shared with the 17 features): per-piece statistics are
`np.bincount` segment sums; no Python loop over notes or pieces.
"""

from __future__ import annotations

import numpy as np

from draw_music.metric import features

STEPS_PER_BEAT = 8
_LOG2_12 = np.log2(12.0)
# Pitch classes of the C major scale; its 12 transpositions are the diatonic scales.
_MAJOR = np.array([0, 2, 4, 5, 7, 9, 11])

EXTRA_NAMES = features.EXTRA_NAMES
CANDIDATE_NAMES = features.CANDIDATE_NAMES
EXTENDED_NAMES = features.EXTENDED_NAMES
# Columns of the 17 that the candidates keep (all but occupation_rate).
_BASE_COLUMNS = np.array([features.FEATURE_NAMES.index(n)
                          for n in CANDIDATE_NAMES[:len(CANDIDATE_NAMES) - len(EXTRA_NAMES)]])


def _scale_masks():
  """`[12, 12]` 0/1: row r holds the pitch classes of the major scale on r."""
  masks = np.zeros((12, 12))
  for r in range(12):
    masks[r, (_MAJOR + r) % 12] = 1.0
  return masks


_SCALES = _scale_masks()
# Krumhansl-Kessler key profiles (Krumhansl 1990), tonic first.
_KK_MAJOR = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
_KK_MINOR = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])
# Pitch classes of the natural minor scale on 0.
_MINOR = np.array([0, 2, 3, 5, 7, 8, 10])


def _key_templates():
  """`[24, 12]` z-scored key profiles (12 major keys on 0..11, then 12 minor) and `[24, 12]`
  0/1 scale masks (the major scale, or the natural minor scale plus its raised 7th)."""
  profiles = np.zeros((24, 12))
  masks = np.zeros((24, 12))
  for r in range(12):
    profiles[r] = np.roll(_KK_MAJOR, r)
    profiles[12 + r] = np.roll(_KK_MINOR, r)
    masks[r, (_MAJOR + r) % 12] = 1.0
    masks[12 + r, (np.r_[_MINOR, 11] + r) % 12] = 1.0
  profiles = (profiles - profiles.mean(axis=1, keepdims=True)) / profiles.std(axis=1,
                                                                            keepdims=True)
  return profiles, masks


_KEY_PROFILES, _KEY_MASKS = _key_templates()


def _safe_div(a, b):
  """`a / b` where `b > 0`, else 0."""
  b = np.asarray(b, np.float64)
  return np.where(b > 0, a / np.where(b > 0, b, 1.0), 0.0)


def extra_features(rolls, notes):
  """The `EXTRA_NAMES` features of a `[m, T, 128]` block, `[m, len(EXTRA_NAMES)]` float64.

  Args:
    rolls: `[m, T, 128]` block (only its shape is read).
    notes: `features._block_notes(rolls)`.
  """
  m, length, _ = rolls.shape
  piece, time, pitch = notes["piece"], notes["time"], notes["pitch"]
  num_notes = notes["num_notes"].astype(np.float64)
  active = notes["active_per_step"]
  out = np.zeros((m, len(EXTRA_NAMES)))
  col = {name: j for j, name in enumerate(EXTRA_NAMES)}

  # Pitch-class profile [m, 12] (note counts).
  pcs = np.bincount(piece * 12 + pitch % 12, minlength=m * 12).reshape(m, 12).astype(float)
  share = _safe_div(pcs, num_notes[:, None])
  logs = np.log2(np.where(share > 0, share, 1.0))
  out[:, col["pc_entropy"]] = -(share * logs).sum(axis=1) / _LOG2_12
  out[:, col["pc_top3"]] = -np.sort(-share, axis=1)[:, :3].sum(axis=1)
  out[:, col["scale_consistency"]] = (share @ _SCALES.T).max(axis=1)
  # Key: the Krumhansl-Schmuckler estimate (largest Pearson correlation of the profile with
  # the 24 key profiles; the first key on a tie); a flat or empty profile has no key.
  centred = share - share.mean(axis=1, keepdims=True)
  norm = np.sqrt((centred ** 2).sum(axis=1))
  corr = _safe_div(centred @ _KEY_PROFILES.T, norm[:, None] * np.sqrt(12.0))
  key = np.argmax(corr, axis=1)
  has_key = norm > 0
  out[:, col["key_clarity"]] = np.where(has_key, corr.max(axis=1), 0.0)
  out[:, col["minor_mode"]] = (has_key & (key >= 12)).astype(np.float64)
  tonic = key % 12
  out[:, col["tonic_share"]] = np.where(has_key, share[np.arange(m), tonic], 0.0)
  in_key = (share * _KEY_MASKS[key]).sum(axis=1)
  out[:, col["out_of_key"]] = np.where(has_key, 1.0 - in_key, 0.0)

  # Interval classes of consecutive notes (in (onset, pitch) order, within a piece).
  same = piece[1:] == piece[:-1]
  interval = np.abs(np.diff(pitch))[same] % 12
  ic = np.minimum(interval, 12 - interval)
  ic_piece = piece[1:][same]
  num_ic = np.bincount(ic_piece, minlength=m).astype(float)
  ic_counts = np.bincount(ic_piece * 7 + ic, minlength=m * 7).reshape(m, 7)
  out[:, col["ic_semitone"]] = _safe_div(ic_counts[:, 1], num_ic)
  out[:, col["ic_third"]] = _safe_div(ic_counts[:, 3] + ic_counts[:, 4], num_ic)
  out[:, col["ic_fourth"]] = _safe_div(ic_counts[:, 5], num_ic)
  out[:, col["ic_unison"]] = _safe_div(ic_counts[:, 0], num_ic)

  # Onset positions within the beat.
  pos = time % STEPS_PER_BEAT
  pos_counts = np.bincount(piece * STEPS_PER_BEAT + pos,
                           minlength=m * STEPS_PER_BEAT).reshape(m, STEPS_PER_BEAT)
  out[:, col["onset_on_beat"]] = _safe_div(pos_counts[:, 0], num_notes)
  out[:, col["onset_offbeat"]] = _safe_div(pos_counts[:, 4], num_notes)
  out[:, col["onset_odd"]] = _safe_div(pos_counts[:, 1::2].sum(axis=1), num_notes)

  # Distinct onset times: notes are sorted by (piece, time), so a new time starts where
  # (piece, time) changes.
  flat_time = piece.astype(np.int64) * length + time
  new_time = np.ones(flat_time.shape, bool)
  new_time[1:] = flat_time[1:] != flat_time[:-1]
  onset_time, onset_piece = time[new_time], piece[new_time]
  num_times = np.bincount(onset_piece, minlength=m).astype(float)
  same_t = onset_piece[1:] == onset_piece[:-1]
  ioi = np.diff(onset_time)[same_t].astype(np.float64)
  ioi_piece = onset_piece[1:][same_t]
  num_ioi = np.bincount(ioi_piece, minlength=m).astype(float)
  ioi_mean = _safe_div(np.bincount(ioi_piece, weights=ioi, minlength=m), num_ioi)
  ioi_var = _safe_div(np.bincount(ioi_piece, weights=(ioi - ioi_mean[ioi_piece]) ** 2,
                                  minlength=m), num_ioi)
  out[:, col["ioi_mean"]] = ioi_mean
  out[:, col["ioi_std"]] = np.sqrt(ioi_var)
  out[:, col["chord_size"]] = _safe_div(num_notes, num_times)

  # Groove: onset pattern of each whole beat, [m, beats, 8] (any onset at that position).
  beats = length // STEPS_PER_BEAT
  if beats >= 2:
    keep = onset_time < beats * STEPS_PER_BEAT
    grid = np.zeros((m, beats * STEPS_PER_BEAT), bool)
    grid[onset_piece[keep], onset_time[keep]] = True
    grid = grid.reshape(m, beats, STEPS_PER_BEAT)
    hamming = (grid[:, 1:] != grid[:, :-1]).sum(axis=2)  # [m, beats - 1]
    out[:, col["groove_consistency"]] = 1.0 - hamming.mean(axis=1) / STEPS_PER_BEAT
  else:
    out[:, col["groove_consistency"]] = 1.0

  sounding_steps = (active > 0).sum(axis=1)
  out[:, col["sounding_mean"]] = _safe_div(active.sum(axis=1), sounding_steps)
  out[:, col["polyphony_rate"]] = (active >= 2).sum(axis=1) / length
  if beats >= 1:
    per_beat = active[:, :beats * STEPS_PER_BEAT].reshape(m, beats, STEPS_PER_BEAT)
    out[:, col["empty_beat_rate"]] = (per_beat.sum(axis=2) == 0).mean(axis=1)
  # Register of the texture: lowest / highest pitch on, over sounding steps.
  step_piece = notes["sounding_step"] // length
  low = notes["step_low"].astype(np.float64)
  high = notes["step_high"].astype(np.float64)
  out[:, col["bass_mean"]] = _safe_div(np.bincount(step_piece, weights=low, minlength=m),
                                       sounding_steps) / features.PITCH_SCALE
  out[:, col["top_mean"]] = _safe_div(np.bincount(step_piece, weights=high, minlength=m),
                                      sounding_steps) / features.PITCH_SCALE
  out[:, col["spread_mean"]] = _safe_div(np.bincount(step_piece, weights=high - low,
                                                     minlength=m),
                                         sounding_steps) / features.PITCH_SCALE
  out[:, col["ic_tone"]] = _safe_div(ic_counts[:, 2], num_ic)
  out[:, col["ic_tritone"]] = _safe_div(ic_counts[:, 6], num_ic)
  # Top voice: the highest pitch starting at each onset time (last note of its group).
  last_of_time = np.r_[new_time[1:], True] if new_time.size else new_time
  top = pitch[last_of_time]
  step_top = np.abs(np.diff(top))[same_t] <= 2
  out[:, col["top_step_rate"]] = _safe_div(np.bincount(ioi_piece, weights=step_top,
                                                       minlength=m), num_ioi)
  if beats >= 1:
    onset_beats = np.bincount(piece * beats + time // STEPS_PER_BEAT,
                              weights=time < beats * STEPS_PER_BEAT,
                              minlength=m * beats).reshape(m, beats)
    out[:, col["beat_onsets_std"]] = onset_beats.std(axis=1)
  return out


def block_signatures(rolls):
  """The `CANDIDATE_NAMES` features `[m, 44]` of a `[m, T, 128]` block, and `[m]` note counts."""
  notes = features._block_notes(rolls)  # pylint: disable=protected-access
  base, num_notes = features._block_features(rolls, notes)  # pylint: disable=protected-access
  return np.concatenate([base[:, _BASE_COLUMNS], extra_features(rolls, notes)],
                        axis=1), num_notes
