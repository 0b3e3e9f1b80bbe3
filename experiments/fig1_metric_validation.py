r"""The paper's Fig. 1: distances of the corpus, other styles and random pieces to the corpus.

    python -m experiments.fig1_metric_validation --corpus ../shared/data/beethoven_piano \
        --others ../shared/data/other,../shared/data/jazz --out_dir out/fig1

Without --corpus / --others it uses the bundled corpora (music21's Beethoven, against
music21's Bach chorales). Writes under --out_dir: fig1_distances.csv (one row per sample),
fig1_summary.json (config, seed, per-set statistics) and fig1_metric_validation.png.
The protocol is in `draw_music.paper.validation`.
"""

import os

from absl import app
from absl import flags
import numpy as np

from draw_music import plotting
from draw_music import results
from draw_music.metric import evaluate
from draw_music.metric import features
from draw_music.paper import validation
from experiments import common

_CORPUS = flags.DEFINE_string("corpus", "", "reference corpus folder (default: bundled "
                              "music21 Beethoven)")
_OTHERS = flags.DEFINE_list("others", [], "other style folders, comma separated (default: "
                            "bundled music21 Bach chorales)")
_OUT_DIR = flags.DEFINE_string("out_dir", "out/fig1", "output folder")
_NUM_REFERENCE = flags.DEFINE_integer("num_reference", 100, "chunks in the reference",
                                      lower_bound=2)
_CHUNK_STEPS = flags.DEFINE_integer("chunk_steps", 300, "chunk length in steps",
                                    lower_bound=1)
_NUM_SAMPLES = flags.DEFINE_integer("num_samples", 1000, "samples per set", lower_bound=1)
_RANDOM_P = flags.DEFINE_float("random_p", 0.012, "cell probability of the random set",
                               lower_bound=0.0, upper_bound=1.0)
_FEATURE_SET = flags.DEFINE_enum("feature_set", features.DEFAULT_FEATURE_SET,
                                 sorted(features.FEATURE_SETS), "signature features")
_SEED = flags.DEFINE_integer("seed", 0, "seed of every random draw")


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {argv[1:]}")
  corpus_dir, corpus, other_dirs, others = common.load_corpus_and_others(_CORPUS.value,
                                                                        _OTHERS.value)
  config = {"corpus": corpus_dir, "others": other_dirs, "num_reference": _NUM_REFERENCE.value,
            "chunk_steps": _CHUNK_STEPS.value, "num_samples": _NUM_SAMPLES.value,
            "random_p": _RANDOM_P.value, "feature_set": _FEATURE_SET.value}
  common.stage("reference from corpus chunks, distances of every set")
  try:
    out = validation.metric_validation(
        corpus.rolls, others, corpus_name=common.set_name(corpus_dir),
        num_reference=_NUM_REFERENCE.value, chunk_steps=_CHUNK_STEPS.value,
        num_samples=_NUM_SAMPLES.value, random_p=_RANDOM_P.value, seed=_SEED.value,
        feature_set=_FEATURE_SET.value)
  except ValueError as e:
    raise app.UsageError(str(e)) from e

  common.stage(f"writing results to {_OUT_DIR.value}")
  rows = [{"set": name, "sample": i, "distance": float(x),
           "category": evaluate.measure.CATEGORY_NAMES[int(c)]}
          for name, d in out["distances"].items()
          for i, (x, c) in enumerate(zip(d, evaluate.measure.categorize(d)))]
  results.write_csv(os.path.join(_OUT_DIR.value, "fig1_distances.csv"), rows)
  summary = {name: {**evaluate.summarize(d), **out["sets"][name]}
             for name, d in out["distances"].items()}
  results.write_json(os.path.join(_OUT_DIR.value, "fig1_summary.json"), {
      "run": results.run_info(config, _SEED.value),
      "reference": out["reference"],
      "sets": summary,
  })
  plotting.plot_distance_histograms(
      out["distances"], os.path.join(_OUT_DIR.value, "fig1_metric_validation.png"),
      title=f"Fig. 1: distances to {_NUM_REFERENCE.value} chunks of "
            f"{common.set_name(corpus_dir)} ({_CHUNK_STEPS.value} steps)")
  for name, s in summary.items():
    note = (f" (sampled with replacement from {s['available_chunks']} chunks)"
            if s["with_replacement"] else "")
    print(f"{name:>18}: median {s['median']:6.2f}, mean {s['mean']:6.2f} +- "
          f"{s['std']:5.2f}{note}")
  order = list(summary)
  medians = [summary[n]["median"] for n in order]
  print("medians ordered as listed: " + ("yes" if np.all(np.diff(medians) > 0) else "no"))


if __name__ == "__main__":
  common.run(main)
