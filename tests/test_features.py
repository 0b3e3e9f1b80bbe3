"""Tests of the 17-feature signature (draw_music/metric/features.py, DESIGN.md section 3).

Expected values are derived by hand from small lopsided rolls (the arithmetic is in the
comments), never by calling the code under test. `benchmarks/naive_features.py`, an
independent per-note loop written from DESIGN.md, cross-checks the vectorised code on random
rolls.
"""

import math

import numpy as np
import pytest

from benchmarks import naive_features
from draw_music.metric import features

T = 10
# (pitch, first step, last step) of each note of the lopsided roll: chords, a gap at steps
# 4-5, pitch 60 repeated three times, notes touching both ends of the roll.
NOTES = (
    (60, 0, 3),  # A, duration 4
    (64, 0, 1),  # B, duration 2 (chord with A)
    (67, 2, 2),  # C, duration 1 (under A's tail)
    (48, 6, 6),  # G, duration 1 (chord with D)
    (60, 6, 7),  # D, duration 2 (pitch 60 again, after the gap)
    (72, 7, 9),  # E, duration 3 (ends on the last step)
    (60, 9, 9),  # F, duration 1 (pitch 60 a third time)
)


def make_roll(notes, length=T):
  roll = np.zeros((length, 128), bool)
  for pitch, first, last in notes:
    roll[first:last + 1, pitch] = True
  return roll


def lopsided_roll():
  return make_roll(NOTES)


# Notes by (onset, pitch): A60 B64 | C67 | G48 D60 | E72 | F60  -> pitches
#   60, 64, 67, 48, 60, 72, 60   (7 notes)
# Intervals: |64-60|=4, |67-64|=3, |48-67|=19, |60-48|=12, |72-60|=12, |60-72|=12
# Durations (same order): 4, 2, 1, 1, 2, 3, 1   (sum 14 = active cells)
# Active pitches per step 0..9: 2 2 2 1 0 0 2 2 1 2 -> 14 cells, 6 steps with >= 2.
EXPECTED = {
    "notes_per_step": 7 / 10,
    "occupation_rate": 14 / 10,
    "polyphonic_rate": 6 / 7,
    "pitch_max": 72 / 127,
    "pitch_min": 48 / 127,
    # 60+64+67+48+60+72+60 = 431
    "pitch_mean": 431 / 7 / 127,
    # sum of squares 3*3600 + 4096 + 4489 + 2304 + 5184 = 26873;
    # var = (7*26873 - 431^2) / 7^2 = (188111 - 185761) / 49 = 2350 / 49
    "pitch_std": math.sqrt(2350) / 7 / 127,
    "interval_max": 19 / 127,
    "interval_min": 3 / 127,
    # 4+3+19+12+12+12 = 62
    "interval_mean": 62 / 6 / 127,
    # sum of squares 16 + 9 + 361 + 3*144 = 818; var = (6*818 - 62^2) / 6^2 = 1064 / 36
    "interval_std": math.sqrt(1064) / 6 / 127,
    "duration_max": 4.0,
    "duration_min": 1.0,
    "duration_mean": 14 / 7,  # = 2
    # deviations from 2: 2, 0, -1, -1, 0, 1, -1 -> squares sum to 8; var = 8/7
    "duration_std": math.sqrt(8 / 7),
    "interval_mode": 12 / 127,  # 12 occurs 3 times
    "distinct_intervals": 4.0,  # {3, 4, 12, 19}
}


def test_feature_names_and_sets():
  assert features.feature_names() == tuple(EXPECTED)
  assert len(features.feature_names("rizo17")) == 17
  assert features.feature_names("paper15") == tuple(EXPECTED)[:15]
  with pytest.raises(ValueError, match="feature_set"):
    features.feature_names("rizo16")


@pytest.mark.parametrize("index,name", list(enumerate(EXPECTED)))
def test_each_feature_on_lopsided_roll(index, name):
  sig = features.signature(lopsided_roll())
  assert sig.shape == (17,)
  assert sig.dtype == np.float64
  assert sig[index] == pytest.approx(EXPECTED[name], rel=1e-12, abs=1e-15), name


def test_lopsided_roll_is_not_degenerate():
  _, degenerate = features.signatures(lopsided_roll()[None], return_degenerate=True)
  np.testing.assert_array_equal(degenerate, [False])


def test_interval_mode_tie_takes_smallest_interval():
  # Pitches 60, 67, 65 one after the other: intervals 7 then 2, each once. The tie goes to
  # the smallest interval (2), not to the first one met (7).
  roll = make_roll([(60, 0, 0), (67, 1, 1), (65, 2, 2)], length=4)
  sig = features.signature(roll)
  assert sig[15] == pytest.approx(2 / 127)
  assert sig[16] == 2.0


def test_consecutive_steps_of_one_pitch_are_one_note():
  # Steps 0-2 and 3-4 of pitch 60 touch: one note of 5 steps, not two.
  roll = make_roll([(60, 0, 2), (60, 3, 4)], length=6)
  sig = features.signature(roll)
  assert sig[0] == pytest.approx(1 / 6)  # one note over 6 steps
  assert sig[11] == sig[12] == 5.0  # duration max = min = 5


def test_empty_roll_is_all_zeros_and_degenerate():
  feats, degenerate = features.signatures(np.zeros((1, 12, 128), bool),
                                          return_degenerate=True)
  np.testing.assert_array_equal(feats, np.zeros((1, 17)))
  np.testing.assert_array_equal(degenerate, [True])


def test_one_note_is_degenerate_with_zero_intervals():
  roll = make_roll([(70, 2, 5)], length=8)
  feats, degenerate = features.signatures(roll[None], return_degenerate=True)
  np.testing.assert_array_equal(degenerate, [True])
  expected = [
      1 / 8,  # one note over 8 steps
      4 / 8,  # 4 active cells
      0.0,  # never two pitches at once
      70 / 127, 70 / 127, 70 / 127, 0.0,  # pitch max, min, mean, std
      0.0, 0.0, 0.0, 0.0,  # no interval
      4.0, 4.0, 4.0, 0.0,  # duration max, min, mean, std
      0.0, 0.0,  # interval mode, distinct intervals
  ]
  np.testing.assert_allclose(feats[0], expected, rtol=1e-12, atol=0)


def test_two_notes_are_not_degenerate():
  roll = make_roll([(70, 0, 0), (50, 3, 3)], length=4)
  feats, degenerate = features.signatures(roll[None], return_degenerate=True)
  np.testing.assert_array_equal(degenerate, [False])
  assert feats[0, 7] == pytest.approx(20 / 127)


def test_every_cell_on():
  length = 5
  feats, degenerate = features.signatures(np.ones((1, length, 128), bool),
                                          return_degenerate=True)
  assert not np.any(np.isnan(feats))
  np.testing.assert_array_equal(degenerate, [False])
  # 128 notes (one per pitch) of 5 steps; ordered by (onset, pitch) they are 0, 1, ..., 127,
  # so the 127 intervals are all 1. Population std of 0..127 is sqrt((128^2 - 1) / 12).
  expected = [
      128 / 5,  # notes per step
      128 * 5 / 5,  # occupation
      5 / 128,  # 5 polyphonic steps / 128 notes
      127 / 127, 0.0, 63.5 / 127, math.sqrt((128 ** 2 - 1) / 12) / 127,
      1 / 127, 1 / 127, 1 / 127, 0.0,
      5.0, 5.0, 5.0, 0.0,
      1 / 127, 1.0,
  ]
  np.testing.assert_allclose(feats[0], expected, rtol=1e-12, atol=1e-15)


def test_no_nan_on_random_batches():
  rng = np.random.default_rng(0)
  for length, p in [(1, 0.5), (7, 0.0), (50, 0.001), (104, 0.02), (300, 0.3), (20, 1.0)]:
    rolls = rng.random((30, length, 128)) < p
    feats, degenerate = features.signatures(rolls, return_degenerate=True)
    assert feats.shape == (30, 17)
    assert np.all(np.isfinite(feats))
    assert np.all(feats >= 0)
    assert degenerate.shape == (30,)


def test_input_is_not_modified():
  rng = np.random.default_rng(1)
  bool_rolls = rng.random((4, 30, 128)) < 0.05
  float_rolls = np.where(rng.random((4, 30, 128)) < 0.05, 0.7, 0.0).astype(np.float32)
  for rolls in (bool_rolls, float_rolls):
    before = rolls.copy()
    features.signatures(rolls)
    features.signature(rolls[0])
    np.testing.assert_array_equal(rolls, before)
    assert rolls.dtype == before.dtype


def test_paper15_is_first_15_columns_of_rizo17():
  rng = np.random.default_rng(2)
  rolls = rng.random((10, 40, 128)) < 0.03
  rizo = features.signatures(rolls, "rizo17")
  paper = features.signatures(rolls, "paper15")
  assert paper.shape == (10, 15)
  np.testing.assert_array_equal(paper, rizo[:, :15])
  np.testing.assert_array_equal(features.signature(rolls[0], "paper15"), rizo[0, :15])


def test_float_input_nonzero_is_on():
  rng = np.random.default_rng(3)
  on = rng.random((5, 40, 128)) < 0.04
  levels = rng.choice([0.7, 1e-3, 1.0, -0.2], size=on.shape)
  for dtype in (np.float32, np.float64):
    as_float = np.where(on, levels, 0.0).astype(dtype)
    np.testing.assert_array_equal(features.signatures(as_float), features.signatures(on))
  np.testing.assert_array_equal(features.signatures(on.astype(np.uint8)),
                                features.signatures(on))


def test_non_contiguous_input():
  rng = np.random.default_rng(4)
  rolls = rng.random((6, 40, 128)) < 0.05
  strided = np.ascontiguousarray(rolls.transpose(1, 0, 2)).transpose(1, 0, 2)
  assert not strided.flags.c_contiguous
  np.testing.assert_array_equal(features.signatures(strided), features.signatures(rolls))


@pytest.mark.parametrize("shape", [(10, 128), (2, 10, 127), (2, 10, 129), (2, 3, 10, 128),
                                   (2, 0, 128)])
def test_bad_shapes_raise(shape):
  with pytest.raises(ValueError, match="shape|time step"):
    features.signatures(np.zeros(shape, bool))


def test_signature_rejects_a_batch():
  with pytest.raises(ValueError):
    features.signature(np.zeros((2, 10, 128), bool))


def test_empty_batch():
  assert features.signatures(np.zeros((0, 10, 128), bool)).shape == (0, 17)


def test_batch_equals_stacked_single_signatures():
  rng = np.random.default_rng(5)
  rolls = rng.random((8, 30, 128)) < rng.uniform(0, 0.1, size=(8, 1, 1))
  batch = features.signatures(rolls)
  np.testing.assert_array_equal(batch, np.stack([features.signature(r) for r in rolls]))


def test_no_interval_leaks_across_pieces():
  # Piece 0 ends high (pitch 90), piece 1 is empty, piece 2 is one low note (30), piece 3
  # starts low: an interval counted across a piece boundary would show in pieces 1-3.
  length = 6
  rolls = np.stack([
      make_roll([(40, 0, 1), (90, 5, 5)], length),
      make_roll([], length),
      make_roll([(30, 0, 0)], length),
      make_roll([(31, 0, 0), (33, 2, 3)], length),
      make_roll([], length),
  ])
  batch, degenerate = features.signatures(rolls, return_degenerate=True)
  np.testing.assert_array_equal(degenerate, [False, True, True, False, True])
  np.testing.assert_array_equal(batch, np.stack([features.signature(r) for r in rolls]))
  np.testing.assert_array_equal(batch[1], np.zeros(17))
  np.testing.assert_array_equal(batch[2, 7:11], np.zeros(4))
  np.testing.assert_array_equal(batch[2, 15:], np.zeros(2))
  assert batch[3, 7] == pytest.approx(2 / 127)  # only |33 - 31|, nothing from piece 2
  assert batch[3, 16] == 1.0
  assert batch[0, 7] == pytest.approx(50 / 127)


def test_blocks_of_pieces_give_the_same_result(monkeypatch):
  rng = np.random.default_rng(6)
  rolls = rng.random((23, 20, 128)) < rng.uniform(0, 0.5, size=(23, 1, 1))
  whole = features.signatures(rolls)
  monkeypatch.setattr(features, "_BLOCK_CELLS", 3 * 20 * 128)  # blocks of 3 pieces
  np.testing.assert_array_equal(features.signatures(rolls), whole)


def _random_note_roll(rng, length, num_notes):
  """A roll of `num_notes` random notes (random pitch, onset, duration; overlaps merge)."""
  roll = np.zeros((length, 128), bool)
  for _ in range(num_notes):
    pitch = rng.integers(0, 128)
    onset = rng.integers(0, length)
    roll[onset:onset + rng.integers(1, 12), pitch] = True
  return roll


def _lopsided_random_rolls(seed=7):
  """About 50 rolls of varied length and density, empty and single-note ones included."""
  rng = np.random.default_rng(seed)
  rolls = [np.zeros((13, 128), bool), make_roll([(0, 0, 0)], 1),
           make_roll([(127, 3, 9)], 10), make_roll([(5, 0, 0), (120, 0, 0)], 1),
           np.ones((3, 128), bool)]
  for length in (1, 2, 7, 32, 104, 300):
    for p in (0.0005, 0.01, 0.05, 0.3):
      rolls.append(rng.random((length, 128)) < p)
  for length in (5, 40, 104, 300):
    for num_notes in (1, 3, 20, 150):
      rolls.append(_random_note_roll(rng, length, num_notes))
  # A narrow-register roll: many repeated pitches and small intervals.
  narrow = np.zeros((104, 128), bool)
  narrow[:, 58:63] = rng.random((104, 5)) < 0.4
  rolls.append(narrow)
  return rolls


def test_matches_naive_loop_implementation():
  rolls = _lopsided_random_rolls()
  assert len(rolls) >= 45
  for roll in rolls:
    expected, expected_degenerate = naive_features.signature(roll)
    feats, degenerate = features.signatures(roll[None], return_degenerate=True)
    np.testing.assert_allclose(feats[0], expected, rtol=1e-9, atol=0)
    assert degenerate[0] == expected_degenerate


def test_matches_naive_loop_on_a_batch():
  rng = np.random.default_rng(8)
  rolls = rng.random((20, 104, 128)) < rng.uniform(0, 0.05, size=(20, 1, 1))
  rolls[3] = False
  rolls[11] = False
  rolls[11, 40:44, 64] = True
  np.testing.assert_allclose(features.signatures(rolls),
                             np.array(naive_features.signatures(rolls)), rtol=1e-9, atol=0)
  np.testing.assert_allclose(features.signatures(rolls, "paper15"),
                             np.array(naive_features.signatures(rolls, "paper15")),
                             rtol=1e-9, atol=0)


def test_naive_reference_on_the_hand_computed_roll():
  # The baseline itself must agree with the hand-derived numbers.
  expected, degenerate = naive_features.signature(lopsided_roll())
  np.testing.assert_allclose(expected, list(EXPECTED.values()), rtol=1e-12, atol=1e-15)
  assert not degenerate
