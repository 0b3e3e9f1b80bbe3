r"""Table I: the paper's random search over DRAW architectures, on Ray Tune.

    python -m experiments.table1_search --corpus ../shared/data/beethoven_piano \
        --out_dir out/search --num_trials 136 --minutes_per_trial 30 \
        [--ray_address ADDR] [--cpus_per_trial 1] [--seed 0]

Trial i draws its chunk size L (64..160, multiples of 8), latent size #z (5..1000), DRAW
steps T (3..75) and LSTM units (128..1024, encoder = decoder) uniformly, as a pure function
of (--seed, i); trains for --minutes_per_trial (and at most --max_steps_per_trial steps,
when given) into --out_dir/trials/trial_XXX; then generates --num_generate pieces and
scores them against the corpus's chunks of its L. Without --ray_address it starts a local
Ray with every core (--num_cpus to use fewer); each trial gets --cpus_per_trial CPUs.
Without --corpus it trains on the bundled corpus (music21's Beethoven).

Writes under --out_dir: search_results.csv (one row per finished trial, written as each
finishes), search_config.json (the settings, seed, command, versions), trials/ (each
trial's training folder; with --keep_best k, only the k best trials keep their
checkpoints) and ray_tune/ (Tune's own records). Rerunning the same command skips the
trials already in search_results.csv and resumes the others from their checkpoints
(--num_trials may grow). --tiny searches tiny models (L 16..32, #z 2..8, T 2..4, 8..16
units, batch 4), for tests. The search itself is in `draw_music.paper.search`.
"""

import dataclasses
import sys

from absl import app
from absl import flags
from absl import logging

from draw_music import results
from draw_music.metric import features
from draw_music.paper import search
from experiments import common

_CORPUS = flags.DEFINE_string("corpus", "", "training corpus folder (default: bundled "
                              "music21 Beethoven)")
_OUT_DIR = flags.DEFINE_string("out_dir", "out/search", "search folder")
_NUM_TRIALS = flags.DEFINE_integer("num_trials", 136, "architectures to try", lower_bound=1)
_MINUTES = flags.DEFINE_float("minutes_per_trial", 30.0, "training time of each trial "
                              "(0: none, then --max_steps_per_trial bounds it)",
                              lower_bound=0.0)
_MAX_STEPS = flags.DEFINE_integer("max_steps_per_trial", None, "training steps of each "
                                  "trial at most", lower_bound=1)
_SEED = flags.DEFINE_integer("seed", 0, "seed of the architectures, trainings and "
                             "generation", lower_bound=0)
_RAY_ADDRESS = flags.DEFINE_string("ray_address", "", "Ray cluster to join (default: start "
                                   "a local Ray)")
_NUM_CPUS = flags.DEFINE_integer("num_cpus", 0, "CPUs of the local Ray (0: every core)",
                                 lower_bound=0)
_CPUS_PER_TRIAL = flags.DEFINE_integer("cpus_per_trial", 1, "CPUs (and TensorFlow threads) "
                                       "per trial", lower_bound=1)
_GPUS_PER_TRIAL = flags.DEFINE_float("gpus_per_trial", 0.0, "GPUs per trial (a fraction "
                                     "shares one)", lower_bound=0.0)
_NUM_GENERATE = flags.DEFINE_integer("num_generate", 100, "pieces generated to score each "
                                     "trial", lower_bound=1)
_ALPHA = flags.DEFINE_float("alpha", 0.25, "threshold after min-max normalisation",
                            lower_bound=0.0, upper_bound=1.0)
_FEATURE_SET = flags.DEFINE_enum("feature_set", features.DEFAULT_FEATURE_SET,
                                 sorted(features.FEATURE_SETS), "signature features")
_ORDER = flags.DEFINE_enum("order", "paper", list(search.ORDERS), "batch order")
_CHECKPOINT_EVERY = flags.DEFINE_integer("checkpoint_every", 100, "training steps between "
                                         "checkpoints", lower_bound=1)
_JIT_COMPILE = flags.DEFINE_bool("jit_compile", False, "compile training steps with XLA "
                                 "(slower on CPU)")
_KEEP_BEST = flags.DEFINE_integer("keep_best", 3, "keep the checkpoints of only this many "
                                  "best finished trials (0: all; a checkpoint is ~1 GB)",
                                  lower_bound=0)
_TINY = flags.DEFINE_bool("tiny", False, "search tiny models instead of Table I (tests)")


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {argv[1:]}")
  logging.set_verbosity(logging.WARNING)
  try:
    config = search.SearchConfig(
        space=search.SEARCH_SPACES["tiny" if _TINY.value else "table1"],
        num_trials=_NUM_TRIALS.value, seed=_SEED.value,
        time_budget_s=60.0 * _MINUTES.value if _MINUTES.value else None,
        max_steps=_MAX_STEPS.value, num_generate=_NUM_GENERATE.value, alpha=_ALPHA.value,
        feature_set=_FEATURE_SET.value, order=_ORDER.value,
        checkpoint_every=_CHECKPOINT_EVERY.value, jit_compile=_JIT_COMPILE.value,
        cpus_per_trial=_CPUS_PER_TRIAL.value, gpus_per_trial=_GPUS_PER_TRIAL.value,
        keep_best=_KEEP_BEST.value)
  except ValueError as e:
    raise app.UsageError(str(e)) from e
  corpus_dir = common.corpus_folder(_CORPUS.value, "beethoven")
  common.stage(f"loading corpus {corpus_dir}")
  corpus = common.load_named_corpus(corpus_dir, "corpus")
  run = results.run_info({"corpus": corpus_dir, "num_pieces": len(corpus),
                          "search": dataclasses.asdict(config),
                          "ray_address": _RAY_ADDRESS.value or None}, _SEED.value)
  common.stage(f"searching {config.num_trials} architectures into {_OUT_DIR.value}")
  try:
    rows = search.run_search(config, corpus.rolls, _OUT_DIR.value, run=run,
                             ray_address=_RAY_ADDRESS.value or None,
                             num_cpus=_NUM_CPUS.value or None)
  except ValueError as e:  # SearchMismatch, or a corpus too short
    print(f"error: {e}", file=sys.stderr)
    return 2
  best = search.best_rows(rows, 3)
  common.stage(f"{len(rows)}/{config.num_trials} trials in {_OUT_DIR.value}/"
               f"{search.RESULTS_FILE}; best:")
  for row in best:
    print("  " + search.format_row(row))
  return 0 if len(rows) == config.num_trials else 1


if __name__ == "__main__":
  common.run(main)
