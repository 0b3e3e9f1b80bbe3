"""Fig. 1: the validation protocol, the experiment end to end, its notebook, and real data."""

import json
import subprocess
import sys

import numpy as np
import pytest

from draw_music import results
from draw_music.corpora import corpus as corpus_lib
from draw_music.paper import validation
from tests import helpers
from tests import notebooks
from tests.conftest import REPO, shared_data


def test_sample_rows_replacement_only_when_short():
  rng = np.random.default_rng(0)
  rows, replaced = validation.sample_rows(np.arange(10), 4, rng)
  assert not replaced and len(set(rows.tolist())) == 4
  rows, replaced = validation.sample_rows(np.arange(3), 8, rng)
  assert replaced and len(rows) == 8 and set(rows.tolist()) <= {0, 1, 2}
  with pytest.raises(ValueError, match="empty"):
    validation.sample_rows(np.zeros((0, 2)), 1, rng)


def test_metric_validation_orders_and_counts():
  rng = np.random.default_rng(5)
  corpus = [helpers.random_roll(rng, 640, 0.4, 40, 80) for _ in range(6)]   # 60 chunks of 64
  close = [helpers.random_roll(rng, 640, 0.45, 38, 82) for _ in range(2)]   # 20 chunks
  far = [helpers.random_roll(rng, 640, 0.05, 95, 120) for _ in range(2)]
  out = validation.metric_validation(corpus, {"close": close, "far": far}, "corpus",
                                     num_reference=30, chunk_steps=64, num_samples=40, seed=1)
  assert list(out["distances"]) == ["corpus", "close", "far", "sensible random", "random"]
  assert all(len(d) == 40 for d in out["distances"].values())
  assert out["sets"]["corpus"] == {"available_chunks": 30, "with_replacement": True}
  assert out["sets"]["close"]["available_chunks"] == 20
  medians = {k: np.median(v) for k, v in out["distances"].items()}
  assert medians["corpus"] < medians["far"] and medians["close"] < medians["far"]
  assert medians["far"] < medians["random"]
  # p = 0.012 on 64 x 128 cells: expected 98.3 active cells per piece.
  assert out["sets"]["random"]["mean_active_cells"] == pytest.approx(64 * 128 * 0.012, rel=0.05)
  again = validation.metric_validation(corpus, {"close": close, "far": far}, "corpus",
                                       num_reference=30, chunk_steps=64, num_samples=40, seed=1)
  np.testing.assert_array_equal(again["distances"]["close"], out["distances"]["close"])


def test_metric_validation_needs_held_out_chunks():
  rng = np.random.default_rng(6)
  with pytest.raises(ValueError, match="reference needs 100"):
    validation.metric_validation([helpers.random_roll(rng, 300 * 50, 0.3)], {})


def test_experiment_and_notebook(tmp_path):
  corpus = shared_data("beethoven_piano")
  others = f"{shared_data('other')},{shared_data('jazz')}"
  out_dir = tmp_path / "fig1"
  proc = subprocess.run(
      [sys.executable, "-m", "experiments.fig1_metric_validation", f"--corpus={corpus}",
       f"--others={others}", f"--out_dir={out_dir}", "--num_reference=40",
       "--num_samples=30", "--chunk_steps=104", "--seed=3"],
      cwd=REPO, capture_output=True, text=True, check=False)
  assert proc.returncode == 0, proc.stderr
  assert "[writing results" in proc.stdout
  rows = results.read_csv(out_dir / "fig1_distances.csv")
  assert len(rows) == 5 * 30
  assert {r["set"] for r in rows} == {"beethoven_piano", "other", "jazz", "random",
                                      "sensible random"}
  summary = json.loads((out_dir / "fig1_summary.json").read_text())
  assert summary["run"]["seed"] == 3 and summary["run"]["config"]["num_reference"] == 40
  jazz = [float(r["distance"]) for r in rows if r["set"] == "jazz"]
  assert summary["sets"]["jazz"]["median"] == pytest.approx(np.median(jazz))
  assert (out_dir / "fig1_metric_validation.png").stat().st_size > 10_000
  notebooks.run_notebook("fig1_metric_validation.ipynb", out_dir)


def test_bad_corpus_flag_exits_non_zero(tmp_path):
  proc = subprocess.run(
      [sys.executable, "-m", "experiments.fig1_metric_validation",
       f"--corpus={tmp_path / 'missing'}", f"--others={tmp_path}", f"--out_dir={tmp_path}"],
      cwd=REPO, capture_output=True, text=True, check=False)
  assert proc.returncode != 0
  assert "--corpus" in proc.stderr and "missing" in proc.stderr


def test_paper_ordering_on_real_data():
  """The issue's acceptance check: corpus < Chopin < jazz < sensible random < random."""
  load = lambda name: corpus_lib.load_corpus(shared_data(name)).rolls
  out = validation.metric_validation(load("beethoven_piano"),
                                     {"chopin": load("other"), "jazz": load("jazz")},
                                     "beethoven", seed=0)
  medians = [np.median(d) for d in out["distances"].values()]
  assert list(out["distances"]) == ["beethoven", "chopin", "jazz", "sensible random",
                                    "random"]
  assert np.all(np.diff(medians) > 0), medians
