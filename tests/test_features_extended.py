"""Tests of the extended signature (draw_music/metric/features_extended.py).

Expected values are worked out by hand from one small lopsided roll (the arithmetic is in
the comments); the key features are checked against correlations numpy computes from the
published Krumhansl-Kessler profiles.
"""

import math

import numpy as np
import pytest

from draw_music.metric import features
from draw_music.metric import features_extended
from tests import helpers

T = 32  # 4 whole beats of 8 steps
# (pitch, first step, last step): a chord on the beat, an off-beat note, a 32nd-position
# note, a chord on beat 3, a note on step 19 (odd), and an empty 4th beat.
NOTES = (
    (60, 0, 3),    # A  pc 0, onset 0
    (64, 0, 1),    # B  pc 4, onset 0
    (67, 4, 4),    # C  pc 7, onset 4 (half-way)
    (61, 9, 10),   # D  pc 1, onset 9 (odd)
    (48, 16, 17),  # E  pc 0, onset 16
    (55, 16, 16),  # F  pc 7, onset 16
    (72, 19, 19),  # G  pc 0, onset 19 (odd)
)


def make_roll(notes, length=T):
  roll = np.zeros((length, 128), bool)
  for pitch, first, last in notes:
    roll[first:last + 1, pitch] = True
  return roll


def _entropy(counts):
  p = np.asarray(counts, float) / np.sum(counts)
  return -(p * np.log2(p)).sum() / math.log2(12)


# Notes by (onset, pitch): A60 B64 | C67 | D61 | E48 F55 | G72  (7 notes)
# Pitch classes: 0 x3 (A, E, G), 7 x2 (C, F), 4, 1.
# Intervals 4, 3, 6, 13, 7, 17 -> mod 12: 4, 3, 6, 1, 7, 5 -> classes 4, 3, 6, 1, 5, 5.
# Onsets mod 8: 0, 0, 4, 1, 0, 0, 3. Distinct onset times 0, 4, 9, 16, 19: IOIs 4, 5, 7, 3.
# Beat onset patterns: {0, 4}, {1}, {0, 3}, {} -> Hamming 3, 3, 2.
# Notes starting per beat: 3, 1, 3, 0.
# Pitches on per step: 2 2 1 1 1 0 0 0 0 1 1 0 0 0 0 0 2 1 0 1 0... -> 13 cells on 10 steps,
#   3 steps with >= 2. Lowest / highest on per sounding step:
#   (60,64) (60,64) (60,60) (60,60) (67,67) (61,61) (61,61) (48,55) (48,48) (72,72)
#   lows sum 597, highs sum 612, spreads sum 15.
# Top notes per onset time: 64, 67, 61, 55, 72 -> moves 3, 6, 6, 17: none <= 2.
EXPECTED = {
    "pc_entropy": _entropy([3, 2, 1, 1]),
    "pc_top3": 6 / 7,
    # C major {0,2,4,5,7,9,11} holds A, B, C, E, F, G (not D, pc 1): 6/7. No major scale
    # holds 0, 1, 4 and 7 together.
    "scale_consistency": 6 / 7,
    "ic_semitone": 1 / 6,
    "ic_third": 2 / 6,
    "ic_fourth": 2 / 6,
    "ic_unison": 0.0,
    "onset_on_beat": 4 / 7,
    "onset_offbeat": 1 / 7,
    "onset_odd": 2 / 7,
    "ioi_mean": 19 / 4,
    # deviations from 4.75: -0.75, 0.25, 2.25, -1.75 -> squares sum 8.75
    "ioi_std": math.sqrt(8.75 / 4),
    "groove_consistency": 1 - (8 / 3) / 8,
    "chord_size": 7 / 5,
    "sounding_mean": 13 / 10,
    "polyphony_rate": 3 / 32,
    "empty_beat_rate": 1 / 4,
    "bass_mean": 59.7 / 127,
    "top_mean": 61.2 / 127,
    "spread_mean": 1.5 / 127,
    "ic_tone": 0.0,
    "ic_tritone": 1 / 6,
    "top_step_rate": 0.0,
    # mean 7/4; deviations 1.25, -0.75, 1.25, -1.75 -> squares sum 6.75
    "beat_onsets_std": math.sqrt(6.75 / 4),
}

# Krumhansl (1990) key profiles, tonic first, for an independent key estimate.
KK_MAJOR = [6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88]
KK_MINOR = [6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17]


def _numpy_key(share):
  """(correlation, minor, tonic) of the best of the 24 keys, by np.corrcoef."""
  corrs = [np.corrcoef(share, np.roll(KK_MAJOR, r))[0, 1] for r in range(12)]
  corrs += [np.corrcoef(share, np.roll(KK_MINOR, r))[0, 1] for r in range(12)]
  k = int(np.argmax(corrs))
  return corrs[k], k >= 12, k % 12


def _sig(roll, feature_set="candidates"):
  return dict(zip(features.feature_names(feature_set), features.signature(roll, feature_set)))


def test_names_and_sets():
  assert len(features.feature_names("candidates")) == 44
  assert "occupation_rate" not in features.feature_names("candidates")
  ext = features.feature_names("extended")
  assert len(ext) == 25 and set(ext) <= set(features.feature_names("candidates"))
  assert features.signatures(np.zeros((3, T, 128)), "extended").shape == (3, 25)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_extra_feature_on_lopsided_roll(name):
  assert _sig(make_roll(NOTES))[name] == pytest.approx(EXPECTED[name], abs=1e-12)


def test_key_features_match_numpy_correlation():
  share = np.zeros(12)
  share[[0, 7, 4, 1]] = [3, 2, 1, 1]
  share /= 7
  corr, minor, tonic = _numpy_key(share)
  sig = _sig(make_roll(NOTES))
  assert sig["key_clarity"] == pytest.approx(corr)
  assert sig["minor_mode"] == float(minor)
  assert sig["tonic_share"] == pytest.approx(share[tonic])
  scale = ({(tonic + d) % 12 for d in (0, 2, 3, 5, 7, 8, 10, 11)} if minor else
           {(tonic + d) % 12 for d in (0, 2, 4, 5, 7, 9, 11)})
  assert sig["out_of_key"] == pytest.approx(1 - sum(share[list(scale)]))


def test_base_columns_equal_rizo17():
  rng = np.random.default_rng(3)
  rolls = np.stack([helpers.random_roll(rng, 40, 0.3) for _ in range(6)])
  rizo = features.signatures(rolls)
  cand = features.signatures(rolls, "candidates")
  ext = features.signatures(rolls, "extended")
  for j, name in enumerate(features.feature_names("candidates")):
    if name in features.FEATURE_NAMES:
      np.testing.assert_allclose(cand[:, j], rizo[:, features.FEATURE_NAMES.index(name)])
  for j, name in enumerate(features.feature_names("extended")):
    np.testing.assert_array_equal(ext[:, j],
                                  cand[:, features.CANDIDATE_NAMES.index(name)])


def test_empty_roll():
  sig = _sig(np.zeros((T, 128), bool))
  expected = {name: 0.0 for name in sig}
  expected.update(groove_consistency=1.0, empty_beat_rate=1.0)
  assert sig == pytest.approx(expected)


def test_one_note_and_short_roll():
  sig = _sig(make_roll([(62, 1, 2)], length=6))  # shorter than a beat
  assert sig["chord_size"] == 1.0 and sig["sounding_mean"] == 1.0
  assert sig["ioi_mean"] == sig["ioi_std"] == sig["ic_semitone"] == 0.0
  assert sig["groove_consistency"] == 1.0 and sig["empty_beat_rate"] == 0.0
  assert sig["beat_onsets_std"] == 0.0
  assert sig["pc_top3"] == sig["scale_consistency"] == sig["tonic_share"] == 1.0
  assert sig["onset_odd"] == 1.0  # onset at step 1


def test_melody_top_steps():
  # 60 -> 62 -> 67: moves 2 (a step) and 5.
  sig = _sig(make_roll([(60, 0, 1), (62, 2, 3), (67, 8, 9)], length=16))
  assert sig["top_step_rate"] == pytest.approx(1 / 2)
  assert sig["chord_size"] == 1.0


def test_transposition_invariance_of_pitch_class_features():
  roll = make_roll(NOTES)
  up = np.roll(roll, 5, axis=1)
  a, b = _sig(roll), _sig(up)
  for name in ("pc_entropy", "pc_top3", "scale_consistency", "key_clarity", "tonic_share",
               "out_of_key", "minor_mode", "ic_semitone", "ic_third", "groove_consistency"):
    assert a[name] == pytest.approx(b[name]), name


def test_batch_equals_one_by_one_and_input_untouched():
  rng = np.random.default_rng(0)
  rolls = np.stack([helpers.random_roll(rng, T, d) for d in (0.0, 0.1, 0.5, 0.9)])
  before = rolls.copy()
  batch = features.signatures(rolls, "candidates")
  np.testing.assert_array_equal(rolls, before)
  for i in range(len(rolls)):
    np.testing.assert_allclose(batch[i], features.signature(rolls[i], "candidates"))
  assert np.all(np.isfinite(batch))
