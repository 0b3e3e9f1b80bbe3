"""Composer separation: halves, feature separation, the experiment end to end, its notebook."""

import json
import subprocess
import sys

import numpy as np
import pytest
from scipy import stats

from draw_music import results
from draw_music.metric import composer_separation
from tests import helpers
from tests import notebooks
from tests.conftest import REPO

CHUNK = 32


def test_random_halves_are_whole_pieces_and_uniform():
  index = np.repeat(np.arange(5), [3, 1, 4, 2, 6])
  rng = np.random.default_rng(0)
  seen = {}
  for _ in range(2000):
    mask = composer_separation.random_halves(index, rng)
    first = tuple(np.unique(index[mask]))
    assert len(first) == 2  # floor(5 / 2) pieces
    assert not set(first) & set(np.unique(index[~mask]))  # no piece on both sides
    seen[first] = seen.get(first, 0) + 1
  assert len(seen) == 10  # C(5, 2), every one drawn
  assert max(seen.values()) / min(seen.values()) < 1.6  # about equally often (200 each)
  with pytest.raises(ValueError, match="two distinct pieces"):
    composer_separation.random_halves(np.zeros(4, int), rng)


def test_feature_separation_is_welch_t_on_piece_means():
  # Corpus A: pieces (chunks) [1, 3] -> mean 2, [5] -> 5, [0, 2] -> 1; B: [10], [12, 14].
  a = (np.array([[1.0], [3.0], [5.0], [0.0], [2.0]]), np.array([0, 0, 1, 2, 2]))
  b = (np.array([[10.0], [12.0], [14.0]]), np.array([7, 9, 9]))
  (row,) = composer_separation.feature_separation({"A": a, "B": b}, ("f",))
  expected = stats.ttest_ind([2.0, 5.0, 1.0], [10.0, 13.0], equal_var=False).statistic
  assert row["abs_t"] == {"A|B": pytest.approx(abs(expected))}
  assert row["median_abs_t"] == pytest.approx(abs(expected))


def _style(rng, num_pieces, density, low, high):
  return [helpers.random_roll(rng, CHUNK * 4, density * rng.uniform(0.7, 1.3), low, high)
          for _ in range(num_pieces)]


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
  rng = np.random.default_rng(0)
  root = tmp_path_factory.mktemp("composers")
  return {
      "low": helpers.write_corpus(root / "low", _style(rng, 8, 0.3, 36, 60)),
      "high": helpers.write_corpus(root / "high", _style(rng, 8, 0.3, 64, 90)),
      "dense": helpers.write_corpus(root / "dense", _style(rng, 8, 1.2, 40, 80)),
  }


def test_experiment_writes_results_and_notebook_redraws(folders, tmp_path):
  out_dir = tmp_path / "out"
  corpora = ",".join(str(folders[k]) for k in ("low", "high", "dense"))
  proc = subprocess.run(
      [sys.executable, "-m", "experiments.composer_separation", f"--corpora={corpora}",
       f"--out_dir={out_dir}", f"--chunk_steps={CHUNK}", "--num_permutations=199",
       "--false_alarm_halvings=5", "--false_alarm_permutations=19", "--seed=1"],
      cwd=REPO, capture_output=True, text=True, check=False)
  assert proc.returncode == 0, proc.stderr
  data = json.loads((out_dir / "composer_separation.json").read_text())
  assert data["run"]["seed"] == 1 and data["run"]["config"]["feature_set"] == "extended"
  assert "experiments.composer_separation" in data["run"]["command"]
  assert [(p["a"], p["b"]) for p in data["pairs"]] == [("low", "high"), ("low", "dense"),
                                                       ("high", "dense")]
  assert all(p["verdict"] == "different" for p in data["pairs"])
  assert set(data["halvings"]) == {"low", "high", "dense"}
  assert len(data["false_alarms"]["low"]["mmd_p"]) == 5
  assert len(data["feature_separation"]) == 44
  assert len(data["pairs"][0]["relative"]) == 25
  rows = results.read_csv(out_dir / "composer_separation.csv")
  assert len(rows) == 6 and {r["kind"] for r in rows} == {"pair", "halving"}
  assert (out_dir / "composer_separation.png").stat().st_size > 0
  assert "halving" in proc.stdout and "low vs high" in " ".join(proc.stdout.split())
  notebooks.run_notebook("composer_separation.ipynb", out_dir)


def test_bad_flags_exit_non_zero(folders, tmp_path):
  proc = subprocess.run(
      [sys.executable, "-m", "experiments.composer_separation",
       f"--corpora={folders['low']},{tmp_path / 'missing'}", f"--out_dir={tmp_path}"],
      cwd=REPO, capture_output=True, text=True, check=False)
  assert proc.returncode != 0 and "missing" in proc.stderr and "--corpora" in proc.stderr
  proc = subprocess.run(
      [sys.executable, "-m", "experiments.composer_separation",
       f"--corpora={folders['low']}", f"--out_dir={tmp_path}"],
      cwd=REPO, capture_output=True, text=True, check=False)
  assert proc.returncode != 0 and "at least two corpora" in proc.stderr
