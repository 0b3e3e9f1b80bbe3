"""Style separation: the degenerate generators, the protocol, the experiment, real data."""

import json
import subprocess
import sys

import numpy as np
import pytest

from draw_music import results
from draw_music.corpora import corpus as corpus_lib
from draw_music.metric import features
from draw_music.metric import measure
from draw_music.metric import style_separation
from tests import helpers
from tests import notebooks
from tests.conftest import REPO, shared_data

CHUNK = 32


def test_mean_roll_hand_computed():
  chunks = np.zeros((3, 4, 128), bool)
  chunks[:, 0, 60] = True            # on in 3 of 3 chunks
  chunks[0, 1, 62] = True            # on in 2 of 3 chunks, time 1
  chunks[2, 1, 62] = True
  chunks[1, 2, 64] = True            # on in 2 of 3 chunks, time 2: ties with (1, 62)
  chunks[2, 2, 64] = True
  # Active cells per chunk: 2, 2, 3; mean 7/3, rounded to k = 2.
  before = chunks.copy()
  roll, info = style_separation.mean_roll(chunks)
  expected = np.zeros((4, 128), bool)
  expected[0, 60] = expected[1, 62] = True  # the tie goes to the earlier cell
  np.testing.assert_array_equal(roll, expected)
  assert info == {"active_cells": 2, "corpus_mean_active_cells": pytest.approx(7 / 3),
                  "threshold": pytest.approx(2 / 3)}
  np.testing.assert_array_equal(chunks, before)  # input untouched
  with pytest.raises(ValueError, match=r"\[n, T, 128\]"):
    style_separation.mean_roll(np.zeros((0, 4, 128), bool))


def test_mean_roll_density_matches_corpus():
  rng = np.random.default_rng(0)
  chunks = np.stack([helpers.random_roll(rng, 64, rng.uniform(0.1, 0.6)) for _ in range(30)])
  roll, info = style_separation.mean_roll(chunks)
  mean_cells = chunks.sum(axis=(1, 2)).mean()
  assert roll.sum() == info["active_cells"] == round(mean_cells)
  share = chunks.mean(axis=0)
  assert share[roll].min() >= share[~roll].max()  # the most often active cells


def test_typical_chunk_index():
  assert style_separation.typical_chunk_index([3.0, 1.5, 2.0, 1.5]) == 1
  with pytest.raises(ValueError, match="n >= 1"):
    style_separation.typical_chunk_index([])


def _style(rng, num_pieces, density, low, high, chunks_per_piece=8):
  """Piece-structured corpus: each piece its own density and pitch range around a style's."""
  return [helpers.random_roll(rng, CHUNK * chunks_per_piece, density * rng.uniform(0.7, 1.3),
                              low + int(rng.integers(0, 8)), high - int(rng.integers(0, 8)))
          for _ in range(num_pieces)]


@pytest.fixture(scope="module")
def synthetic():
  rng = np.random.default_rng(21)
  corpus = _style(rng, 16, 0.4, 30, 85)
  others = {"close": _style(rng, 8, 0.4, 30, 85), "far": _style(rng, 6, 0.1, 88, 124)}
  kwargs = dict(corpus_name="toy", chunk_steps=CHUNK, num_samples=60, num_splits=4,
                num_permutations=100, calibration_permutations=50, seed=2)
  return corpus, others, kwargs, style_separation.style_separation(corpus, others, **kwargs)


def test_protocol_sets_sizes_and_records(synthetic):
  corpus, _, kwargs, out = synthetic
  assert list(out["sets"]) == ["halves", "close", "far", "random", "sensible random",
                               "repeated chunk", "mean roll"]
  assert out["reference"]["num_chunks"] == 16 * 8 and out["reference"]["num_pieces"] == 16
  half, judged = out["reference"]["half"], out["reference"]["judged_half"]
  assert half["num_chunks"] + judged["num_chunks"] == 128
  assert half["num_pieces"] + judged["num_pieces"] == 16
  sets = out["sets"]
  assert sets["halves"]["reference"] == "half"
  assert sets["halves"]["set_level"]["num_ref"] == half["num_chunks"]
  assert sets["halves"]["num_chunks"] == min(60, judged["num_chunks"])
  assert sets["close"]["available_chunks"] == 64 and sets["close"]["num_chunks"] == 60
  # Fewer than num_samples non-empty chunks (at most 48): used whole, not resampled.
  assert sets["far"]["num_chunks"] == sets["far"]["available_chunks"] <= 48
  for name in ("close", "far", "random", "repeated chunk", "mean roll"):
    assert sets[name]["reference"] == "corpus"
    assert sets[name]["set_level"]["num_ref"] == 128
    assert len(sets[name]["distances"]) == sets[name]["num_chunks"]
  # Every set against the full corpus shares one calibration.
  assert sets["far"]["set_level"]["thresholds"] == sets["close"]["set_level"]["thresholds"]
  # The repeated chunk is the corpus's most typical chunk, written num_samples times.
  chunks, piece_index = corpus_lib.corpus_chunks(corpus, CHUNK)
  sigs = features.signatures(chunks)
  corpus_d = measure.Reference.from_signatures(sigs).distance(sigs)
  record = out["degenerate"]["repeated chunk"]
  assert record["chunk"] == int(np.argmin(corpus_d))
  assert record["piece"] == piece_index[record["chunk"]]
  np.testing.assert_allclose(sets["repeated chunk"]["distances"], corpus_d.min())
  assert sets["repeated chunk"]["num_chunks"] == 60
  assert out["degenerate"]["mean roll"]["active_cells"] == round(
      chunks.sum(axis=(1, 2)).mean())
  # Same seed, same numbers.
  again = style_separation.style_separation(corpus, synthetic[1], **kwargs)
  for name in sets:
    np.testing.assert_array_equal(again["sets"][name]["distances"], sets[name]["distances"])
    assert again["sets"][name]["set_level"]["p_value"] == sets[name]["set_level"]["p_value"]


def test_protocol_verdicts(synthetic):
  sets = synthetic[3]["sets"]
  verdicts = {name: s["set_level"]["verdict"] for name, s in sets.items()}
  assert verdicts == {"halves": "same", "close": "same", "far": "different",
                      "random": "different", "sensible random": "different",
                      "repeated chunk": "different", "mean roll": "different"}, {
                          name: s["set_level"]["reason"] for name, s in sets.items()}
  assert sets["repeated chunk"]["set_level"]["diversity_ratio"] == 0.0
  assert sets["repeated chunk"]["per_piece"]["fraction_per_category"]["like the corpus"] == 1.0


def test_summary_rows(synthetic):
  rows = style_separation.summary_rows(synthetic[3])
  assert [r["set"] for r in rows] == list(synthetic[3]["sets"])
  far = rows[2]
  level = synthetic[3]["sets"]["far"]["set_level"]
  assert far["frechet"] == level["frechet"] and far["verdict"] == level["verdict"]
  assert far["top_ks_statistic"] == max(k["statistic"] for k in level["ks"])
  assert far["share_like_corpus"] == pytest.approx(
      np.mean(synthetic[3]["sets"]["far"]["distances"] < 4.5))


def test_protocol_rejects_too_few_pieces():
  rng = np.random.default_rng(3)
  with pytest.raises(ValueError, match="at least 4"):
    style_separation.style_separation(_style(rng, 3, 0.4, 30, 80, 12), {}, chunk_steps=CHUNK)


def test_experiment_and_notebook(tmp_path):
  corpus = shared_data("beethoven_piano")
  others = f"{shared_data('other')},{shared_data('jazz')}"
  out_dir = tmp_path / "style"
  proc = subprocess.run(
      [sys.executable, "-m", "experiments.style_separation", f"--corpus={corpus}",
       f"--others={others}", f"--out_dir={out_dir}", "--num_samples=40", "--num_splits=2",
       "--num_permutations=50", "--seed=3"],
      cwd=REPO, capture_output=True, text=True, check=False)
  assert proc.returncode == 0, proc.stderr
  assert "[writing results" in proc.stdout and "[mean roll:" in proc.stdout
  rows = results.read_csv(out_dir / "style_separation.csv")
  names = ["halves", "other", "jazz", "random", "sensible random", "repeated chunk",
           "mean roll"]
  assert [r["set"] for r in rows] == names
  saved = json.loads((out_dir / "style_separation.json").read_text())
  assert saved["run"]["seed"] == 3 and saved["run"]["config"]["num_samples"] == 40
  assert list(saved["sets"]) == names
  jazz = saved["sets"]["jazz"]
  assert len(jazz["distances"]) == 40
  assert float(rows[2]["frechet"]) == pytest.approx(jazz["set_level"]["frechet"])
  assert rows[2]["verdict"] == jazz["set_level"]["verdict"]
  assert jazz["per_piece"]["median"] == pytest.approx(np.median(jazz["distances"]))
  assert saved["degenerate"]["repeated chunk"]["piece_name"].endswith(".mid")
  assert len(saved["reference"]["half"]["piece_names"]) == saved["reference"]["half"][
      "num_pieces"]
  assert (out_dir / "style_separation.png").stat().st_size > 10_000
  notebooks.run_notebook("style_separation.ipynb", out_dir)


def test_bad_corpus_flag_exits_non_zero(tmp_path):
  proc = subprocess.run(
      [sys.executable, "-m", "experiments.style_separation",
       f"--corpus={tmp_path / 'missing'}", f"--others={tmp_path}", f"--out_dir={tmp_path}"],
      cwd=REPO, capture_output=True, text=True, check=False)
  assert proc.returncode != 0
  assert "--corpus" in proc.stderr and "missing" in proc.stderr


def test_required_verdicts_on_real_data():
  """The issue's acceptance check on ../shared/data (Beethoven as the corpus).

  Beethoven halves "same"; jazz, random, sensible random and both degenerate sets
  "different", while the per-chunk distance calls every degenerate chunk "like the corpus".
  Chopin is recorded, not asserted (with the piece-level test it comes out "different",
  p = 0.013 with 500 chunks and 1000 permutations: README, "Telling composers apart").
  """
  load = lambda name: corpus_lib.load_corpus(shared_data(name)).rolls
  out = style_separation.style_separation(
      load("beethoven_piano"), {"chopin": load("other"), "jazz": load("jazz")},
      "beethoven", num_samples=300, num_permutations=500, seed=0)
  sets = out["sets"]
  verdicts = {name: s["set_level"]["verdict"] for name, s in sets.items()}
  print("verdicts:", verdicts)
  expected = {"halves": "same", "jazz": "different", "random": "different",
              "sensible random": "different", "repeated chunk": "different",
              "mean roll": "different"}
  assert {k: verdicts[k] for k in expected} == expected, verdicts
  for name in ("repeated chunk", "mean roll"):
    like = sets[name]["per_piece"]["fraction_per_category"]["like the corpus"]
    assert like == 1.0, (name, sets[name]["per_piece"])
