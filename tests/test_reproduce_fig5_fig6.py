"""Fig. 5 and Fig. 6: the sweeps against an independent computation, the summaries on
lopsided hand-made arrays, and both experiments and notebooks end to end on a tiny model."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from scipy.spatial import distance as scipy_distance

from draw_music import results
from draw_music.corpora import corpus as corpus_lib
from draw_music.metric import features
from draw_music.metric import measure
from draw_music.paper import reproduce
from draw_music.writer import model as model_lib
from tests import helpers
from tests import notebooks
from tests.conftest import REPO

CONFIG = model_lib.get_config("tiny")  # 16-step chunks, 3 DRAW steps
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}


def reference_signatures(rng, n=300):
  """`[n, 17]` lopsided Gaussian signatures with a regular covariance (no pinv cut-off)."""
  scale = np.array([0.05, 0.3, 0.2, 0.1, 0.1, 0.05, 0.03, 0.1, 0.02, 0.04, 0.02, 8.0, 1.0,
                    2.0, 1.5, 0.02, 2.0])
  mean = np.array([0.2, 1.5, 0.4, 0.6, 0.3, 0.45, 0.08, 0.3, 0.0, 0.1, 0.08, 20.0, 1.0,
                   5.0, 4.0, 0.03, 8.0])
  mixed = rng.normal(size=(n, 17)) @ (np.eye(17) + 0.3 * rng.normal(size=(17, 17)))
  return mean + scale * (mixed + rng.exponential(size=(n, 17)))


def canvases_like_a_model(rng, shape):
  """Lopsided canvases in (0, 1), the first output constant (empty at every alpha)."""
  canvases = rng.beta(0.4, 6.0, size=shape).astype(np.float32)
  canvases[0] = 0.3
  return canvases


def independent_distances(rolls, ref_sigs):
  mean = ref_sigs.mean(axis=0)
  precision = np.linalg.pinv(np.cov(ref_sigs, rowvar=False))
  return np.array([scipy_distance.mahalanobis(s, mean, precision)
                   for s in features.signatures(rolls)])


@pytest.fixture(scope="module")
def ref_sigs():
  return reference_signatures(np.random.default_rng(0))


@pytest.mark.parametrize("block_cells", [1 << 26, 3 * 16 * 128])
def test_threshold_sweep_matches_a_loop_over_alphas(ref_sigs, monkeypatch, block_cells):
  monkeypatch.setattr(reproduce, "_BLOCK_CELLS", block_cells)  # also in blocks of outputs
  rng = np.random.default_rng(1)
  canvases = canvases_like_a_model(rng, (5, 16, 128))
  before = canvases.copy()
  alphas = np.array([0.0, 0.1, 0.25, 0.45, 0.8, 1.0])
  reference = measure.Reference.from_signatures(ref_sigs)
  got, active = reproduce.threshold_sweep(canvases, reference, alphas, return_active=True)
  assert got.shape == active.shape == (5, 6)
  for j, alpha in enumerate(alphas):
    rolls = model_lib.binarize(canvases, alpha)
    np.testing.assert_allclose(got[:, j], independent_distances(rolls, ref_sigs), rtol=1e-9)
    np.testing.assert_array_equal(active[:, j], rolls.sum(axis=(1, 2)))
  np.testing.assert_array_equal(canvases, before)
  # Empty pieces (the constant output; everything at alpha = 1) score the zero signature.
  empty = reference.distance(np.zeros((1, 17)))[0]
  assert (active[0] == 0).all() and (active[:, -1] == 0).all()
  np.testing.assert_allclose(got[0], empty)
  np.testing.assert_allclose(got[:, -1], empty)
  assert (active[1:, :-1] > 0).all()  # the max cell is 1 > alpha: never empty below 1


def test_step_sweep_matches_a_loop_over_steps(ref_sigs):
  rng = np.random.default_rng(2)
  canvases = canvases_like_a_model(rng, (3, 4, 16, 128))
  before = canvases.copy()
  reference = measure.Reference.from_signatures(ref_sigs)
  got, active = reproduce.step_sweep(canvases, reference, 0.3, return_active=True)
  assert got.shape == (3, 4)
  for t in range(4):
    rolls = model_lib.binarize(canvases[:, t], 0.3)
    np.testing.assert_allclose(got[:, t], independent_distances(rolls, ref_sigs), rtol=1e-9)
    np.testing.assert_array_equal(active[:, t], rolls.sum(axis=(1, 2)))
  np.testing.assert_array_equal(canvases, before)
  # The last step at one alpha is one column of the threshold sweep.
  np.testing.assert_allclose(
      reproduce.threshold_sweep(canvases[:, -1], reference, [0.3])[:, 0], got[:, -1])


def test_sweeps_reject_bad_arguments(ref_sigs):
  reference = measure.Reference.from_signatures(ref_sigs)
  with pytest.raises(ValueError, match=r"alphas must be in \[0, 1\]"):
    reproduce.threshold_sweep(np.zeros((2, 16, 128)), reference, [0.5, 1.5])
  with pytest.raises(ValueError, match="canvases must be"):
    reproduce.threshold_sweep(np.zeros((2, 3, 16, 128)), reference, [0.5])
  with pytest.raises(ValueError, match="canvases must be"):
    reproduce.step_sweep(np.zeros((2, 16, 128)), reference, 0.5)


# Hand-made, lopsided: column 0 has the lowest median but a long tail (mean 4, std
# sqrt(19)); column 1 is constant (std 0) but high; column 2 has the lowest median + 1.96 std
# (3 + 1.96 * 0.5 = 3.98 < 4); column 3 is bad everywhere.
DISTANCES = np.array([[1.0, 4.0, 2.5, 5.0],
                      [2.0, 4.0, 3.0, 6.0],
                      [9.0, 4.0, 3.5, 20.0]])
# Active cells: one empty piece in column 2, two in column 3.
ACTIVE = np.array([[1, 3, 5, 0], [7, 3, 0, 0], [2, 3, 5, 1]])


def test_threshold_summary_on_a_lopsided_sweep():
  alphas = np.array([0.1, 0.2, 0.3, 0.4])
  s = reproduce.threshold_summary(DISTANCES, alphas)
  assert s["picked_among"] == "all columns"
  assert s["best"]["alpha"] == 0.1 and s["best"]["median"] == 2.0
  assert s["best"]["std"] == pytest.approx(np.sqrt(19.0))
  assert s["best"]["upper"] == pytest.approx(2.0 + 1.96 * np.sqrt(19.0))
  assert s["points"][0]["lower"] == pytest.approx(2.0 - 1.96 * np.sqrt(19.0))
  assert s["most_stable"]["alpha"] == 0.3 and s["most_stable"]["upper"] == pytest.approx(3.98)
  assert s["lowest_std"]["alpha"] == 0.2 and s["lowest_std"]["std"] == 0.0
  median, std = reproduce.curves(s)
  np.testing.assert_allclose(median, [2.0, 4.0, 3.0, 6.0])
  np.testing.assert_allclose(std, DISTANCES.std(axis=0, ddof=1))


def test_summary_picks_skip_points_with_empty_pieces():
  alphas = np.array([0.1, 0.2, 0.3, 0.4])
  s = reproduce.threshold_summary(DISTANCES, alphas, active=ACTIVE)
  assert s["picked_among"] == "columns without an empty piece"
  assert [p["empty_pieces"] for p in s["points"]] == [0, 0, 1, 2]
  assert s["points"][0]["mean_active_cells"] == pytest.approx(10 / 3)
  assert s["best"]["alpha"] == 0.1
  assert s["most_stable"]["alpha"] == 0.2 and s["most_stable"]["upper"] == 4.0  # not 0.3
  # Every column with an empty piece: all are eligible again.
  s = reproduce.threshold_summary(DISTANCES, alphas, active=np.zeros_like(ACTIVE))
  assert s["picked_among"] == "all columns" and s["most_stable"]["alpha"] == 0.3
  with pytest.raises(ValueError, match="active must have shape"):
    reproduce.threshold_summary(DISTANCES, alphas, active=ACTIVE[:, :2])


def test_step_summary_centres_on_the_mean():
  s = reproduce.step_summary(DISTANCES)
  assert [p["step"] for p in s["points"]] == [1, 2, 3, 4]
  assert [p["t_over_T"] for p in s["points"]] == [0.25, 0.5, 0.75, 1.0]
  # Mean, not median: column 0's tail puts its mean at 4, so column 2 (mean 3) is best.
  assert s["best"]["step"] == 3 and s["best"]["mean"] == pytest.approx(3.0)
  assert s["most_stable"]["step"] == 3 and s["most_stable"]["upper"] == pytest.approx(3.98)
  assert s["lowest_std"]["step"] == 2
  assert "empty_pieces" not in s["points"][0]


def test_summary_ties_go_to_the_first_point_and_one_output_has_no_spread():
  s = reproduce.threshold_summary(np.array([[3.0, 2.0, 2.0]]), [0.0, 0.5, 1.0])
  assert s["best"]["alpha"] == 0.5 and s["most_stable"]["alpha"] == 0.5
  assert s["lowest_std"]["alpha"] == 0.0 and s["points"][2]["std"] == 0.0


def test_pivot_rows_undoes_the_csv_layout():
  rows = [{"output": str(i), "alpha": str(a), "distance": str(10 * i + a)}
          for a in (0.5, 0.0, 1.0) for i in (1, 0)]
  x, values = reproduce.pivot_rows(rows, "alpha")
  np.testing.assert_array_equal(x, [0.0, 0.5, 1.0])
  np.testing.assert_allclose(values, [[0.0, 0.5, 1.0], [10.0, 10.5, 11.0]])
  with pytest.raises(ValueError, match="one value per"):
    reproduce.pivot_rows(rows[:-1], "alpha")


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
  """A tiny model trained a few steps on a small synthetic corpus: `(corpus, training)`."""
  from draw_music.writer import train  # pylint: disable=g-import-not-at-top  (loads TensorFlow)
  root = tmp_path_factory.mktemp("fig5_fig6")
  rng = np.random.default_rng(3)
  corpus = helpers.write_corpus(root / "corpus",
                                [helpers.random_roll(rng, 16 * 12, 0.3) for _ in range(6)])
  chunks, piece_index = corpus_lib.corpus_chunks(corpus_lib.load_corpus(corpus).rolls, 16)
  train.train(CONFIG, chunks, piece_index, root / "training",
              train.TrainConfig(max_steps=4, checkpoint_every=4, verbose=False,
                                jit_compile=False, seed=1))
  return corpus, root / "training"


def test_load_checkpoint_errors_name_the_folder(trained, tmp_path):
  _, training = trained
  model, step, num_chunks = reproduce.load_checkpoint(training)
  assert step == 4 and model.config == CONFIG and num_chunks > 17
  with pytest.raises(reproduce.CheckpointError, match="does not exist"):
    reproduce.load_checkpoint(tmp_path / "missing")
  with pytest.raises(reproduce.CheckpointError, match="config.json"):
    reproduce.load_checkpoint(tmp_path)
  (tmp_path / "config.json").write_text((training / "config.json").read_text())
  with pytest.raises(reproduce.CheckpointError, match="no checkpoint"):
    reproduce.load_checkpoint(tmp_path)
  (tmp_path / "config.json").write_text("{not json")
  with pytest.raises(reproduce.CheckpointError, match=str(tmp_path)):
    reproduce.load_checkpoint(tmp_path)


def run_experiment(name, *flags):
  return subprocess.run([sys.executable, "-m", f"experiments.{name}", *flags], cwd=REPO,
                        env=ENV, capture_output=True, text=True, check=False)


def test_fig5_experiment_and_notebook(trained, tmp_path):
  corpus, training = trained
  proc = run_experiment("fig5_threshold", f"--checkpoint={training}", f"--corpus={corpus}",
                        f"--out_dir={tmp_path}", "--num_outputs=3", "--num_alphas=5",
                        "--seed=2")
  assert proc.returncode == 0, proc.stderr[-3000:]
  assert "warning" not in proc.stderr
  rows = results.read_csv(tmp_path / "fig5_distances.csv")
  assert len(rows) == 3 * 5
  assert list(rows[0]) == ["output", "alpha", "distance", "active_cells"]
  alphas, distances = reproduce.pivot_rows(rows, "alpha")
  np.testing.assert_allclose(alphas, np.linspace(0, 1, 5))
  summary = json.loads((tmp_path / "fig5_summary.json").read_text())
  assert {"run", "reference", "definitions", "best_median", "most_stable", "lowest_std",
          "empty_pieces", "per_alpha", "points_above_ymax"} <= set(summary)
  assert summary["run"]["seed"] == 2 and summary["run"]["config"]["num_alphas"] == 5
  assert len(summary["per_alpha"]) == 5
  medians = np.median(distances, axis=0)[:-1]  # alpha = 1 (all pieces empty) is not eligible
  assert summary["best_median"]["median"] == pytest.approx(medians.min())
  assert summary["best_median"]["alpha"] == pytest.approx(alphas[np.argmin(medians)])
  assert summary["per_alpha"][-1]["empty_pieces"] == 3  # alpha = 1: every piece is empty
  assert summary["picked_among"] == "columns without an empty piece"
  assert summary["most_stable"]["alpha"] < 1.0
  assert summary["empty_pieces"] >= 3
  assert (tmp_path / "fig5_threshold.png").stat().st_size > 10_000
  notebooks.run_notebook("fig5_threshold.ipynb", tmp_path)


def test_fig6_experiment_and_notebook(trained, tmp_path):
  corpus, training = trained
  proc = run_experiment("fig6_step_quality", f"--checkpoint={training}",
                        f"--corpus={corpus}", f"--out_dir={tmp_path}", "--num_outputs=3",
                        "--alpha=0.3")
  assert proc.returncode == 0, proc.stderr[-3000:]
  rows = results.read_csv(tmp_path / "fig6_distances.csv")
  assert len(rows) == 3 * CONFIG.num_steps
  assert list(rows[0]) == ["output", "step", "t_over_T", "distance", "active_cells"]
  assert sorted({int(r["step"]) for r in rows}) == [1, 2, 3]
  summary = json.loads((tmp_path / "fig6_summary.json").read_text())
  assert {"run", "alpha", "definitions", "best", "most_stable", "lowest_std", "per_step",
          "num_steps"} <= set(summary)
  assert summary["alpha"] == 0.3 and summary["num_steps"] == 3
  _, distances = reproduce.pivot_rows(rows, "t_over_T")
  assert summary["best"]["mean"] == pytest.approx(distances.mean(axis=0).min())
  assert summary["best"]["t_over_T"] == pytest.approx(summary["best"]["step"] / 3)
  assert (tmp_path / "fig6_step_quality.png").stat().st_size > 10_000
  notebooks.run_notebook("fig6_step_quality.ipynb", tmp_path)


def test_missing_checkpoint_exits_non_zero(tmp_path):
  for name in ("fig5_threshold", "fig6_step_quality"):
    proc = run_experiment(name, f"--checkpoint={tmp_path / 'missing'}",
                          f"--out_dir={tmp_path}")
    assert proc.returncode != 0
    assert "--checkpoint" in proc.stderr and "missing" in proc.stderr
    assert "Traceback" not in proc.stderr
