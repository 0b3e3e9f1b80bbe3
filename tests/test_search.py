"""Table I search, Fig. 4 and the decision tree: sampling, the results file, the tree, the
t-test, and (one test) the three experiments end to end on a local Ray, with their notebooks."""

import dataclasses
import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest
from scipy import stats

from draw_music import results
from draw_music.metric import measure
from draw_music.paper import search
from draw_music.paper import tree
from draw_music.writer import report
from tests import helpers
from tests import notebooks
from tests.conftest import REPO

TABLE1 = search.SEARCH_SPACES["table1"]
TINY = search.SEARCH_SPACES["tiny"]
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}


# ------------------------------------------------------------------------------- sampling


def test_table1_sampling_ranges_and_uniformity():
  samples = [search.sample_architecture(TABLE1, 0, i) for i in range(3000)]
  chunk = np.array([s["chunk_steps"] for s in samples])
  assert set(chunk.tolist()) == set(range(64, 161, 8))  # all 13 values, nothing else
  counts = np.bincount((chunk - 64) // 8)
  assert stats.chisquare(counts).pvalue > 1e-3
  for name, (low, high) in (("latent_dim", (5, 1000)), ("num_steps", (3, 75)),
                            ("units", (128, 1024))):
    values = np.array([s[name] for s in samples])
    assert values.min() >= low and values.max() <= high, name
    assert values.dtype.kind == "i"
    # Uniform over [low, high]: mean and the share below the midpoint.
    assert abs(values.mean() - (low + high) / 2) < 0.03 * (high - low), name
    assert abs(np.mean(values <= (low + high) / 2) - 0.5) < 0.04, name
  steps = np.array([s["num_steps"] for s in samples])
  assert steps.min() == 3 and steps.max() == 75  # both bounds are reachable
  tiny = [search.sample_architecture(TINY, 0, i) for i in range(500)]
  assert {s["chunk_steps"] for s in tiny} == {16, 24, 32}
  assert {s["units"] for s in tiny} == set(range(8, 17))


def test_sampling_is_a_pure_function_of_seed_and_trial():
  # Fixed values: the same on every machine and NumPy version (sha256-based draws).
  assert search.sample_architecture(TABLE1, 0, 0) == {
      "chunk_steps": 88, "latent_dim": 584, "num_steps": 69, "units": 625}
  assert search.sample_architecture(TABLE1, 0, 2) == {
      "chunk_steps": 136, "latent_dim": 59, "num_steps": 52, "units": 325}
  forward = [search.sample_architecture(TABLE1, 7, i) for i in range(200)]
  backward = [search.sample_architecture(TABLE1, 7, i) for i in reversed(range(200))][::-1]
  assert forward == backward
  other_seed = [search.sample_architecture(TABLE1, 8, i) for i in range(200)]
  assert sum(a != b for a, b in zip(forward, other_seed)) > 190
  assert len({tuple(a.values()) for a in forward}) == 200
  seeds = {search.trial_seed(0, i) for i in range(500)}
  assert len(seeds) == 500 and all(0 <= s < 2**31 for s in seeds)
  assert search.trial_seed(3, 4) == search.trial_seed(3, 4)
  with pytest.raises(ValueError, match="trial must be a non-negative integer"):
    search.sample_architecture(TABLE1, 0, -1)


@pytest.mark.parametrize("kwargs,message", [
    ({"num_trials": 0}, "num_trials must be a positive integer"),
    ({"time_budget_s": None}, "give time_budget_s or max_steps"),
    ({"alpha": 1.5}, r"alpha must be in \[0, 1\]"),
    ({"order": "random"}, "order must be one of"),
    ({"keep_best": -1}, "keep_best must be a non-negative integer"),
])
def test_bad_search_config(kwargs, message):
  with pytest.raises(ValueError, match=message):
    search.SearchConfig(**kwargs)
  with pytest.raises(ValueError, match="multiples of chunk_multiple"):
    search.SearchSpace(chunk_steps=(60, 160))


# ----------------------------------------------------------------------- the results file


def _row(trial, mean, **extra):
  arch = search.sample_architecture(TABLE1, 0, trial)
  return {"trial": trial, **arch, "mean_distance": mean, "std_distance": 1.0,
          "median_distance": mean, "category": search.category_of(mean), "steps": 10,
          "status": "ok" if math.isfinite(mean) else "failed",
          "checkpoint_dir": search.trial_dir_name(trial), **extra}


def test_results_file_streams_and_resumes(tmp_path):
  path = tmp_path / search.RESULTS_FILE
  assert search.read_results(path) == [] and search.finished_trials(path) == set()
  for trial, mean in ((3, 5.0), (0, 8.0), (5, math.nan)):
    search.add_result(path, _row(trial, mean))
    assert trial in search.finished_trials(path)  # on disk as soon as the trial finished
  assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind
  assert search.pending_trials(7, search.finished_trials(path)) == [1, 2, 4, 6]
  rows = search.read_results(path)
  assert [r["trial"] for r in rows] == [0, 3, 5]
  assert rows[1]["chunk_steps"] == search.sample_architecture(TABLE1, 0, 3)["chunk_steps"]
  assert rows[1]["mean_distance"] == 5.0 and rows[1]["category"] == "coherent"
  assert math.isnan(rows[2]["mean_distance"]) and rows[2]["category"] is None
  assert rows[0]["resumed_from"] is None
  assert list(rows[0]) == list(search.COLUMNS)
  search.add_result(path, _row(3, 2.0))  # a rerun trial replaces its row
  assert [r["mean_distance"] for r in search.read_results(path)][:2] == [8.0, 2.0]
  assert [r["trial"] for r in search.best_rows(search.read_results(path), 3)] == [3, 0]


def test_best_rows_ties_and_pruning(tmp_path):
  rows = [_row(t, m) for t, m in ((0, 4.0), (1, 3.0), (2, 4.0), (3, math.nan), (4, 9.0))]
  assert [r["trial"] for r in search.best_rows(rows, 3)] == [1, 0, 2]
  for r in rows:
    (tmp_path / r["checkpoint_dir"] / "checkpoints").mkdir(parents=True)
  pruned = search.prune_checkpoints(tmp_path, rows, keep_best=2)
  assert sorted(p.name for p in pruned) == ["trial_002", "trial_003", "trial_004"]
  kept = sorted(p.parent.name for p in tmp_path.glob("trials/*/checkpoints"))
  assert kept == ["trial_000", "trial_001"]
  assert search.prune_checkpoints(tmp_path, rows, keep_best=0) == []


def test_a_rerun_with_other_settings_is_refused(tmp_path):
  config = search.SearchConfig(space=TINY, num_trials=4, max_steps=3)
  run = lambda c, corpus="a": {"config": {"search": dataclasses.asdict(c),
                                          "corpus": corpus}}
  search.prepare_search_dir(tmp_path, config, run(config))
  bigger = dataclasses.replace(config, num_trials=10, keep_best=0)
  search.prepare_search_dir(tmp_path, bigger, run(bigger))  # may grow, and keep more
  for other, corpus, changed in ((dataclasses.replace(config, seed=1), "a", "seed"),
                                 (config, "b", "corpus")):
    with pytest.raises(search.SearchMismatch, match=f"{changed} differ"):
      search.prepare_search_dir(tmp_path, other, run(other, corpus))


def test_run_trial_trains_scores_and_resumes(tmp_path):
  rng = np.random.default_rng(1)
  rolls = [helpers.random_roll(rng, 16 * 12, 0.4) for _ in range(6)]
  config = search.SearchConfig(space=TINY, num_trials=1, max_steps=3, time_budget_s=None,
                               num_generate=8, checkpoint_every=2)
  first = search.run_trial(config, 0, rolls, tmp_path)
  assert set(first) == set(search.COLUMNS)
  assert first["steps"] == 3 and first["resumed_from"] is None and first["status"] == "ok"
  assert {k: first[k] for k in search.PARAMETERS} == search.sample_architecture(TINY, 0, 0)
  assert sum(first[c] for c in search.FRACTION_COLUMNS) == pytest.approx(1.0)
  assert first["category"] == search.category_of(first["mean_distance"])
  longer = dataclasses.replace(config, max_steps=5)
  second = search.run_trial(longer, 0, rolls, tmp_path)
  assert second["resumed_from"] == 3 and second["steps"] == 5
  assert (tmp_path / "trials/trial_000/checkpoints").is_dir()
  assert second["notes"] == "" and second["host"] and second["node"] is None
  # The latest checkpoint and the final weights damaged: the trial falls back to step 4.
  folder = tmp_path / "trials/trial_000"
  damaged = [folder / "checkpoints/ckpt-5.data-00000-of-00001",
             folder / "weights/weights-5.data-00000-of-00001"]
  for path in damaged:
    path.write_bytes(path.read_bytes()[:100])
  third = search.run_trial(longer, 0, rolls, tmp_path)
  assert third["resumed_from"] == 4 and third["steps"] == 5 and third["status"] == "ok"
  assert "ckpt-5" in third["notes"] and math.isfinite(third["mean_distance"])
  # Nothing readable: the trial fails with a reason, it does not crash the search.
  for path in list(folder.glob("checkpoints/ckpt-*.data-*")) + list(folder.glob("weights/*.data-*")):
    path.write_bytes(b"")
  fourth = search.run_trial(longer, 0, rolls, tmp_path)
  assert fourth["status"] == "failed" and "can be read" in fourth["notes"]


# ------------------------------------------------------------------------------ the tree


def _planted(n, seed, noise=0.0):
  """Architectures whose category follows a planted rule on units and latent_dim."""
  rng = np.random.default_rng(seed)
  params = np.stack([rng.integers(8, 21, n) * 8, rng.integers(5, 1001, n),
                     rng.integers(3, 76, n), rng.integers(128, 1025, n)], axis=1)
  units, latent = params[:, 3], params[:, 1]
  categories = np.where(units > 500, np.where(latent > 550, 1, 3), np.where(latent < 300, 0, 1))
  flip = rng.random(n) < noise
  categories[flip] = rng.integers(0, 4, flip.sum())
  centres = np.array([3.0, 5.5, 8.5, 12.0])
  return params, centres[categories] + rng.uniform(-0.4, 0.4, n), categories


def test_tree_recovers_a_planted_rule():
  params, means, categories = _planted(300, 0)
  np.testing.assert_array_equal(measure.categorize(means), categories)
  fitted = tree.fit_category_tree(params, means, seed=0)
  clf = fitted.classifier
  assert tree.FEATURES[clf.tree_.feature[0]] in ("units", "latent_dim")
  facts = tree.tree_summary(fitted)
  assert facts["training_accuracy"] == 1.0 and facts["depth"] <= 3
  assert facts["feature_importances"]["chunk_steps"] == 0.0
  assert facts["feature_importances"]["num_steps"] == 0.0
  assert facts["class_counts"] == {n: int(np.sum(categories == i))
                                   for i, n in enumerate(measure.CATEGORY_NAMES)}
  test_params, _, test_categories = _planted(2000, 1)
  predicted = clf.predict(test_params)
  assert np.mean(predicted == test_categories) > 0.97
  thresholds = {(tree.FEATURES[f], round(t)) for f, t in zip(clf.tree_.feature,
                                                             clf.tree_.threshold) if f >= 0}
  assert any(f == "units" and abs(t - 500) < 25 for f, t in thresholds), thresholds
  rules = tree.rules_text(fitted)
  assert "units" in rules and "latent_dim" in rules and "class: like the corpus" in rules


def test_tree_respects_min_samples_split_and_depth():
  params, means, _ = _planted(80, 2, noise=0.3)  # noisy labels: the tree wants many splits
  for min_split in (10, 30):
    clf = tree.fit_category_tree(params, means, min_samples_split=min_split).classifier
    internal = clf.tree_.children_left >= 0
    assert internal.any() and clf.get_depth() <= 3
    assert np.all(clf.tree_.n_node_samples[internal] >= min_split)
  with pytest.raises(tree.TooFewArchitectures, match="min_samples_split = 10"):
    tree.fit_category_tree(params[:9], means[:9])


def test_welch_t_test_matches_the_hand_formula():
  rng = np.random.default_rng(3)
  a, b = rng.gamma(2.0, 1.5, 100) + 1.0, rng.normal(4.0, 0.6, 37)  # unequal sizes, spreads
  va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
  t = (a.mean() - b.mean()) / math.sqrt(va + vb)
  df = (va + vb) ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1))
  p = 2 * stats.t.sf(abs(t), df)
  out = report.welch_t_test(a, b)
  assert out["t"] == pytest.approx(t, rel=1e-12) and out["p_value"] == pytest.approx(p, rel=1e-9)


# ------------------------------------------------------------------------------ end to end


def _run(module, *args):
  return subprocess.run([sys.executable, "-m", f"experiments.{module}", *map(str, args)],
                        cwd=REPO, env=ENV, capture_output=True, text=True, check=False)


def test_search_fig4_tree_and_notebooks(tmp_path):
  rng = np.random.default_rng(1)
  corpus = helpers.write_corpus(tmp_path / "corpus",
                                [helpers.random_roll(rng, 16 * 12, 0.4) for _ in range(6)])
  out = tmp_path / "search"
  command = ("table1_search", f"--corpus={corpus}", f"--out_dir={out}", "--tiny",
             "--num_trials=2", "--minutes_per_trial=1", "--max_steps_per_trial=4",
             "--num_generate=12", "--num_cpus=2", "--seed=0")
  proc = _run(*command)
  assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
  assert proc.stdout.count("finished trial") == 2, proc.stdout
  rows = search.read_results(out / search.RESULTS_FILE)
  assert [r["trial"] for r in rows] == [0, 1]
  for r in rows:
    assert {k: r[k] for k in search.PARAMETERS} == search.sample_architecture(TINY, 0, r["trial"])
    assert r["steps"] == 4 and r["status"] == "ok" and math.isfinite(r["mean_distance"])
    assert (out / r["checkpoint_dir"] / "checkpoints").is_dir()
  recorded = json.loads((out / search.CONFIG_FILE).read_text())["run"]
  assert recorded["seed"] == 0 and recorded["config"]["search"]["space"]["base_config"] == "tiny"
  again = _run(*command)  # resumes: every trial is in the file
  assert again.returncode == 0 and "nothing to run" in again.stdout, again.stderr[-2000:]

  fig4 = tmp_path / "fig4"
  proc = _run("fig4_distance_distribution", f"--results={out / search.RESULTS_FILE}",
              f"--out_dir={fig4}", "--num_generate=12")
  assert proc.returncode == 0, proc.stderr[-3000:]
  summary = json.loads((fig4 / "fig4_summary.json").read_text())
  best = search.best_rows(rows, 1)[0]
  assert [a["trial"] for a in summary["architectures"]] == [r["trial"] for r in
                                                            search.best_rows(rows, 3)]
  assert summary["architectures"][0]["summary"]["mean"] == pytest.approx(best["mean_distance"])
  distances = results.read_csv(fig4 / "fig4_distances.csv")
  first = [float(r["distance"]) for r in distances if r["rank"] == "1"]
  corpus_d = [float(r["distance"]) for r in distances if r["rank"] == "0"]
  assert len(first) == 12 and summary["t_test"] == {
      **report.welch_t_test(first, corpus_d), "between": summary["t_test"]["between"]}
  assert (fig4 / "fig4_distance_distribution.png").stat().st_size > 10_000
  notebooks.run_notebook("fig4_distance_distribution.ipynb", fig4)

  small = _run("tree_analysis", f"--results={out / search.RESULTS_FILE}",
               f"--out_dir={tmp_path / 'tree_small'}")
  assert small.returncode == 2 and "at least min_samples_split = 10" in small.stderr
  assert not json.loads((tmp_path / "tree_small/tree_summary.json").read_text())["fitted"]

  params, means, _ = _planted(40, 4)
  synthetic = tmp_path / "synthetic" / search.RESULTS_FILE
  synthetic.parent.mkdir()
  for i, (p, m) in enumerate(zip(params, means)):
    search.add_result(synthetic, {**_row(i, float(m)), **dict(zip(tree.FEATURES,
                                                                  map(int, p)))})
  tree_dir = tmp_path / "tree"
  proc = _run("tree_analysis", f"--results={synthetic}", f"--out_dir={tree_dir}")
  assert proc.returncode == 0, proc.stderr[-3000:]
  facts = json.loads((tree_dir / "tree_summary.json").read_text())
  assert facts["fitted"] and facts["num_architectures"] == 40
  assert (tree_dir / "tree_rules.txt").read_text().startswith("|---")
  assert (tree_dir / "tree_analysis.png").stat().st_size > 10_000
  notebooks.run_notebook("tree_analysis.ipynb", tree_dir)
