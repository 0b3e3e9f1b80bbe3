r"""Train the paper's baseline DRAW writer, then generate, write and score 100 pieces.

    python -m experiments.train_baseline --corpus ../shared/data/beethoven_piano \
        --minutes 30 --out_dir out/baseline

Without --corpus it trains on the bundled corpus (music21's Beethoven). Every Table I
parameter is a flag (default: the named --config, 'baseline' = the paper's #z 22, 167 units,
23 steps, 104-step chunks, batch 37, Adam 1e-3 / 0.9 / 0.999). Rerunning the same command
resumes from the last checkpoint in --out_dir (a longer --minutes or --epochs trains on).
At the end it writes under --out_dir: generated/ (MIDI + piano-roll PNG + WAV per piece;
--noaudio skips the WAV), distances.csv, distance_histogram.png, report.json (the config,
seed, per-piece distances summary, the Welch t-test against the corpus's own chunks, the
set-level measures) and index.html, a page to look at and listen to every piece, sorted by
distance (open it in a browser); TensorBoard scalars are in --out_dir/tensorboard.
"""

import dataclasses
import pathlib
import sys

from absl import app
from absl import flags
from absl import logging

from draw_music import cli
from draw_music import results
from draw_music.corpora import corpus as corpus_lib
from draw_music.listening import page as page_lib
from draw_music.writer import model as model_lib
from draw_music.writer import postprocess
from draw_music.writer import report as report_lib
from draw_music.writer import train as train_lib
from experiments import common

_CONFIG = flags.DEFINE_enum("config", "baseline", sorted(model_lib.CONFIGS),
                            "named model config; the flags below override its fields")
_CORPUS = flags.DEFINE_string("corpus", "", "training corpus folder (default: bundled "
                              "music21 Beethoven)")
_OUT_DIR = flags.DEFINE_string("out_dir", "out/baseline", "training and report folder")
_CHUNK_STEPS = flags.DEFINE_integer("chunk_steps", None, "Table I: chunk size L (steps)",
                                    lower_bound=1)
_LATENT_DIM = flags.DEFINE_integer("latent_dim", None, "Table I: #z", lower_bound=1)
_NUM_STEPS = flags.DEFINE_integer("num_steps", None, "Table I: DRAW steps T", lower_bound=1)
_UNITS = flags.DEFINE_integer("units", None, "Table I: units of each LSTM", lower_bound=1)
_BATCH_SIZE = flags.DEFINE_integer("batch_size", None, "chunks per batch", lower_bound=1)
_LEARNING_RATE = flags.DEFINE_float("learning_rate", None, "Adam learning rate",
                                    lower_bound=0.0)
_BETA_1 = flags.DEFINE_float("beta_1", None, "Adam beta_1")
_BETA_2 = flags.DEFINE_float("beta_2", None, "Adam beta_2")
_COMPUTE_DTYPE = flags.DEFINE_enum("compute_dtype", None, list(model_lib.COMPUTE_DTYPES),
                                   "operand type of the big matmuls")
_OFFSET_GRID = flags.DEFINE_integer(
    "offset_grid", None, "beyond the paper: train on windows starting on every multiple of "
    "this many steps (8 = every beat; the chunk length gives the paper's chunks)",
    lower_bound=0)
_TRANSPOSE = flags.DEFINE_integer("transpose", None, "beyond the paper: transpose each "
                                  "training window by up to this many semitones",
                                  lower_bound=0)
_DECODER = flags.DEFINE_enum("decoder", None, list(postprocess.DECODERS),
                             "how a canvas becomes notes: the paper's threshold, or the "
                             "note decoder (hysteresis, density of the model's expectation)")
_HOLD = flags.DEFINE_float("hold", None, "note decoder: hold a note above hold x its onset "
                           "threshold", lower_bound=0.0, upper_bound=1.0)
_MIN_NOTE_STEPS = flags.DEFINE_integer("min_note_steps", None, "note decoder: drop notes "
                                       "shorter than this many steps", lower_bound=1)
_BRIDGE_STEPS = flags.DEFINE_integer("bridge_steps", None, "note decoder: join re-struck "
                                     "notes across gaps of at most this many steps",
                                     lower_bound=0)
_GRID_STEPS = flags.DEFINE_integer("grid_steps", None, "note decoder: write notes on a grid "
                                   "of this many steps (2 = sixteenths)", lower_bound=1)
_DENSITY = flags.DEFINE_enum("density", None, ["model", "corpus"], "note decoder: active "
                             "cells per piece from the model's expectation, or following the "
                             "training corpus's distribution")
_DURATIONS = flags.DEFINE_enum("durations", None, ["model", "corpus"], "note decoder: every "
                               "piece's notes held at --hold, or each piece held at the level "
                               "that gives it the training corpus's mean note length of the "
                               "same rank")
_ODD_ONSETS = flags.DEFINE_enum("odd_onsets", None, ["none", "corpus"], "note decoder: "
                                "every onset on its grid, or onset steps moved one step off "
                                "it as often as the training corpus has them (needs an even "
                                "--grid_steps; an odd --grid_steps alone turns it off)")
_PITCH_PEAKS = flags.DEFINE_bool("pitch_peaks", None, "note decoder: read only the canvas's "
                                 "peaks along pitch (of two neighbouring semitones at one "
                                 "step, the less likely is read as 0)")
_PRIOR = flags.DEFINE_enum("prior", None, list(model_lib.PRIORS), "beyond the paper: where "
                           "generation draws each piece's code: N(0, I) ('standard'), or a "
                           "Gaussian fitted to the training chunks' codes when training "
                           "ends ('fitted')")
_TEMPERATURE = flags.DEFINE_float("temperature", None, "beyond the paper: generation scales "
                                  "the prior's noise by this (1: the prior itself)")
_LR_HALF_LIFE = flags.DEFINE_integer("lr_half_life", None, "beyond the paper: steps over "
                                     "which the learning rate halves, smoothly (0: constant)",
                                     lower_bound=0)
_LR_DECAY_START = flags.DEFINE_integer("lr_decay_start", None, "beyond the paper: steps at "
                                       "the constant learning rate before it starts halving "
                                       "(with --lr_half_life)", lower_bound=0)
_HOLDOUT = flags.DEFINE_float("holdout", None, "beyond the paper: share of the chunks held "
                              "out, as whole pieces, to choose the checkpoint on (0: none)")
_SELECT_EVERY = flags.DEFINE_integer("select_every", None, "beyond the paper: steps between "
                                     "two scores of the checkpoint on the held-out pieces "
                                     "(0: none, the last checkpoint is the model)")
_SELECT_PIECES = flags.DEFINE_integer("select_pieces", None, "pieces generated per "
                                      "checkpoint selection score")
_ORDER = flags.DEFINE_enum("order", "paper", list(train_lib.ORDERS),
                           "batch order: one chunk per piece, or shuffled chunks")
_MINUTES = flags.DEFINE_float("minutes", None, "training time budget in minutes")
_EPOCHS = flags.DEFINE_integer("epochs", None, "epochs to train", lower_bound=1)
_MAX_STEPS = flags.DEFINE_integer("max_steps", None, "steps to train", lower_bound=1)
_CHECKPOINT_EVERY = flags.DEFINE_integer("checkpoint_every", 100,
                                         "steps between checkpoints", lower_bound=1)
_SEED = flags.DEFINE_integer("seed", 0, "seed of the weights, batches, noise and generation")
_NUM_GENERATE = flags.DEFINE_integer("num_generate", 100, "pieces generated at the end",
                                     lower_bound=1)
_ALPHA = flags.DEFINE_float("alpha", 0.25, "threshold after min-max normalisation (paper: "
                            "0.25 best median, Fig. 5)", lower_bound=0.0, upper_bound=1.0)
_AUDIO = flags.DEFINE_bool("audio", True, "render each generated piece to WAV (no "
                           "synthesizer: a message, and the rest is written as usual)")
_NUM_PERMUTATIONS = flags.DEFINE_integer("num_permutations", 1000,
                                         "permutations of the set-level MMD test",
                                         lower_bound=1)


def model_config_from_flags():
  """The named config with every given Table I / optimiser flag applied."""
  overrides = {"chunk_steps": _CHUNK_STEPS.value, "latent_dim": _LATENT_DIM.value,
               "num_steps": _NUM_STEPS.value, "enc_units": _UNITS.value,
               "dec_units": _UNITS.value, "batch_size": _BATCH_SIZE.value,
               "learning_rate": _LEARNING_RATE.value, "lr_half_life": _LR_HALF_LIFE.value,
               "lr_decay_start": _LR_DECAY_START.value,
               "beta_1": _BETA_1.value,
               "beta_2": _BETA_2.value, "compute_dtype": _COMPUTE_DTYPE.value,
               "alpha": _ALPHA.value, "offset_grid": _OFFSET_GRID.value,
               "transpose": _TRANSPOSE.value, "decoder": _DECODER.value,
               "hold": _HOLD.value, "min_note_steps": _MIN_NOTE_STEPS.value,
               "bridge_steps": _BRIDGE_STEPS.value, "grid_steps": _GRID_STEPS.value,
               "density": _DENSITY.value, "durations": _DURATIONS.value,
               "odd_onsets": _ODD_ONSETS.value, "pitch_peaks": _PITCH_PEAKS.value,
               "prior": _PRIOR.value, "temperature": _TEMPERATURE.value,
               "holdout": _HOLDOUT.value, "select_every": _SELECT_EVERY.value,
               "select_pieces": _SELECT_PIECES.value}
  # Notes on an odd grid (1: every step) already start anywhere: a config that moves onsets
  # off an even grid (the writer's) drops that unless --odd_onsets asks for it (and fails).
  if _GRID_STEPS.value is not None and _GRID_STEPS.value % 2 and _ODD_ONSETS.value is None:
    overrides["odd_onsets"] = "none"
  return dataclasses.replace(model_lib.get_config(_CONFIG.value),
                             **{k: v for k, v in overrides.items() if v is not None})


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {argv[1:]}")
  logging.set_verbosity(logging.WARNING)  # TensorFlow's checkpoint saver logs at INFO
  if _MINUTES.value is None and _EPOCHS.value is None and _MAX_STEPS.value is None:
    raise app.UsageError("give --minutes, --epochs or --max_steps")
  try:
    model_config = model_config_from_flags()
    train_config = train_lib.TrainConfig(
        epochs=_EPOCHS.value, max_steps=_MAX_STEPS.value,
        time_budget_s=None if _MINUTES.value is None else 60.0 * _MINUTES.value,
        checkpoint_every=_CHECKPOINT_EVERY.value, order=_ORDER.value, seed=_SEED.value)
  except ValueError as e:
    raise app.UsageError(str(e)) from e

  corpus_dir = common.corpus_folder(_CORPUS.value, "beethoven")
  common.stage(f"loading corpus {corpus_dir}")
  corpus = common.load_named_corpus(corpus_dir, "corpus")
  chunks, piece_index = corpus_lib.corpus_chunks(corpus.rolls, model_config.chunk_steps)
  if len(chunks) < 17:
    raise app.UsageError(f"--corpus: {corpus_dir} gives {len(chunks)} chunks of "
                         f"{model_config.chunk_steps} steps; at least 17 are needed")
  print(f"{len(corpus)} pieces, {len(chunks)} chunks of {model_config.chunk_steps} steps")

  common.stage(f"training into {_OUT_DIR.value}")
  try:
    summary = train_lib.train(model_config, chunks, piece_index, _OUT_DIR.value, train_config,
                              rolls=corpus.rolls, piece_names=corpus.names)
  except train_lib.NoReadableCheckpoint as e:
    return cli.fail(f"--out_dir: {e}")
  except (train_lib.TrainingDiverged, train_lib.ConfigMismatch) as e:
    print(f"error: {e}", file=sys.stderr)
    return 1
  print(f"\ntrained {summary['step']} steps ({summary['epoch']:.1f} epochs, "
        f"{summary['elapsed_s']:.0f} s in all; stopped by {summary['stopped_by']})")
  if summary["selected"] is not None:
    chosen = summary["selected"]
    print(f"checkpoint chosen on the held-out pieces: step {chosen['step']} (Frechet "
          f"{chosen['rizo17']:.2f} with the 17 features, {chosen['extended']:.2f} extended; "
          f"every score in {_OUT_DIR.value}/selection.json)")

  common.stage(f"generating {_NUM_GENERATE.value} pieces and scoring them")
  try:
    model, step = train_lib.load_trained(_OUT_DIR.value)
  except train_lib.NoReadableCheckpoint as e:
    return cli.fail(f"--out_dir: {e}")
  config = {"corpus": corpus_dir, "model": dataclasses.asdict(model_config),
            "train": dataclasses.asdict(train_config), "num_chunks": int(len(chunks)),
            "trained_steps": summary["step"], "model_step": step,
            "selected": summary["selected"], "trained_seconds": summary["elapsed_s"]}
  report = report_lib.model_report(model, chunks, piece_index, _OUT_DIR.value,
                                   n=_NUM_GENERATE.value, alpha=_ALPHA.value,
                                   seed=_SEED.value,
                                   run=results.run_info(config, _SEED.value),
                                   num_permutations=_NUM_PERMUTATIONS.value)
  summary_text = report_lib.format_report(report)
  print(summary_text)
  out_dir = pathlib.Path(_OUT_DIR.value)
  rows = [r for r in results.read_csv(out_dir / "distances.csv") if r["set"] == "generated"]
  page_path = page_lib.publish(
      out_dir, [out_dir / "generated" / r["item"] for r in rows],
      f"DRAW, config {_CONFIG.value}: {step} steps on {corpus_dir}",
      distances=[float(r["distance"]) for r in rows],
      categories=[r["category"] for r in rows], verdicts=summary_text.splitlines(),
      config=config, histogram=out_dir / "distance_histogram.png", with_audio=_AUDIO.value)
  common.stage(f"wrote {_OUT_DIR.value}/report.json, distance_histogram.png, generated/ "
               f"(MIDI, PNG{', WAV' if _AUDIO.value else ''}) and {page_path}")
  return 0


if __name__ == "__main__":
  common.run(main)
