"""Profiles of a set of pieces (`metric.profiles`): by hand, against a loop, calibration."""

import numpy as np
import pytest

from draw_music.metric import profiles
from draw_music.metric import set_measures


def _roll(length, notes):
  roll = np.zeros((length, 128), bool)
  for pitch, start, stop in notes:
    roll[start:stop, pitch] = True
  return roll


def test_profiles_by_hand_pool_the_pieces_and_never_cross_them():
  # Piece 0: 60 and 64 together at step 0 (4 and 2 steps), 61 at step 5 (1 step), 73 at
  # step 9 (7 steps), silent from 16. Piece 1: pitch 0 held all 24 steps.
  rolls = np.stack([_roll(24, [(60, 0, 4), (64, 0, 2), (61, 5, 6), (73, 9, 16)]),
                    _roll(24, [(0, 0, 24)])])
  got = profiles.profiles(rolls)

  def hist(bins, counts):
    h = np.zeros(bins)
    for b, c in counts.items():
      h[b] = c
    return h / h.sum()

  np.testing.assert_allclose(got["pitch_class"], hist(12, {0: 2, 4: 1, 1: 2}))
  np.testing.assert_allclose(got["register"], hist(11, {5: 3, 6: 1, 0: 1}))
  # Piece 0: 2 pitches on at steps 0-1, 1 at 2-3, 5, 9-15; none at 4, 6-8, 16-23.
  np.testing.assert_allclose(got["polyphony"], hist(9, {2: 2, 1: 10 + 24, 0: 12}))
  np.testing.assert_allclose(got["onset_position"], hist(8, {0: 3, 5: 1, 1: 1}))
  # 60 -> 64 -> 61 -> 73 in piece 0; none from 73 to piece 1's 0.
  np.testing.assert_allclose(got["interval"], hist(14, {4: 1, 3: 1, 12: 1}))
  # Lengths 4, 2, 1, 7 and 24 (the last bin: 17 or more).
  np.testing.assert_allclose(got["note_length"], hist(17, {3: 1, 1: 1, 0: 1, 6: 1, 16: 1}))
  # Onset times: step 0 of piece 0 (2 notes), 5, 9, and step 0 of piece 1 (1 note each).
  np.testing.assert_allclose(got["chord_size"], hist(6, {1: 1, 0: 3}))
  assert set(got) == set(profiles.PROFILE_NAMES)


def _profiles_by_loop(rolls, steps_per_beat):
  counts = {"pitch_class": np.zeros(12), "register": np.zeros(11), "polyphony": np.zeros(9),
            "onset_position": np.zeros(steps_per_beat), "interval": np.zeros(14),
            "note_length": np.zeros(17), "chord_size": np.zeros(6)}
  for roll in rolls:
    notes = []
    for pitch in range(128):
      t = 0
      while t < len(roll):
        if roll[t, pitch]:
          start = t
          while t < len(roll) and roll[t, pitch]:
            t += 1
          notes.append((start, pitch, t - start))
        else:
          t += 1
    notes.sort()
    for start, pitch, length in notes:
      counts["pitch_class"][pitch % 12] += 1
      counts["register"][pitch // 12] += 1
      counts["onset_position"][start % steps_per_beat] += 1
      counts["note_length"][min(length, 17) - 1] += 1
    for a, b in zip(notes, notes[1:]):
      counts["interval"][min(abs(b[1] - a[1]), 13)] += 1
    for step in roll:
      counts["polyphony"][min(int(step.sum()), 8)] += 1
    starts = [n[0] for n in notes]
    for onset in sorted(set(starts)):
      counts["chord_size"][min(starts.count(onset), 6) - 1] += 1
  return {k: v / v.sum() for k, v in counts.items()}


def test_profiles_against_a_loop_on_lopsided_random_pieces():
  rng = np.random.default_rng(7)
  dense = rng.random((3, 40, 128)) < 0.05
  sparse = rng.random((5, 40, 128)) < 0.005
  sparse[:, :, 60:64] |= rng.random((5, 40, 4)) < 0.5   # long runs near middle C
  rolls = np.concatenate([dense, sparse])
  for spb in (8, 3):
    got = profiles.profiles(rolls, steps_per_beat=spb)
    want = _profiles_by_loop(rolls, spb)
    for name in profiles.PROFILE_NAMES:
      np.testing.assert_allclose(got[name], want[name], err_msg=name)


def test_total_variation_by_hand_and_distances():
  assert profiles.total_variation([1.0, 0.0], [0.5, 0.5]) == 0.5
  assert profiles.total_variation([0.2, 0.3, 0.5], [0.2, 0.3, 0.5]) == 0.0
  assert profiles.total_variation([1.0, 0.0, 0.0], [0.0, 0.0, 1.0]) == 1.0
  with pytest.raises(ValueError, match="same bins"):
    profiles.total_variation([1.0], [0.5, 0.5])
  low = np.stack([_roll(16, [(40, 0, 16)])] * 2)
  high = np.stack([_roll(16, [(80, 0, 16)])] * 2)
  d = profiles.distances(profiles.profiles(low), profiles.profiles(high))
  assert d["register"] == 1.0 and d["pitch_class"] == 1.0   # 40 is E, 80 is G sharp
  assert d["polyphony"] == d["note_length"] == d["chord_size"] == 0.0


def test_calibration_is_the_distance_between_the_halves_of_each_split():
  rng = np.random.default_rng(3)
  # Six pieces of unequal size, each with middle C and a register of its own: halves
  # differ in register, never in all of it.
  sizes = [5, 1, 3, 2, 4, 1]
  piece_index = np.repeat(np.arange(6), sizes)
  rolls = np.zeros((len(piece_index), 16, 128), bool)
  for i, piece in enumerate(piece_index):
    rolls[i, :, 30 + 12 * piece] = rng.random(16) < 0.6
    rolls[i, :, 60] = rng.random(16) < 0.6
  got = profiles.calibrate(rolls, piece_index, num_splits=4, seed=11)
  split_rng = np.random.default_rng(11)
  for s in range(4):
    mask = set_measures.split_by_piece(piece_index, split_rng)
    want = profiles.distances(profiles.profiles(rolls[mask]), profiles.profiles(rolls[~mask]))
    for name in profiles.PROFILE_NAMES:
      assert got[name][s] == pytest.approx(want[name])
  assert got["register"].min() > 0.2   # whole registers change sides
  result = profiles.compare(profiles.profiles(rolls), rolls[piece_index < 3], got)
  register = result["register"]
  assert register["halves_max"] == pytest.approx(got["register"].max())
  assert register["within"] == (register["distance"] <= register["halves_max"])
  far = np.zeros((3, 16, 128), bool)
  far[:, :, 120] = True
  assert not profiles.compare(profiles.profiles(rolls), far, got)["register"]["within"]


def test_bad_input_is_named():
  with pytest.raises(ValueError, match="rolls must have shape"):
    profiles.profiles(np.zeros((2, 16, 64), bool))
  with pytest.raises(ValueError, match="at least one piece"):
    profiles.profiles(np.zeros((0, 16, 128), bool))
  with pytest.raises(ValueError, match="steps_per_beat"):
    profiles.profiles(np.zeros((1, 16, 128), bool), steps_per_beat=0)
  with pytest.raises(ValueError, match="piece_index"):
    profiles.calibrate(np.zeros((3, 16, 128), bool), [0, 1])
  with pytest.raises(ValueError, match="num_splits"):
    profiles.calibrate(np.zeros((2, 16, 128), bool), [0, 1], num_splits=0)


def test_semitone_clusters_by_hand():
  # Piece 0: 60 and 61 together for 2 steps, then 64 alone (2 steps): 4 of 6 cells clustered.
  # Piece 1: 40 and 42 (a whole tone) for 3 steps: none. Cells: 4 of 12; pieces: 1 of 2.
  rolls = np.stack([_roll(8, [(60, 0, 2), (61, 0, 2), (64, 2, 4)]),
                    _roll(8, [(40, 0, 3), (42, 0, 3)])])
  assert profiles.semitone_clusters(rolls) == (4 / 12, 0.5)
  assert profiles.semitone_clusters(np.zeros((2, 8, 128), bool)) == (0.0, 0.0)
  with pytest.raises(ValueError, match="rolls must have shape"):
    profiles.semitone_clusters(np.zeros((2, 8, 12), bool))


def test_nearest_overlap_by_hand_and_against_a_loop():
  # Roll 0 shares 2 cells with chunk 0 (union 4: 0.5) and 1 with chunk 1 (union 3: 1/3).
  rolls = np.zeros((2, 4, 128), bool)
  rolls[0, 0, 60] = rolls[0, 1, 60] = rolls[0, 2, 64] = True
  chunks = np.zeros((2, 4, 128), bool)
  chunks[0, 0, 60] = chunks[0, 1, 60] = chunks[0, 3, 70] = True
  chunks[1, 2, 64] = True
  # Roll 1 is silent: 0 against either.
  np.testing.assert_allclose(profiles.nearest_overlap(rolls, chunks), [0.5, 0.0])
  # Leaving out the chunks of a roll's own piece: roll 0 (piece 7) loses chunk 0 (piece 7).
  np.testing.assert_allclose(profiles.nearest_overlap(rolls, chunks, [7, 8], [7, 8]),
                             [1 / 3, 0.0])
  rng = np.random.default_rng(5)
  a = rng.random((6, 16, 128)) < 0.03
  b = rng.random((9, 16, 128)) < 0.05
  b[4] = a[2]  # a copy: overlap 1
  expected = [max((x & y).sum() / (x | y).sum() for y in b) for x in a]
  got = profiles.nearest_overlap(a, b)
  np.testing.assert_allclose(got, expected)
  assert got[2] == 1.0
  with pytest.raises(ValueError, match="go together"):
    profiles.nearest_overlap(a, b, roll_pieces=np.arange(6))
  with pytest.raises(ValueError, match="same length"):
    profiles.nearest_overlap(a, b[:, :8])
