r"""Style separation: the corpus against known sets, per chunk and as a set.

    python -m experiments.style_separation --corpus ../shared/data/beethoven_piano \
        --others ../shared/data/other,../shared/data/jazz --out_dir out/style_separation

Without --corpus / --others it uses the bundled corpora (music21's Beethoven, against
music21's Bach chorales). Sets: piece-level halves of the corpus, each other style, random,
sensible random, and two degenerate generators built from the corpus (its most typical
chunk repeated; its mean chunk thresholded to the mean density). Writes under --out_dir:
style_separation.json (config, seed, per-set distances, per-piece summary and set-level
report), style_separation.csv (one row per set) and style_separation.png. The protocol is
in `draw_music.metric.style_separation`.
"""

import os

from absl import app
from absl import flags

from draw_music import plotting
from draw_music import results
from draw_music.corpora import corpus as corpus_lib
from draw_music.metric import evaluate
from draw_music.metric import features
from draw_music.metric import style_separation
from experiments import common

_CORPUS = flags.DEFINE_string("corpus", "", "reference corpus folder (default: bundled "
                              "music21 Beethoven)")
_OTHERS = flags.DEFINE_list("others", [], "other style folders, comma separated (default: "
                            "bundled music21 Bach chorales)")
_OUT_DIR = flags.DEFINE_string("out_dir", "out/style_separation", "output folder")
_CHUNK_STEPS = flags.DEFINE_integer("chunk_steps", corpus_lib.DEFAULT_CHUNK_STEPS,
                                    "chunk length in steps", lower_bound=1)
_NUM_SAMPLES = flags.DEFINE_integer("num_samples", 500, "most chunks judged per set",
                                    lower_bound=2)
_RANDOM_P = flags.DEFINE_float("random_p", 0.012, "cell probability of the random sets",
                               lower_bound=0.0, upper_bound=1.0)
_NUM_SPLITS = flags.DEFINE_integer("num_splits", evaluate.DEFAULT_NUM_SPLITS,
                                   "piece-level splits calibrating each reference",
                                   lower_bound=1)
_NUM_PERMUTATIONS = flags.DEFINE_integer("num_permutations",
                                         evaluate.DEFAULT_NUM_PERMUTATIONS,
                                         "permutations of each set's MMD test", lower_bound=1)
_FEATURE_SET = flags.DEFINE_enum("feature_set", features.DEFAULT_FEATURE_SET,
                                 sorted(features.FEATURE_SETS), "signature features")
_SEED = flags.DEFINE_integer("seed", 0, "seed of every draw, split and permutation")


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {argv[1:]}")
  corpus_dir, corpus, other_dirs, others = common.load_corpus_and_others(_CORPUS.value,
                                                                        _OTHERS.value)
  config = {"corpus": corpus_dir, "others": other_dirs, "chunk_steps": _CHUNK_STEPS.value,
            "num_samples": _NUM_SAMPLES.value, "random_p": _RANDOM_P.value,
            "num_splits": _NUM_SPLITS.value, "num_permutations": _NUM_PERMUTATIONS.value,
            "calibration_permutations": evaluate.DEFAULT_CALIBRATION_PERMUTATIONS,
            "feature_set": _FEATURE_SET.value}
  try:
    out = style_separation.style_separation(
        corpus.rolls, others, corpus_name=common.set_name(corpus_dir),
        chunk_steps=_CHUNK_STEPS.value, num_samples=_NUM_SAMPLES.value,
        random_p=_RANDOM_P.value, num_splits=_NUM_SPLITS.value,
        num_permutations=_NUM_PERMUTATIONS.value, seed=_SEED.value,
        feature_set=_FEATURE_SET.value, progress=common.stage)
  except ValueError as e:
    raise app.UsageError(str(e)) from e

  common.stage(f"writing results to {_OUT_DIR.value}")
  half = out["reference"]["half"]
  half["piece_names"] = [corpus.names[i] for i in half["pieces"]]
  degenerate = out["degenerate"][style_separation.REPEATED_CHUNK]
  degenerate["piece_name"] = corpus.names[degenerate["piece"]]
  rows = style_separation.summary_rows(out)
  results.write_csv(os.path.join(_OUT_DIR.value, "style_separation.csv"), rows)
  results.write_json(os.path.join(_OUT_DIR.value, "style_separation.json"), {
      "run": results.run_info(config, _SEED.value),
      "reference": out["reference"],
      "degenerate": out["degenerate"],
      "sets": out["sets"],
  })
  plotting.plot_style_separation(
      {name: s["distances"] for name, s in out["sets"].items()},
      {r["set"]: r for r in rows}, os.path.join(_OUT_DIR.value, "style_separation.png"),
      title=f"Style separation against {common.set_name(corpus_dir)} "
            f"({_CHUNK_STEPS.value}-step chunks)")
  for r in rows:
    bound = "-" if r["frechet_bound"] is None else f"{r['frechet_bound']:.2f}"
    print(f"{r['set']:>16}: per chunk median {r['distance_median']:6.2f}, "
          f"{100 * r['share_like_corpus']:5.1f}% like the corpus | Fréchet "
          f"{r['frechet']:8.2f} (bound {bound}), p {r['p_value']:.3g}, diversity "
          f"{r['diversity_ratio']:.2f} -> {r['verdict']}")


if __name__ == "__main__":
  common.run(main)
