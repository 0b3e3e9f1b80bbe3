r"""The paper's Fig. 4: distances of 100 pieces from each of the 3 best searched architectures.

    python -m experiments.fig4_distance_distribution --results out/search/search_results.csv \
        --corpus ../shared/data/beethoven_piano --out_dir out/fig4
    python -m experiments.fig4_distance_distribution --checkpoints DIR1,DIR2,DIR3 \
        --corpus ../shared/data/beethoven_piano --out_dir out/fig4

With --results, the architectures are the --num_best rows of lowest mean distance (ties:
lower trial first; trials without a score are left out); with --checkpoints, the given
training folders in the given order. Each generates --num_generate pieces (seed --seed,
threshold --alpha), scored against the corpus's chunks of its own chunk size. The first
architecture (the best) gets the paper's Welch t-test against the corpus's own chunks'
distances to the same reference (the paper: t = 0.81, p = .42). Without --corpus, the corpus
recorded in the search's search_config.json, else the bundled one (music21's Beethoven).

Writes under --out_dir: fig4_distances.csv (one row per piece, and per corpus chunk),
fig4_summary.json (config, seed, mean +- std per architecture, the t-test) and
fig4_distance_distribution.png.
"""

import json
import os
import pathlib

from absl import app
from absl import flags

from draw_music import plotting
from draw_music import results
from draw_music.metric import features
from draw_music.metric import measure
from draw_music.paper import search
from experiments import common

_RESULTS = flags.DEFINE_string("results", "", "search_results.csv of a search")
_CHECKPOINTS = flags.DEFINE_list("checkpoints", [], "training folders, comma separated "
                                 "(instead of --results; the first is t-tested)")
_CORPUS = flags.DEFINE_string("corpus", "", "reference corpus folder (default: the search's "
                              "corpus, else bundled music21 Beethoven)")
_OUT_DIR = flags.DEFINE_string("out_dir", "out/fig4", "output folder")
_NUM_BEST = flags.DEFINE_integer("num_best", 3, "architectures taken from --results",
                                 lower_bound=1)
_NUM_GENERATE = flags.DEFINE_integer("num_generate", 100, "pieces per architecture",
                                     lower_bound=2)
_ALPHA = flags.DEFINE_float("alpha", 0.25, "threshold after min-max normalisation",
                            lower_bound=0.0, upper_bound=1.0)
_FEATURE_SET = flags.DEFINE_enum("feature_set", features.DEFAULT_FEATURE_SET,
                                 sorted(features.FEATURE_SETS), "signature features")
_SEED = flags.DEFINE_integer("seed", 0, "seed of the generation")

PAPER_T_TEST = {"t": 0.81, "p_value": 0.42}


def _selected():
  """`[(name, training folder, trial or None)]` and the corpus the search recorded."""
  if bool(_RESULTS.value) == bool(_CHECKPOINTS.value):
    raise app.UsageError("give --results or --checkpoints (one of them)")
  if _CHECKPOINTS.value:
    return [(os.path.basename(os.path.normpath(d)), pathlib.Path(d), None)
            for d in _CHECKPOINTS.value], None
  path = pathlib.Path(_RESULTS.value)
  if not path.is_file():
    raise app.UsageError(f"--results: {path} does not exist")
  try:
    rows = search.read_results(path)
  except (OSError, ValueError) as e:
    raise app.UsageError(f"--results: {e}") from e
  best = search.best_rows(rows, _NUM_BEST.value)
  if not best:
    raise app.UsageError(f"--results: {path} has no scored trial")
  if len(best) < _NUM_BEST.value:
    print(f"warning: {path} has only {len(best)} scored trials; drawing those")
  recorded = path.parent / search.CONFIG_FILE
  corpus = (json.loads(recorded.read_text())["run"]["config"].get("corpus")
            if recorded.exists() else None)
  return [(f"trial_{r['trial']:03d}", search.resolve_checkpoint(path, r), r["trial"])
          for r in best], corpus


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {argv[1:]}")
  chosen, search_corpus = _selected()
  corpus_dir = _CORPUS.value or search_corpus or common.corpus_folder("", "beethoven")
  common.stage(f"loading corpus {corpus_dir}")
  corpus = common.load_named_corpus(corpus_dir, "corpus")
  common.stage(f"generating {_NUM_GENERATE.value} pieces from each of {len(chosen)} "
               "architectures")
  try:
    out = search.distance_distributions([d for _, d, _ in chosen], corpus.rolls,
                                         _NUM_GENERATE.value, _ALPHA.value, _SEED.value,
                                         _FEATURE_SET.value)
  except FileNotFoundError as e:
    raise app.UsageError(f"{e} (a search run with --keep_best deletes the checkpoints of "
                         "the trials outside the best)") from e

  common.stage(f"writing results to {_OUT_DIR.value}")
  architectures, distances, rows = [], {}, []
  for rank, ((name, folder, trial), m) in enumerate(zip(chosen, out["models"]), start=1):
    arch = search.architecture_of(m["model_config"])
    s = m["summary"]
    label = (f"#{rank} {name}: L={arch['chunk_steps']}, #z={arch['latent_dim']}, "
             f"T={arch['num_steps']}, {arch['units']} units ({s['mean']:.2f} +- "
             f"{s['std']:.2f})")
    architectures.append({"rank": rank, "name": name, "trial": trial,
                          "checkpoint_dir": str(folder), "architecture": arch,
                          "trained_steps": m["step"], "empty_pieces": m["empty_pieces"],
                          "label": label, "summary": s})
    distances[label] = m["distances"]
    rows += [{"set": label, "rank": rank, "item": f"piece_{i:03d}", "distance": float(d),
              "category": measure.CATEGORY_NAMES[int(c)]}
             for i, (d, c) in enumerate(zip(m["distances"],
                                            measure.categorize(m["distances"])))]
  best = out["models"][0]
  corpus_label = (f"corpus's own chunks (L={best['model_config'].chunk_steps}, "
                  f"{best['corpus_summary']['mean']:.2f} +- {best['corpus_summary']['std']:.2f})")
  distances[corpus_label] = best["corpus_distances"]
  rows += [{"set": corpus_label, "rank": 0, "item": f"chunk_{i}", "distance": float(d),
            "category": measure.CATEGORY_NAMES[int(c)]}
           for i, (d, c) in enumerate(zip(best["corpus_distances"],
                                          measure.categorize(best["corpus_distances"])))]
  title = (f"Fig. 4: {_NUM_GENERATE.value} pieces from each of the {len(chosen)} best "
           f"architectures vs {common.set_name(corpus_dir)}")
  results.write_csv(os.path.join(_OUT_DIR.value, "fig4_distances.csv"), rows)
  config = {"results": _RESULTS.value or None, "checkpoints": _CHECKPOINTS.value or None,
            "corpus": corpus_dir, "num_best": _NUM_BEST.value,
            "num_generate": _NUM_GENERATE.value, "alpha": _ALPHA.value,
            "feature_set": _FEATURE_SET.value}
  results.write_json(os.path.join(_OUT_DIR.value, "fig4_summary.json"), {
      "run": results.run_info(config, _SEED.value),
      "title": title,
      "architectures": architectures,
      "corpus": {"label": corpus_label, "chunk_steps": best["model_config"].chunk_steps,
                 "summary": best["corpus_summary"]},
      "t_test": {**out["t_test"], "between": f"{architectures[0]['name']} and the corpus's "
                                             "own chunks"},
      "paper_t_test": PAPER_T_TEST,
  })
  plotting.plot_distance_histograms(
      distances, os.path.join(_OUT_DIR.value, "fig4_distance_distribution.png"), title=title)
  for a in architectures:
    s = a["summary"]
    print(f"{a['label']}: median {s['median']:.2f}, "
          + ", ".join(f"{k} {100 * v:.0f}%" for k, v in s["fraction_per_category"].items()))
  t = out["t_test"]
  print(f"Welch t-test {architectures[0]['name']} vs the corpus's own chunks: "
        f"t = {t['t']:.2f}, p = {t['p_value']:.3g} (paper: t = 0.81, p = .42)")
  return 0


if __name__ == "__main__":
  common.run(main)
