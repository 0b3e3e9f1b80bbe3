r"""The paper's Fig. 6: distance of every DRAW step's canvas, against t / num_steps.

    python -m experiments.fig6_step_quality --checkpoint out/baseline \
        --corpus ../shared/data/beethoven_piano --out_dir out/fig6

--checkpoint is a training folder (the --out_dir of train_baseline). The reference is every
chunk of --corpus at the model's chunk length: pass the corpus the model was trained on (the
default, like train_baseline's, is the bundled music21 Beethoven; a warning is printed when
the chunk count differs from the training's). 50 outputs, each canvas c[t], t = 1..num_steps,
binarised at --alpha (default: the model config's alpha, 0.25 unless trained otherwise).
Writes under --out_dir: fig6_distances.csv (output, step, t_over_T, distance, active_cells),
fig6_summary.json (config, seed, per-step mean / std / band, the best and the most stable
step) and fig6_step_quality.png (y axis cut at --ymax, 10 as in the paper). Definitions are
in `draw_music.paper.reproduce`.
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
_OUT_DIR = flags.DEFINE_string("out_dir", "out/fig6", "output folder")
_NUM_OUTPUTS = flags.DEFINE_integer("num_outputs", 50, "outputs generated", lower_bound=2)
_ALPHA = flags.DEFINE_float("alpha", None, "threshold after min-max normalisation (default: "
                            "the model config's alpha)", lower_bound=0.0, upper_bound=1.0)
_FEATURE_SET = flags.DEFINE_enum("feature_set", features.DEFAULT_FEATURE_SET,
                                 sorted(features.FEATURE_SETS), "signature features")
_YMAX = flags.DEFINE_float("ymax", reproduce.FIG6_YMAX, "top of the figure's y axis",
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
  alpha = model.config.alpha if _ALPHA.value is None else _ALPHA.value
  config = {"checkpoint": _CHECKPOINT.value, "trained_steps": step, "corpus": corpus_dir,
            "num_outputs": _NUM_OUTPUTS.value, "alpha": alpha,
            "feature_set": _FEATURE_SET.value, "z": reproduce.Z, "ymax": _YMAX.value,
            "model": dataclasses.asdict(model.config)}
  common.stage(f"{_NUM_OUTPUTS.value} outputs x {model.config.num_steps} steps at alpha "
               f"{alpha}, scored against {len(chunks)} chunks")
  try:
    out = reproduce.fig6_step_quality(model, chunks, _NUM_OUTPUTS.value, alpha, _SEED.value,
                                      _FEATURE_SET.value)
  except ValueError as e:
    print(f"error: {e}", file=sys.stderr)
    return 2
  common.stage(f"writing results to {_OUT_DIR.value}")
  summary = reproduce.write_fig6(
      out, _OUT_DIR.value, results.run_info(config, _SEED.value), _YMAX.value,
      title=f"Fig. 6: {_NUM_OUTPUTS.value} outputs, every step of {model.config.num_steps} "
            f"(alpha {alpha:g}, step {step}) against {common.set_name(corpus_dir)}")
  for key in ("best", "most_stable", "lowest_std"):
    p = summary[key]
    print(f"{key:>12}: step {p['step']} (t/T {p['t_over_T']:.2f}), mean {p['mean']:.2f}, "
          f"std {p['std']:.2f}, mean + {reproduce.Z} std {p['upper']:.2f}")
  print(f"empty pieces: {summary['empty_pieces']} of {out['distances'].size}")
  return 0


if __name__ == "__main__":
  common.run(main)
