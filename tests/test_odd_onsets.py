"""The note decoder's onsets off its grid (`odd_onsets='corpus'`): shares, moves, targets."""

import dataclasses
import json

import numpy as np
import pytest

from draw_music.writer import generate
from draw_music.writer import model as model_lib
from draw_music.writer import postprocess
from draw_music.writer import train
from tests import helpers


def test_odd_onset_shares_count_onset_steps_by_hand():
  rolls = np.zeros((3, 8, 4), bool)
  rolls[0, 0:2, 0] = True            # onset at 0
  rolls[0, 3:6, 1] = True            # onset at 3 (odd)
  rolls[0, 3:4, 2] = True            # same step: counted once
  rolls[0, 4:8, 3] = True            # onset at 4
  rolls[1, 1:8, 0] = True            # onset at 1 only
  # piece 2 is silent
  np.testing.assert_allclose(postprocess.odd_onset_shares(rolls), [1 / 3, 1.0, 0.0])
  np.testing.assert_array_equal(np.flatnonzero(postprocess.onset_steps(rolls)[0]), [0, 3, 4])


def _two_events():
  """One piece, 8 steps, 3 pitches: a note at steps 0-3 (pitch 0), a two-note chord at 4-7."""
  rolls = np.zeros((1, 8, 3), bool)
  rolls[0, 0:4, 0] = True
  rolls[0, 4:8, 1:3] = True
  values = np.full((1, 8, 3), 0.1)
  values[0, 0:4, 0] = [0.9, 0.8, 0.8, 0.7]   # falls after its onset: no evidence late
  values[0, 4:8, 1] = [0.3, 0.9, 0.9, 0.8]   # rises a step late: +0.6
  values[0, 4:8, 2] = [0.5, 0.7, 0.9, 0.8]   # +0.2; the chord's mean rise is +0.4
  return rolls, values


def test_the_event_with_most_evidence_moves_late_with_its_whole_chord():
  rolls, values = _two_events()
  before = rolls.copy()
  evidence, late = postprocess._odd_moves(rolls, values)  # pylint: disable=protected-access
  # Step 0: late 0.8 - 0.9 = -0.1, early impossible (no step before); step 4: late
  # (0.6 + 0.2) / 2 = 0.4 against early (0.1 - 0.1) = 0 (pitches 1, 2 silent two steps before).
  np.testing.assert_allclose(evidence[0, [0, 4]], [-0.1, 0.4])
  assert late[0, 0] and late[0, 4]
  assert np.isneginf(np.delete(evidence[0], [0, 4])).all()
  got = postprocess.place_odd_onsets(rolls, values, [0.5])[0]   # 2 onset steps: 1 moves
  want = before[0].copy()
  want[4, 1:3] = False
  np.testing.assert_array_equal(got, want)
  np.testing.assert_array_equal(rolls, before)
  np.testing.assert_allclose(postprocess.odd_onset_shares(got[None]), [0.5])
  # Share 1: both move, the one with no evidence too; share 0: none.
  both = postprocess.place_odd_onsets(rolls, values, [1.0])[0]
  assert not both[0, 0] and both[1:4, 0].all() and not both[4, 1:3].any()
  np.testing.assert_array_equal(postprocess.place_odd_onsets(rolls, values, [0.0]), rolls)
  # The evidence statistic: 1 of 2 movable steps leans off the grid.
  np.testing.assert_allclose(postprocess.odd_onset_evidence(rolls, values), [0.5])


def test_an_early_move_adds_the_step_before_and_never_joins_two_notes():
  rolls = np.zeros((2, 8, 2), bool)
  values = np.full((2, 8, 2), 0.1)
  # Piece 0: a note at 4-5 whose canvas rises at step 3: it starts one step early.
  rolls[0, 4:6, 0] = True
  values[0, 2:6, 0] = [0.1, 0.8, 0.9, 0.6]
  # Piece 1: the same, but a note of that pitch sounds at 0-2: an early start would join them;
  # the late move (0.6 - 0.9 < 0) is the only one.
  rolls[1, 0:3, 1] = True
  rolls[1, 4:6, 1] = True
  values[1, 2:6, 1] = [0.1, 0.8, 0.9, 0.6]
  evidence, late = postprocess._odd_moves(rolls, values)  # pylint: disable=protected-access
  np.testing.assert_allclose(evidence[0, 4], 0.7)
  assert not late[0, 4]
  np.testing.assert_allclose(evidence[1, 4], -0.3)
  assert late[1, 4]
  got = postprocess.place_odd_onsets(rolls, values, [1.0, 0.0])
  np.testing.assert_array_equal(np.flatnonzero(got[0, :, 0]), [3, 4, 5])
  np.testing.assert_array_equal(got[1], rolls[1])


def test_a_one_step_note_cannot_move_late_and_its_chord_stays_whole():
  rolls = np.zeros((1, 8, 2), bool)
  rolls[0, 2:3, 0] = True            # one step long
  rolls[0, 2:6, 1] = True
  rolls[0, 0:1, 0] = True            # pitch 0 sounds two steps before: no early move either
  values = np.full((1, 8, 2), 0.1)
  values[0, 3, :] = 0.9
  evidence, _ = postprocess._odd_moves(rolls, values)  # pylint: disable=protected-access
  assert np.isneginf(evidence[0, 2])
  np.testing.assert_array_equal(postprocess.place_odd_onsets(rolls, values, [1.0]), rolls)


def test_moves_against_a_loop_over_lopsided_random_pieces():
  rng = np.random.default_rng(3)
  rolls = np.zeros((4, 32, 6), bool)
  for i in range(4):                 # notes on the even grid, lengths 2-6
    for p in range(6):
      t = 0
      while t < 30:
        t += 2 * int(rng.integers(0, 3))
        length = 2 * int(rng.integers(1, 4))
        rolls[i, t:t + length, p] = rng.random() < 0.5 + 0.1 * i
        t += length
  values = rng.random(rolls.shape)
  shares = np.array([0.0, 0.25, 0.5, 1.0])
  got = postprocess.place_odd_onsets(rolls, values, shares)
  for i in range(4):
    events = []
    for t in range(0, 32, 2):
      starts = [p for p in range(6) if rolls[i, t, p] and (t == 0 or not rolls[i, t - 1, p])]
      if not starts:
        continue
      late_ok = all(t + 1 < 32 and rolls[i, t + 1, p] for p in starts)
      early_ok = t >= 1 and all(t < 2 or not rolls[i, t - 2, p] for p in starts)
      v2 = lambda s, p: values[i, s, p] if s >= 0 else 0.0
      e_late = np.mean([v2(t + 1, p) - values[i, t, p] for p in starts]) if late_ok else -np.inf
      e_early = np.mean([v2(t - 1, p) - v2(t - 2, p) for p in starts]) if early_ok else -np.inf
      events.append((max(e_late, e_early), t, e_late >= e_early, starts))
    num_onsets = postprocess.onset_steps(rolls[i:i + 1]).sum()
    wanted = int(np.round(shares[i] * num_onsets))
    movable = sorted((e for e in events if np.isfinite(e[0])), key=lambda e: (-e[0], e[1]))
    want = rolls[i].copy()
    for _, t, is_late, starts in movable[:wanted]:
      for p in starts:
        if is_late:
          want[t, p] = False
        else:
          want[t - 1, p] = True
    np.testing.assert_array_equal(got[i], want, err_msg=f"piece {i}")


def test_odd_onset_targets_map_the_corpus_in_the_models_order():
  corpus = np.array([0.0, 0.0, 0.0, 0.1, 0.4])
  model_evidence = np.array([0.2, 0.5, 0.9])
  # Mid-rank quantiles among 3: 0.2 -> (0.5 + 0.5) / 4, 0.9 -> (2.5 + 0.5) / 4, 0.5 -> 2 / 4.
  got = postprocess.odd_onset_targets(np.array([0.9, 0.2, 0.5]), model_evidence, corpus)
  np.testing.assert_allclose(got, np.quantile(corpus, [0.75, 0.25, 0.5]))
  with pytest.raises(ValueError, match="reference draw"):
    postprocess.odd_onset_targets(np.array([0.1]), np.array([]), corpus)
  with pytest.raises(ValueError, match="shares"):
    postprocess.place_odd_onsets(np.zeros((1, 4, 2), bool), np.zeros((1, 4, 2)), [1.5])


def test_the_config_asks_for_the_note_decoder_on_an_even_grid():
  writer = model_lib.get_config("writer")
  assert dataclasses.replace(writer, odd_onsets="corpus").odd_onsets == "corpus"
  with pytest.raises(ValueError, match="even grid_steps"):
    dataclasses.replace(writer, odd_onsets="corpus", grid_steps=1)
  with pytest.raises(ValueError, match="decoder='notes'"):
    dataclasses.replace(model_lib.get_config("baseline"), odd_onsets="corpus")
  with pytest.raises(ValueError, match="odd_onsets"):
    dataclasses.replace(writer, odd_onsets="all")
  assert "odd_onsets" in train.DECODING_FIELDS


TINY = dataclasses.replace(model_lib.get_config("tiny"), decoder="notes", hold=0.6,
                           min_note_steps=2, grid_steps=2, density="corpus")


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
  # Lopsided: every onset of the corpus is on an odd step (shares 1), so every piece is
  # asked for all its movable onset steps off the grid.
  rng = np.random.default_rng(8)
  rolls = []
  for k in (3, 4, 2, 5):
    roll = np.zeros((16 * k, 128), bool)
    for start in range(1, 16 * k, 2):
      end = min(start + int(rng.integers(1, 6)), start - start % 16 + 16)  # inside its chunk
      roll[start:end, int(rng.integers(40, 80))] = True
    rolls.append(roll)
  chunks = np.concatenate([r.reshape(-1, 16, 128) for r in rolls])
  piece_index = np.concatenate([np.full(len(r) // 16, i) for i, r in enumerate(rolls)])
  out_dir = tmp_path_factory.mktemp("odd")
  train.train(TINY, chunks, piece_index, out_dir, train.TrainConfig(max_steps=2, verbose=False))
  return out_dir, chunks


def test_the_training_folder_keeps_the_corpus_shares_and_generation_uses_them(trained):
  out_dir, chunks = trained
  stats = json.loads((out_dir / train.CORPUS_DENSITY_FILE).read_text())
  np.testing.assert_allclose(stats["odd_onset_shares"],
                             np.sort(postprocess.odd_onset_shares(chunks)))
  np.testing.assert_allclose(stats["odd_onset_shares"], 1.0)
  # A resume that turns the odd onsets on (a decoding field) decodes with them.
  odd = dataclasses.replace(TINY, odd_onsets="corpus")
  train.train(odd, chunks, np.repeat(np.arange(4), [3, 4, 2, 5]), out_dir,
              train.TrainConfig(max_steps=2, verbose=False))
  model, _ = train.load_trained(out_dir)
  assert model.config.odd_onsets == "corpus"
  canvases, rolls = generate.generate_rolls(model, 40, alpha=0.25, seed=5)
  on_grid = generate.decode_canvases(dataclasses.replace(odd, odd_onsets="none"), canvases,
                                     None, generate.corpus_stats(model),
                                     generate.model_reference(model))
  ref = generate.model_reference(model)
  shares = postprocess.odd_onset_targets(
      postprocess.odd_onset_evidence(on_grid, canvases), ref["odd_evidence"],
      model.corpus_odd_shares)
  np.testing.assert_array_equal(
      rolls, postprocess.place_odd_onsets(on_grid, canvases, shares))
  assert postprocess.onset_steps(on_grid)[:, 1::2].sum() == 0
  assert postprocess.onset_steps(rolls)[:, 1::2].sum() > 0   # some moved
  # A folder written before the shares were kept: a clear error, not a KeyError.
  path = out_dir / train.CORPUS_DENSITY_FILE
  path.write_text(json.dumps({"active_cells": stats["active_cells"]}))
  model, _ = train.load_trained(out_dir)
  with pytest.raises(ValueError, match="odd onset shares"):
    generate.generate_rolls(model, 2, alpha=0.25, seed=5)


def _config_from_flags(*argv):
  return helpers.train_baseline_config(("grid_steps", "odd_onsets"), *argv)


def test_an_odd_grid_flag_turns_the_writers_odd_onsets_off_unless_asked_for():
  assert _config_from_flags("--config=writer").stdout.split() == ["2", "corpus"]
  assert _config_from_flags("--config=writer", "--grid_steps=1").stdout.split() == ["1", "none"]
  asked = _config_from_flags("--config=writer", "--grid_steps=1", "--odd_onsets=corpus")
  assert asked.returncode != 0 and "even grid_steps" in asked.stderr
