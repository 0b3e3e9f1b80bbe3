"""The note decoder's note lengths that follow the corpus (`durations='corpus'`)."""

import dataclasses
import json

import numpy as np
import pytest

from draw_music.metric import features
from draw_music.writer import generate
from draw_music.writer import model as model_lib
from draw_music.writer import postprocess
from draw_music.writer import train
from tests import helpers


def test_mean_note_steps_by_hand_and_against_the_features():
  rolls = np.zeros((3, 8, 4), bool)
  rolls[0, 0:3, 0] = True            # 3 steps
  rolls[0, 5:6, 0] = True            # 1 step, same pitch: a second note
  rolls[0, 2:8, 3] = True            # 6 steps
  rolls[1, 0:8, 1] = True            # one note held through the piece
  # piece 2 is silent
  np.testing.assert_allclose(postprocess.mean_note_steps(rolls), [10 / 3, 8.0, 0.0])
  # The symbolic features count notes their own way (note list, on/off keys).
  rng = np.random.default_rng(4)
  random = rng.random((40, 32, 128)) < rng.uniform(0.005, 0.2, (40, 1, 1))
  names = features.feature_names("rizo17")
  want = features.signatures(random, "rizo17")[:, names.index("duration_mean")]
  np.testing.assert_allclose(postprocess.mean_note_steps(random), want)


def test_length_targets_are_the_corpus_quantile_of_the_models_rank():
  reference = np.array([1.0, 2.0, 3.0, 4.0])       # the model's draw: 4 values
  corpus = np.array([2.0, 4.0, 8.0, 16.0, 32.0])   # the corpus's, far longer and wider
  got = postprocess.length_targets(np.array([0.5, 2.0, 9.0]), reference, corpus)
  # Mid ranks 0, 1.5, 4 of 4: quantiles 0.5/5, 2/5, 4.5/5 of the corpus.
  np.testing.assert_allclose(got, np.quantile(corpus, [0.1, 0.4, 0.9]))


def test_choose_lengths_takes_the_nearest_ratio_and_the_first_of_a_tie():
  cand = np.zeros((3, 3, 8, 2), bool)
  cand[0, :, 0:2, 0] = True           # every piece: mean length 2
  cand[1, :, 0:4, 0] = True           # 4
  cand[2, :, 0:8, 0] = True           # 8
  cand[2, 2] = False                  # piece 2's third candidate is silent
  rolls, choice = postprocess.choose_lengths(cand, [3.0, 8.0, 100.0])
  # 3 lies between 2 and 4: |log 2/3| = 0.405 > |log 4/3| = 0.288, so 4; 8 exactly; 100:
  # nearest in ratio is 4 (the silent one counts as half a step: log 200).
  np.testing.assert_array_equal(choice, [1, 2, 1])
  np.testing.assert_array_equal(rolls, cand[[1, 2, 1], [0, 1, 2]])
  _, tie = postprocess.choose_lengths(cand[[1, 1, 0]], [5.0] * 3)   # two candidates of 4
  np.testing.assert_array_equal(tie, [0, 0, 0])
  with pytest.raises(ValueError, match="targets"):
    postprocess.choose_lengths(cand, [1.0, 2.0])


def test_to_rolls_with_length_targets_against_a_loop_over_pieces_and_holds():
  rng = np.random.default_rng(11)
  # Lopsided canvases: slow swells on a few pitches plus noise, each piece its own density.
  t = np.arange(32)[None, :, None]
  canvases = (0.5 + 0.45 * np.sin(t / rng.uniform(1, 6, (6, 1, 24)))) \
      * rng.uniform(0.2, 1, (6, 1, 24)) + 0.1 * rng.random((6, 32, 24))
  targets = np.array([40.0, 80, 20, 120, 60, 30])
  lengths = np.array([1.5, 12.0, 4.0, 7.0, 2.0, 30.0])
  holds = (0.2, 0.5, 0.8, 1.0)
  got = postprocess.to_rolls(canvases, "notes", hold=0.6, min_note_steps=2, bridge_steps=2,
                             targets=targets, grid_steps=2, length_targets=lengths,
                             holds=holds)
  for i in range(len(canvases)):
    best, best_gap = None, np.inf
    for h in holds:
      one = postprocess.to_rolls(canvases[i:i + 1], "notes", hold=h, min_note_steps=2,
                                 bridge_steps=2, targets=targets[i:i + 1], grid_steps=2)[0]
      cells, notes = one.sum(), postprocess.note_starts(one[None]).sum()
      gap = abs(np.log(max(cells / max(notes, 1), 0.5)) - np.log(lengths[i]))
      if gap < best_gap:
        best, best_gap = one, gap
    np.testing.assert_array_equal(got[i], best)
  # Without length targets: every piece at `hold`, as before.
  np.testing.assert_array_equal(
      postprocess.to_rolls(canvases, "notes", hold=0.6, min_note_steps=2, bridge_steps=2,
                           targets=targets, grid_steps=2),
      postprocess.to_rolls(canvases, "notes", hold=0.6, min_note_steps=2, bridge_steps=2,
                           targets=targets, grid_steps=2, length_targets=lengths, holds=(0.6,)))


def test_longer_targets_give_longer_notes_on_the_same_canvas():
  rng = np.random.default_rng(2)
  t = np.arange(64)[None, :, None]
  one = (0.5 + 0.5 * np.sin(t / rng.uniform(0.5, 4, (1, 1, 30)))) * rng.random((1, 1, 30))
  canvases = np.repeat(one, 2, axis=0)
  rolls = postprocess.to_rolls(canvases, "notes", min_note_steps=1, targets=[150, 150],
                               length_targets=[2.0, 20.0])
  short, long_ = postprocess.mean_note_steps(rolls)
  assert short < long_


def test_config_checks_the_option():
  writer = model_lib.get_config("writer")
  assert writer.durations == "corpus"
  assert model_lib.get_config("baseline").durations == "model"
  with pytest.raises(ValueError, match="decoder='notes'"):
    dataclasses.replace(model_lib.get_config("baseline"), durations="corpus")
  with pytest.raises(ValueError, match="durations"):
    dataclasses.replace(writer, durations="long")
  assert "durations" in train.DECODING_FIELDS


TINY = dataclasses.replace(model_lib.get_config("tiny"), decoder="notes", hold=0.6,
                           min_note_steps=2, grid_steps=2, density="corpus",
                           durations="corpus")


def test_the_training_folder_keeps_the_corpus_lengths_and_generation_uses_them(tmp_path):
  # Lopsided: one piece of long notes, three of short ones (pitches that change every note,
  # so that no two notes join).
  rolls = []
  for k, length in ((3, 16), (4, 2), (2, 4), (5, 2)):
    roll = np.zeros((16 * k, 128), bool)
    for start in range(0, 16 * k, length):
      roll[start:start + length, 40 + (start // length) % 7] = True
    rolls.append(roll)
  chunks = np.concatenate([r.reshape(-1, 16, 128) for r in rolls])
  piece_index = np.concatenate([np.full(len(r) // 16, i) for i, r in enumerate(rolls)])
  train.train(TINY, chunks, piece_index, tmp_path, train.TrainConfig(max_steps=2,
                                                                     verbose=False))
  stats = json.loads((tmp_path / train.CORPUS_DENSITY_FILE).read_text())
  by_hand = [16.0] * 3 + [2.0] * 4 + [4.0] * 2 + [2.0] * 5
  np.testing.assert_allclose(stats["note_lengths"], np.sort(by_hand))
  model, _ = train.load_trained(tmp_path)
  np.testing.assert_allclose(model.corpus_note_lengths, np.sort(by_hand))
  last, rolls = generate.generate_rolls(model, 30, alpha=0.25, seed=5)
  # The same pieces by hand: rank at the fixed hold, the corpus's length, the nearest hold.
  ref = generate.model_reference(model)
  cells = postprocess.density_targets(postprocess.expected_cells(last), ref["expected_cells"],
                                      model.corpus_cells)
  at_hold = postprocess.to_rolls(last, "notes", hold=0.6, min_note_steps=2, targets=cells,
                                 grid_steps=2)
  lengths = postprocess.length_targets(postprocess.mean_note_steps(at_hold),
                                       ref["length_evidence"], model.corpus_note_lengths)
  want = postprocess.to_rolls(last, "notes", hold=0.6, min_note_steps=2, targets=cells,
                              grid_steps=2, length_targets=lengths)
  np.testing.assert_array_equal(rolls, want)
  # A folder written before the lengths were kept: one clear error.
  stats.pop("note_lengths")
  (tmp_path / train.CORPUS_DENSITY_FILE).write_text(json.dumps(stats))
  old, _ = train.load_trained(tmp_path)
  with pytest.raises(ValueError, match="note lengths.*resume or rerun"):
    generate.generate_rolls(old, 2, alpha=0.25, seed=5)


def _durations_from_flags(*argv):
  return helpers.train_baseline_config(("durations",), *argv)


def test_the_flag_sets_the_option_and_the_paper_decoder_refuses_it():
  assert _durations_from_flags("--config=writer").stdout.split() == ["corpus"]
  assert _durations_from_flags("--config=writer", "--durations=model").stdout.split() == [
      "model"]
  refused = _durations_from_flags("--config=baseline", "--durations=corpus")
  assert refused.returncode != 0 and "decoder='notes'" in refused.stderr


def test_note_candidates_on_threads_are_the_decoder_at_each_hold_one_by_one():
  rng = np.random.default_rng(13)
  canvases = rng.random((7, 32, 20)) ** rng.uniform(1, 6, (7, 1, 1))
  holds = (1.0, 0.2, 0.55)                      # any order: the output keeps it
  got = postprocess.note_candidates(canvases, holds, 2, 3, [30, 60, 10, 45, 5, 80, 25], 2)
  assert got.shape == (3, 7, 32, 20)
  for k, h in enumerate(holds):
    np.testing.assert_array_equal(got[k], postprocess.to_rolls(
        canvases, "notes", hold=h, min_note_steps=2, bridge_steps=3,
        targets=[30, 60, 10, 45, 5, 80, 25], grid_steps=2))
  with pytest.raises(ValueError, match="holds"):
    postprocess.note_candidates(canvases, (), 2)


def test_long_pieces_decode_every_chunk_with_their_first_chunks_texture(tmp_path):
  rng = np.random.default_rng(21)
  chunks = rng.random((24, 16, 128)) < rng.uniform(0.01, 0.2, (24, 1, 1))
  train.train(TINY, chunks, np.repeat(np.arange(6), 4), tmp_path,
              train.TrainConfig(max_steps=2, verbose=False))
  model, _ = train.load_trained(tmp_path)
  # 3 pieces of 5 beats = 40 steps: 3 chunks of 16, 2 seams of 4 candidates: 3 + 24 draws.
  n, total = 3, 3 * (1 + 2 * 4)
  canvases = generate.last_canvases(model, total, 7)
  ref = generate.model_reference(model)
  cells = postprocess.density_targets(postprocess.expected_cells(canvases),
                                      ref["expected_cells"], model.corpus_cells)
  at_hold = postprocess.to_rolls(canvases, "notes", hold=0.6, min_note_steps=2,
                                 targets=cells, grid_steps=2)
  lengths = postprocess.length_targets(postprocess.mean_note_steps(at_hold),
                                       ref["length_evidence"], model.corpus_note_lengths)
  # Draw j > n belongs to piece (j - n) // 8 and takes that piece's first draw's targets.
  owner = np.concatenate([np.arange(n), np.arange(total - n) // 8])
  assert not np.array_equal(cells[owner], cells)     # the fixture really changes targets
  want = postprocess.to_rolls(canvases, "notes", hold=0.6, min_note_steps=2,
                              targets=cells[owner], grid_steps=2,
                              length_targets=lengths[owner])
  got = generate.last_canvases_binarized(model, total, 0.25, 7, pieces=n)
  np.testing.assert_array_equal(got, want)
  # Each chunk its own: the draws as one-chunk pieces.
  own = generate.last_canvases_binarized(model, total, 0.25, 7)
  np.testing.assert_array_equal(own, postprocess.to_rolls(
      canvases, "notes", hold=0.6, min_note_steps=2, targets=cells, grid_steps=2,
      length_targets=lengths))
  # generate_long chains those draws: the first chunk is the piece's first draw.
  for texture, draws in (("piece", got), ("chunk", own)):
    pieces, chosen = generate.generate_long(model, n, 5, 0.25, 7, candidates=4,
                                            texture=texture)
    rest = draws[n:].reshape(n, 2, 4, 16, 128)
    for i in range(n):
      np.testing.assert_array_equal(pieces[i, :16], draws[i])
      np.testing.assert_array_equal(pieces[i, 16:32], rest[i, 0, chosen[i, 0]])
  with pytest.raises(ValueError, match="texture must be one of"):
    generate.generate_long(model, 1, 5, 0.25, 0, texture="song")
  with pytest.raises(ValueError, match="do not split into 2 pieces"):
    generate.last_canvases_binarized(model, 7, 0.25, 0, pieces=2)
  with pytest.raises(ValueError, match=r"targets\['lengths'\].*one value per canvas \(3\)"):
    generate.decode_for(model, canvases[:3], targets={"cells": cells[:3],
                                                      "lengths": lengths[:2]})
