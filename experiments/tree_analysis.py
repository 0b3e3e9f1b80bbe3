r"""The paper's decision tree: which Table I parameters make an architecture good.

    python -m experiments.tree_analysis --results out/search/search_results.csv \
        --out_dir out/tree

Each scored architecture of the search gets the Table II category of its mean distance; a
decision tree (depth <= --max_depth = 3, at least --min_samples_split = 10 architectures to
split a node, random_state --seed) learns it from chunk size, latent size, DRAW steps and
units. The fitting is in `draw_music.paper.tree`.

Writes under --out_dir: tree_categories.csv (each architecture's parameters, category and
the tree's prediction), tree_rules.txt (sklearn's export_text), tree_summary.json (config,
seed, class counts, feature importances, training accuracy, depth), tree.pkl (the fitted
tree, for the notebook) and tree_analysis.png. With fewer scored architectures than
--min_samples_split, no tree is fitted: it writes tree_categories.csv (category only) and
tree_summary.json (class counts and the error), prints the error and exits with status 2.
"""

import os
import pathlib
import sys

from absl import app
from absl import flags

from draw_music import plotting
from draw_music import results
from draw_music.metric import measure
from draw_music.paper import search
from draw_music.paper import tree
from experiments import common

_RESULTS = flags.DEFINE_string("results", "out/search/search_results.csv",
                               "search_results.csv of a search")
_OUT_DIR = flags.DEFINE_string("out_dir", "out/tree", "output folder")
_MAX_DEPTH = flags.DEFINE_integer("max_depth", tree.MAX_DEPTH, "largest depth of the tree",
                                  lower_bound=1)
_MIN_SAMPLES_SPLIT = flags.DEFINE_integer("min_samples_split", tree.MIN_SAMPLES_SPLIT,
                                          "fewest architectures in a node to split it",
                                          lower_bound=2)
_SEED = flags.DEFINE_integer("seed", 0, "random_state of the tree")


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {argv[1:]}")
  path = pathlib.Path(_RESULTS.value)
  if not path.is_file():
    raise app.UsageError(f"--results: {path} does not exist")
  try:
    rows = search.read_results(path)
  except ValueError as e:
    raise app.UsageError(f"--results: {e}") from e
  params, means, trials, unscored = tree.table_from_rows(rows)
  config = {"results": str(path), "max_depth": _MAX_DEPTH.value,
            "min_samples_split": _MIN_SAMPLES_SPLIT.value, "features": list(tree.FEATURES)}
  out = pathlib.Path(_OUT_DIR.value)
  summary = {"run": results.run_info(config, _SEED.value), "num_rows": len(rows),
             "num_unscored": unscored}
  try:
    fitted = tree.fit_category_tree(params, means, trials, _SEED.value, _MAX_DEPTH.value,
                                    _MIN_SAMPLES_SPLIT.value)
  except tree.TooFewArchitectures as e:
    categories = measure.categorize(means)
    results.write_csv(out / "tree_categories.csv",
                      [{"trial": int(t), **dict(zip(tree.FEATURES, map(int, p))),
                        "category": measure.CATEGORY_NAMES[int(c)], "predicted": ""}
                       for t, p, c in zip(trials, params, categories)],
                      ["trial", *tree.FEATURES, "category", "predicted"])
    results.write_json(out / "tree_summary.json", {
        **summary, "fitted": False, "error": str(e), "num_architectures": len(params),
        "class_counts": tree.class_counts(categories)})
    print(f"error: --results {path}: {e}. Wrote {out}/tree_categories.csv and "
          "tree_summary.json only.", file=sys.stderr)
    return 2

  title = (f"Table II category of {len(params)} architectures "
           f"(depth <= {_MAX_DEPTH.value}, >= {_MIN_SAMPLES_SPLIT.value} to split)")
  rules = tree.rules_text(fitted)
  facts = tree.tree_summary(fitted)
  results.write_csv(out / "tree_categories.csv", tree.category_rows(fitted))
  (out / "tree_rules.txt").write_text(rules)
  tree.save_tree(fitted, out / "tree.pkl")
  results.write_json(out / "tree_summary.json", {**summary, "fitted": True, "title": title,
                                                 **facts})
  plotting.plot_decision_tree(fitted.classifier, tree.FEATURES, fitted.class_names,
                              os.fspath(out / "tree_analysis.png"), title=title)
  print(rules, end="")
  print(f"{len(params)} architectures ({unscored} unscored left out): "
        + ", ".join(f"{k} {v}" for k, v in facts["class_counts"].items()))
  print(f"training accuracy {facts['training_accuracy']:.2f}; importances "
        + ", ".join(f"{k} {v:.2f}" for k, v in facts["feature_importances"].items()))
  return 0


if __name__ == "__main__":
  common.run(main)
