r"""The paper's Fig. 5: distance of a trained model's outputs against the threshold alpha.

    python -m experiments.fig5_threshold --checkpoint out/baseline \
        --corpus ../shared/data/beethoven_piano --out_dir out/fig5

--checkpoint is a training folder (the --out_dir of train_baseline). The reference is every
chunk of --corpus at the model's chunk length: pass the corpus the model was trained on (the
default, like train_baseline's, is the bundled music21 Beethoven; a warning is printed when
the chunk count differs from the training's). 30 outputs, each thresholded at 200 alphas
uniform on [0, 1], give 6,000 pieces. Writes under --out_dir: fig5_distances.csv (output,
alpha, distance, active_cells), fig5_summary.json (config, seed, per-alpha median / std /
band / empty pieces, the best-median and the most stable alpha) and fig5_threshold.png
(y axis cut at --ymax). Definitions are in `draw_music.paper.reproduce`.
"""

import dataclasses
import sys

from absl import app
from absl import flags
from absl import logging

from draw_music import results
from draw_music.metric import features
from draw_music.paper import reproduce
from experiments import common

_CHECKPOINT = flags.DEFINE_string("checkpoint", None, "training folder (the --out_dir of "
                                  "train_baseline)")
_CORPUS = flags.DEFINE_string("corpus", "", "reference corpus: the one the model was "
                              "trained on (default: bundled music21 Beethoven)")
_OUT_DIR = flags.DEFINE_string("out_dir", "out/fig5", "output folder")
_NUM_OUTPUTS = flags.DEFINE_integer("num_outputs", 30, "outputs generated", lower_bound=2)
_NUM_ALPHAS = flags.DEFINE_integer("num_alphas", 200, "thresholds, uniform on [0, 1]",
                                   lower_bound=2)
_FEATURE_SET = flags.DEFINE_enum("feature_set", features.DEFAULT_FEATURE_SET,
                                 sorted(features.FEATURE_SETS), "signature features")
_YMAX = flags.DEFINE_float("ymax", reproduce.FIG5_YMAX, "top of the figure's y axis",
                           lower_bound=0.0)
_SEED = flags.DEFINE_integer("seed", 0, "seed of the generated outputs")
flags.mark_flag_as_required("checkpoint")


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {argv[1:]}")
  logging.set_verbosity(logging.WARNING)
  loaded = common.load_checkpoint_and_chunks(_CHECKPOINT.value, _CORPUS.value)
  if loaded is None:
    return 2
  model, step, corpus_dir, chunks = loaded
  config = {"checkpoint": _CHECKPOINT.value, "trained_steps": step, "corpus": corpus_dir,
            "num_outputs": _NUM_OUTPUTS.value, "num_alphas": _NUM_ALPHAS.value,
            "feature_set": _FEATURE_SET.value, "z": reproduce.Z, "ymax": _YMAX.value,
            "model": dataclasses.asdict(model.config)}
  common.stage(f"{_NUM_OUTPUTS.value} outputs x {_NUM_ALPHAS.value} thresholds, scored "
               f"against {len(chunks)} chunks")
  try:
    out = reproduce.fig5_threshold(model, chunks, _NUM_OUTPUTS.value, _NUM_ALPHAS.value,
                                   _SEED.value, _FEATURE_SET.value)
  except ValueError as e:
    print(f"error: {e}", file=sys.stderr)
    return 2
  common.stage(f"writing results to {_OUT_DIR.value}")
  summary = reproduce.write_fig5(
      out, _OUT_DIR.value, results.run_info(config, _SEED.value), _YMAX.value,
      title=f"Fig. 5: {_NUM_OUTPUTS.value} outputs x {_NUM_ALPHAS.value} alphas (step "
            f"{step}) against {common.set_name(corpus_dir)}")
  for key in ("best_median", "most_stable", "lowest_std"):
    p = summary[key]
    print(f"{key:>12}: alpha {p['alpha']:.3f}, median {p['median']:.2f}, std "
          f"{p['std']:.2f}, median + {reproduce.Z} std {p['upper']:.2f}")
  print(f"empty pieces: {summary['empty_pieces']} of {out['distances'].size}")
  return 0


if __name__ == "__main__":
  common.run(main)
