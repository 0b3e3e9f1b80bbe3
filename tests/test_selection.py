"""Checkpoint selection on held-out pieces: the split, the score, the kept weights, resuming."""

import dataclasses
import json

import numpy as np
import pytest
from scipy import linalg

from draw_music.metric import features
from draw_music.writer import generate
from draw_music.writer import model as model_lib
from draw_music.writer import selection
from draw_music.writer import train
from tests import helpers

# Chunks per piece, lopsided: one long piece, two one-chunk pieces.
COUNTS = (3, 9, 1, 5, 1, 4)
CONFIG = dataclasses.replace(model_lib.get_config("tiny"), holdout=0.3, select_every=4,
                             select_pieces=24)


@pytest.fixture(scope="module")
def data():
  rng = np.random.default_rng(5)
  rolls = [helpers.random_roll(rng, 16 * k, 0.4) for k in COUNTS]
  chunks = np.concatenate([r.reshape(-1, 16, 128) for r in rolls])
  piece_index = np.concatenate([np.full(k, i) for i, k in enumerate(COUNTS)])
  return chunks, piece_index


def run(out_dir, data, config=CONFIG, **kwargs):
  kwargs = {"checkpoint_every": 4, "verbose": False, "seed": 3, **kwargs}
  return train.train(config, *data, out_dir, train.TrainConfig(**kwargs),
                     piece_names=[f"piece{i}.mid" for i in range(len(COUNTS))])


# ------------------------------------------------------------------------------ the split


@pytest.mark.parametrize("fraction,seed", [(0.3, 3), (0.05, 0), (0.5, 1), (0.99, 2)])
def test_holdout_takes_whole_pieces_in_seeded_order_until_the_share_is_reached(fraction, seed):
  piece_index = np.repeat(np.arange(len(COUNTS)), COUNTS)
  held = selection.holdout_pieces(piece_index, fraction, seed)
  # By hand: walk the seeded order, stop once the held chunks reach the share.
  order = np.random.default_rng(seed).permutation(len(COUNTS))
  want, total = [], 0
  for piece in order:
    if total >= fraction * sum(COUNTS) or len(want) == len(COUNTS) - 1:
      break
    want.append(piece)
    total += COUNTS[piece]
  np.testing.assert_array_equal(held, sorted(want))
  assert 1 <= len(held) <= len(COUNTS) - 1


def test_holdout_needs_two_pieces_and_a_share_in_range():
  with pytest.raises(ValueError, match="at least 2 pieces"):
    selection.holdout_pieces(np.zeros(5, int), 0.2, 0)
  for bad in (0.0, 1.0, -0.1):
    with pytest.raises(ValueError, match="holdout"):
      selection.holdout_pieces(np.array([0, 1, 1]), bad, 0)


def test_config_holdout_and_selection_go_together():
  tiny = model_lib.get_config("tiny")
  with pytest.raises(ValueError, match="go together"):
    dataclasses.replace(tiny, holdout=0.2)
  with pytest.raises(ValueError, match="go together"):
    dataclasses.replace(tiny, select_every=10)
  with pytest.raises(ValueError, match="holdout"):
    dataclasses.replace(tiny, holdout=1.0, select_every=10)
  with pytest.raises(ValueError, match="select_pieces"):
    dataclasses.replace(CONFIG, select_pieces=1)
  assert model_lib.get_config("baseline").holdout == 0  # the paper trains on every piece


# ------------------------------------------------------------------------------ training


def _frechet_by_hand(ref, other):
  mean, std = ref.mean(0), ref.std(0, ddof=1)
  std = np.where(std > 1e-12 * np.maximum(1, np.abs(mean)), std, 1.0)
  a, b = (ref - mean) / std, (other - mean) / std
  ca, cb = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
  root = linalg.sqrtm(ca @ cb)
  return float(np.sum((a.mean(0) - b.mean(0)) ** 2) + np.trace(ca) + np.trace(cb)
               - 2 * np.trace(root).real)


@pytest.mark.filterwarnings("ignore::scipy.linalg.LinAlgWarning")
def test_training_holds_out_pieces_scores_them_and_keeps_the_best(tmp_path, data):
  chunks, piece_index = data
  summary = run(tmp_path / "a", data, max_steps=14)
  state = json.loads((tmp_path / "a" / selection.SELECTION_FILE).read_text())
  held = selection.holdout_pieces(piece_index, CONFIG.holdout, 3)
  assert state["heldout_pieces"] == [f"piece{i}.mid" for i in held]
  train_chunks = chunks[~np.isin(piece_index, held)]
  # Training saw only the other pieces: their active cells are the note decoder's corpus.
  cells = json.loads((tmp_path / "a" / train.CORPUS_DENSITY_FILE).read_text())["active_cells"]
  np.testing.assert_array_equal(cells, np.sort(train_chunks.reshape(len(train_chunks), -1)
                                               .sum(1)))
  # Scored every 4 steps and at the last one; the selected row is the smallest score.
  rows = state["scores"]
  assert [r["step"] for r in rows] == [4, 8, 12, 14]
  best = min(rows, key=lambda r: r["score"])
  assert state["selected"]["step"] == best["step"] == summary["selected"]["step"]
  assert [r["best"] for r in rows] == [r["score"] < min([x["score"] for x in rows[:i]],
                                                       default=np.inf)
                                       for i, r in enumerate(rows)]
  # Generation reads the selected weights; 'last' reads the final ones.
  model, step = train.load_trained(tmp_path / "a")
  assert step == best["step"]
  assert train.load_trained(tmp_path / "a", choice="last")[1] == 14
  # The score, recomputed by hand: the held-out chunks are the reference, per feature set.
  canvases = generate.last_canvases(model, CONFIG.select_pieces, selection.SAMPLE_SEED)
  rolls = generate.decode_canvases(model.config, canvases)
  heldout = chunks[np.isin(piece_index, held)]
  total = 0.0
  for fs in selection.FEATURE_SETS:
    want = _frechet_by_hand(features.signatures(heldout, fs), features.signatures(rolls, fs))
    assert best[fs] == pytest.approx(want, rel=1e-5, abs=1e-8)
    total += want
  assert best["score"] == pytest.approx(total, rel=1e-5)
  # The selected weights are the weights a run stopped at that step ends with.
  run(tmp_path / "b", data, max_steps=best["step"])
  again, _ = train.load_trained(tmp_path / "b", choice="last")
  for w, v in zip(model.weights, again.weights):
    np.testing.assert_array_equal(w.numpy(), v.numpy())


def test_a_resumed_run_scores_each_step_once_and_selects_as_an_unbroken_one(tmp_path, data):
  run(tmp_path / "u", data, max_steps=12)
  run(tmp_path / "r", data, max_steps=8)
  run(tmp_path / "r", data, max_steps=12)
  run(tmp_path / "r", data, max_steps=12)  # at its end already: nothing new to score
  read = lambda d: json.loads((tmp_path / d / selection.SELECTION_FILE).read_text())
  unbroken, resumed = read("u"), read("r")
  assert [r["step"] for r in resumed["scores"]] == [4, 8, 12]
  for a, b in zip(unbroken["scores"], resumed["scores"]):
    assert a["score"] == pytest.approx(b["score"], rel=1e-5)
  assert unbroken["selected"]["step"] == resumed["selected"]["step"]


def test_the_selected_weights_fall_back_when_damaged(tmp_path, data, capfd):
  run(tmp_path / "a", data, max_steps=8)
  selected = list((tmp_path / "a" / selection.SELECTED_DIR).glob("weights-*.data-*"))
  assert len(selected) == 1
  selected[0].write_bytes(selected[0].read_bytes()[:10])
  _, step = train.load_trained(tmp_path / "a")
  assert step == 8
  assert "skipped checkpoint" in capfd.readouterr().err


def test_generate_reads_the_selected_weights_or_the_last_on_request(tmp_path, data):
  run(tmp_path / "a", data, max_steps=14)
  selected = json.loads((tmp_path / "a" / selection.SELECTION_FILE).read_text())["selected"]
  assert selected["step"] != 14  # else the two choices would not differ here
  for weights, want in (("selected", selected["step"]), ("last", 14)):
    out = tmp_path / weights
    assert generate.main(["--checkpoint", str(tmp_path / "a"), "--n", "2", "--no-audio",
                          "--weights", weights, "--out_dir", str(out)]) == 0
    run_info = json.loads((out / "pieces.json").read_text())["run"]["config"]
    assert run_info["step"] == want and run_info["weights"] == weights
