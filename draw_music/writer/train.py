"""Training a DRAW music model: checkpoints, resumption, TensorBoard, a NaN guard.

`train(model_config, chunks, piece_index, out_dir, train_config)` trains from scratch, or
resumes from the last checkpoint under `out_dir` when there is one (rerunning the same
command resumes). Layout of `out_dir`:

  config.json     the model and training configs (a resumed run must match them)
  corpus_density.json  active cells and share of odd onset steps of every training chunk
                       (for the note decoder)
  checkpoints/    `tf.train.CheckpointManager` checkpoints `ckpt-STEP`: weights, Adam state,
                  step, time; the latest `max_to_keep` (2) are kept
  weights/        `weights-STEP`: the final weights alone (no optimizer state, a third of a
                  checkpoint's size), written when a run ends; what generation reads
  selected/       `weights-STEP`: with checkpoint selection (`DrawConfig.select_every`),
                  the weights whose pieces were nearest the held-out pieces; what
                  generation reads then (`selection`)
  selection.json  with checkpoint selection: every score, the selected one, the held-out
                  pieces
  tensorboard/    scalars: loss, reconstruction, kl (every `log_every` steps)
  latent_prior/   `step-STEP.npz`: with `DrawConfig.prior='fitted'`, the Gaussian fitted
                  to the training chunks' codes (`latent.fit_prior`) for the weights of that
                  step; written when a run ends (for its final weights), or by
                  `python -m draw_music.writer.fit_prior`

Damaged checkpoints (a full disk, a crash during a copy). Resuming falls back to the newest
full checkpoint that reads, prints one line per checkpoint it skipped (which, and why) and
moves the skipped files into `checkpoints/damaged/`; `load_trained` reads the selected
weights where the run selects, else the newest of `weights/` and `checkpoints/`, that
reads (falling back to the next newest), printing the same lines. Two checkpoints are kept
so that one damaged checkpoint never loses the run. When none reads: `NoReadableCheckpoint`.

Reproducibility, and why a killed run resumes to the same weights: everything random in a
step is a pure function of `(seed, step)`. The batches are the stream of
`pipeline.make_dataset(..., seed, repeat=True)` (a resumed run skips the batches already
trained on), and the noise of step `s` is `tf.random.stateless_normal(seed=(seed, s))`. A checkpoint holds the weights, the
optimizer's moments, the step and the training time so far, so a run killed (even with
SIGKILL) after checkpoint `k` and restarted computes exactly the steps an unbroken run would
from there on: it loses at most one checkpoint interval of work.

The NaN guard: when a step's loss is not finite, training stops with `TrainingDiverged`, no
checkpoint is written, and the last good checkpoint stays the latest.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import pathlib
import sys
import time

import keras
import numpy as np
import tensorflow as tf

from draw_music.writer import latent
from draw_music.writer import model as model_lib
from draw_music.writer import optim
from draw_music.writer import pipeline
from draw_music.writer import postprocess
from draw_music.writer import selection as selection_lib

ORDERS = pipeline.ORDERS


# Active cells, mean note lengths and odd onset shares of every training chunk (the note
# decoder's density='corpus', durations='corpus' and odd_onsets='corpus' read them).
CORPUS_DENSITY_FILE = "corpus_density.json"


class TrainingDiverged(RuntimeError):
  """The loss became NaN or infinite; the last good checkpoint is kept."""


class ConfigMismatch(ValueError):
  """`out_dir` holds a run with another config than the one asked for."""


class NoReadableCheckpoint(FileNotFoundError):
  """A training folder has no checkpoint, or none of its checkpoints can be read."""


CHECKPOINTS_DIR = "checkpoints"
WEIGHTS_DIR = "weights"
DAMAGED_DIR = "damaged"


@dataclasses.dataclass(frozen=True)
class TrainConfig:
  """How long and how to train (the model's own hyperparameters are in `DrawConfig`).

  Attributes:
    epochs: stop after this many epochs (None: no epoch limit).
    time_budget_s: stop once this much training time has passed, counted over every run
      that resumed the same `out_dir` (None: no limit).
    max_steps: stop after this many steps (None: no limit).
    checkpoint_every: steps between checkpoints.
    order: 'paper' (each batch one chunk from each of `batch_size` pieces) or 'shuffled'.
    seed: seed of the initial weights, the batch order and the noise.
    log_every: steps between TensorBoard scalars.
    max_to_keep: full checkpoints kept on disk (2: the latest, and one to fall back to
      when the latest is damaged).
    jit_compile: compile the training step with XLA (off: slower on this CPU, see
      BENCHMARKS.md).
    verbose: show a progress bar per epoch.
  """
  epochs: int | None = None
  time_budget_s: float | None = None
  max_steps: int | None = None
  checkpoint_every: int = 100
  order: str = "paper"
  seed: int = 0
  log_every: int = 10
  max_to_keep: int = 2
  jit_compile: bool = False
  verbose: bool = True

  def __post_init__(self):
    if self.epochs is None and self.time_budget_s is None and self.max_steps is None:
      raise ValueError("give at least one of epochs, time_budget_s, max_steps")
    for name in ("epochs", "max_steps"):
      value = getattr(self, name)
      if value is not None and (not isinstance(value, int) or value < 1):
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if self.time_budget_s is not None and not self.time_budget_s > 0:
      raise ValueError(f"time_budget_s must be positive, got {self.time_budget_s!r}")
    for name in ("checkpoint_every", "log_every", "max_to_keep"):
      value = getattr(self, name)
      if not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if self.order not in ORDERS:
      raise ValueError(f"order must be one of {ORDERS}, got {self.order!r}")


# Fields of TrainConfig that may change when a run is resumed (how long, how verbose);
# everything else must match the stored config.
_RESUMABLE_CHANGES = ("epochs", "time_budget_s", "max_steps", "verbose", "log_every",
                      "checkpoint_every", "max_to_keep")
# Fields of DrawConfig that only say how a canvas becomes notes: training never reads them,
# so a resumed run may change them (the new values are stored and used from then on).
DECODING_FIELDS = ("alpha", "decoder", "hold", "min_note_steps", "bridge_steps",
                   "grid_steps", "density", "durations", "odd_onsets", "pitch_peaks",
                   "prior", "temperature")

LATENT_PRIOR_DIR = "latent_prior"
# Posterior draws per training chunk that the fitted prior is fitted to.
LATENT_PRIOR_PASSES = 4


def latent_prior_path(out_dir, step):
  """Where the latent prior fitted for the weights of `step` is kept."""
  return pathlib.Path(out_dir) / LATENT_PRIOR_DIR / f"step-{int(step)}.npz"


def write_latent_prior(out_dir, model, step, chunks, seed, overwrite=False):
  """Fits `latent.fit_prior` to `chunks` for `model` (the weights of `step`) and keeps it
  in the training folder (unless it is there already and not `overwrite`); its path."""
  path = latent_prior_path(out_dir, step)
  if overwrite or not path.exists():
    prior = latent.fit_prior(model, chunks, passes=LATENT_PRIOR_PASSES, seed=seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.stem + f".tmp{os.getpid()}.npz")
    prior.save(tmp)
    os.replace(tmp, path)
  return path


def _config_record(model_config, train_config, num_chunks):
  return {"model": dataclasses.asdict(model_config),
          "train": dataclasses.asdict(train_config), "num_chunks": int(num_chunks)}


def _check_resume(out_dir, record):
  path = pathlib.Path(out_dir) / "config.json"
  if not path.exists():
    return
  stored = json.loads(path.read_text())
  # A run written before a DrawConfig field existed used that field's default.
  stored["model"] = {**dataclasses.asdict(model_lib.DrawConfig()), **stored["model"]}
  strip = lambda r: {**r, "train": {k: v for k, v in r["train"].items()
                                    if k not in _RESUMABLE_CHANGES},
                     "model": {k: v for k, v in r["model"].items()
                               if k not in DECODING_FIELDS}}
  if strip(stored) != strip(json.loads(json.dumps(record))):
    raise ConfigMismatch(
        f"{out_dir} holds a run with another config ({path}); use a new --out_dir, or the "
        f"same flags as that run. Stored: {json.dumps(strip(stored))}")


def load_run_config(out_dir):
  """`(DrawConfig, TrainConfig)` stored in a training folder's config.json."""
  path = pathlib.Path(out_dir) / "config.json"
  if not path.exists():
    raise FileNotFoundError(f"{out_dir} is not a training folder: no {path.name} in it")
  stored = json.loads(path.read_text())
  return model_lib.DrawConfig(**stored["model"]), TrainConfig(**stored["train"])


def _make_checkpoint(model, optimizer):
  return tf.train.Checkpoint(model=model, optimizer=optimizer,
                             step=tf.Variable(0, dtype=tf.int64),
                             elapsed=tf.Variable(0.0, dtype=tf.float64))


def _warn(line):
  print(f"warning: {line}", file=sys.stderr, flush=True)


def _checkpoints_in(folder, prefix):
  """`[(step, path)]` of the checkpoints `folder/prefix-STEP` (their .index file), newest
  first. Read from the files, not from TensorFlow's `checkpoint` state file, which may be
  damaged too."""
  found = []
  for index in pathlib.Path(folder).glob(f"{prefix}-*.index"):
    number = index.name[len(prefix) + 1:-len(".index")]
    if number.isdigit():
      found.append((int(number), str(index.with_suffix(""))))
  return sorted(found, reverse=True)


def _restore_newest(candidates, restore, warn):
  """Restores the newest readable checkpoint of `candidates` (`[(step, path)]`, in order).

  Args:
    candidates: the checkpoints to try, in order.
    restore: called with a path; raises when the checkpoint cannot be read.
    warn: called with one line per skipped checkpoint.

  Returns:
    `(path, skipped)`: the restored path (None when none reads) and `[(path, reason)]`.
  """
  skipped = []
  for _, path in candidates:
    try:
      restore(path)
    # Whatever reading a damaged file raises (IndexError "Read less bytes than requested"
    # for a truncated data file, DataLossError, NotFoundError, AssertionError for a
    # checkpoint of other variables, ...): the next candidate is tried.
    except Exception as e:  # pylint: disable=broad-except
      reason = f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"[:300]
      skipped.append((path, reason))
      warn(f"skipped checkpoint {path}, it cannot be read ({reason})")
      continue
    return path, skipped
  return None, skipped


def _none_readable(out_dir, skipped):
  return NoReadableCheckpoint(
      f"no checkpoint of {out_dir} can be read ({len(skipped)} tried, all damaged: "
      f"{'; '.join(f'{pathlib.Path(p).name}: {r}' for p, r in skipped)}); train again into "
      f"a new --out_dir")


CHOICES = ("selected", "last")


def load_trained(out_dir, warn=_warn, choice="selected", with_prior=True):
  """The model of a training folder, from the newest of its checkpoints that reads.

  Tries the selected weights (`selected/`, where the run chose its checkpoint on held-out
  pieces, `selection`; unless `choice` is 'last'), then the final weights (`weights/`) and
  the full checkpoints (`checkpoints/`) newest step first (the weights first at equal
  steps), skipping the damaged ones.

  Args:
    out_dir: a training folder.
    warn: called with one line per skipped checkpoint (default: printed to stderr).
    choice: 'selected' (the selected weights where there are some) or 'last' (the newest).
    with_prior: where the config's `prior` is 'fitted', set the model's latent prior from
      `latent_prior/` (False: leave it N(0, I), to fit one).

  Returns:
    `(model, step)`.

  Raises:
    FileNotFoundError: `out_dir` has no config.json.
    NoReadableCheckpoint: no checkpoint, or none that reads.
    ValueError: the config's prior is 'fitted' and none was fitted for the step loaded, or
      its file does not read.
  """
  if choice not in CHOICES:
    raise ValueError(f"choice must be one of {CHOICES}, got {choice!r}")
  out_dir = pathlib.Path(out_dir)
  model_config, train_config = load_run_config(out_dir)
  model = model_lib.DrawModel(model_config, seed=train_config.seed)
  model.build()
  ckpt = tf.train.Checkpoint(model=model, step=tf.Variable(0, dtype=tf.int64))
  # At equal steps the weights file comes first: ("weights" sorts after "ckpt", reversed).
  candidates = sorted(_checkpoints_in(out_dir / WEIGHTS_DIR, "weights")
                      + _checkpoints_in(out_dir / CHECKPOINTS_DIR, "ckpt"), reverse=True)
  if choice == "selected":
    candidates = (_checkpoints_in(out_dir / selection_lib.SELECTED_DIR, "weights")
                  + candidates)
  if not candidates:
    raise NoReadableCheckpoint(f"{out_dir} has no checkpoint under {CHECKPOINTS_DIR}/ or "
                               f"{WEIGHTS_DIR}/")
  restored, skipped = _restore_newest(
      candidates, lambda p: ckpt.restore(p).expect_partial().assert_existing_objects_matched(),
      warn)
  if restored is None:
    raise _none_readable(out_dir, skipped)
  density = out_dir / CORPUS_DENSITY_FILE
  if density.exists():
    stats = json.loads(density.read_text())
    model.corpus_cells = np.asarray(stats["active_cells"])
    if "odd_onset_shares" in stats:  # older runs' files have none
      model.corpus_odd_shares = np.asarray(stats["odd_onset_shares"])
    if "note_lengths" in stats:  # nor these
      model.corpus_note_lengths = np.asarray(stats["note_lengths"])
  step = int(ckpt.step.numpy())
  if with_prior and model_config.prior == "fitted":
    attach_latent_prior(model, out_dir, step)
  return model, step


def attach_latent_prior(model, out_dir, step):
  """Sets `model`'s latent prior to the one fitted for the weights of `step` in `out_dir`;
  a ValueError saying how to fit it where there is none."""
  path = latent_prior_path(out_dir, step)
  if not path.exists():
    raise ValueError(
        f"{out_dir}: prior='fitted' samples from a latent prior fitted to the training "
        f"corpus, but none was fitted for the weights of step {step} ({path} is missing): "
        f"fit it with `python -m draw_music.writer.fit_prior --checkpoint {out_dir} "
        "--corpus <the training corpus>`, or sample from N(0, I) (prior 'standard')")
  model.set_latent_prior(latent.LatentPrior.load(path))


def _write_weights(model, step, folder):
  """Writes `folder/weights-STEP` (the model's weights and step alone), then deletes the
  older weights files there."""
  folder = pathlib.Path(folder)
  folder.mkdir(parents=True, exist_ok=True)
  older = _checkpoints_in(folder, "weights")
  weights = tf.train.Checkpoint(model=model, step=tf.Variable(step, dtype=tf.int64))
  weights.save_counter  # pylint: disable=pointless-statement  (created, so written: a
  # loader's Checkpoint has one and checks that every object it holds was read)
  weights.write(str(folder / f"weights-{step}"))
  for old_step, path in older:
    if old_step != step:
      for f in folder.glob(pathlib.Path(path).name + ".*"):
        f.unlink()


def _set_damaged_aside(ckpt_dir, skipped, restored):
  """Moves the skipped checkpoints' files to `damaged/` and points TensorFlow's state
  file at the restored checkpoint (so the manager keeps counting from the good ones)."""
  damaged = ckpt_dir / DAMAGED_DIR
  damaged.mkdir(exist_ok=True)
  for path, _ in skipped:
    for f in ckpt_dir.glob(pathlib.Path(path).name + ".*"):
      os.replace(f, damaged / f.name)
  good = [pathlib.Path(p).name for _, p in sorted(_checkpoints_in(ckpt_dir, "ckpt"))]
  # TensorFlow's `checkpoint` state file (a text proto), which the manager reads.
  (ckpt_dir / "checkpoint").write_text(
      f'model_checkpoint_path: "{pathlib.Path(restored).name}"\n'
      + "".join(f'all_model_checkpoint_paths: "{name}"\n' for name in good))


def _step_function(model, optimizer, jit_compile):
  cfg = model.config

  def step(x, seed):
    eps = tf.random.stateless_normal([tf.shape(x)[0], cfg.num_steps, cfg.latent_dim], seed)
    with tf.GradientTape() as tape:
      losses = model.losses_for(x, eps)
    grads = tape.gradient(losses["loss"], model.trainable_weights)
    optimizer.apply(grads, model.trainable_weights)
    return losses["loss"], losses["reconstruction"], losses["kl"]

  return tf.function(step, jit_compile=jit_compile, reduce_retracing=True)


def train(model_config, chunks, piece_index, out_dir, train_config, rolls=None,
          piece_names=None):
  """Trains (or resumes training) a DRAW model on corpus chunks.

  With `model_config.offset_grid > 0` (beyond the paper) the batches are windows of the
  whole pieces `rolls` instead of `chunks` (`pipeline.make_window_dataset`, transposed by up
  to `model_config.transpose` semitones); `chunks` then only sets the epoch length.

  With `model_config.holdout > 0` (beyond the paper) the pieces `selection.holdout_pieces`
  picks (seeded by `train_config.seed`) are held out: training sees the other pieces only,
  and every `model_config.select_every` steps and at the end the checkpoint is scored on the
  held-out pieces (`selection.Selector`); the best is kept in `selected/`.

  Args:
    model_config: a `model.DrawConfig`; `chunk_steps` must match the chunks.
    chunks: `[n, chunk_steps, 128]` bool chunks.
    piece_index: `[n]` int, the piece each chunk comes from (for the paper's batch order).
    out_dir: training folder (created; resumed when it holds a checkpoint).
    train_config: a `TrainConfig`.
    rolls: the corpus's whole `[time_i, 128]` pieces (`Corpus.rolls`, indexed by
      `piece_index`); needed, and only used, when `model_config.offset_grid > 0`.
    piece_names: the name of each piece (indexed by `piece_index`), only to name the
      held-out pieces in `selection.json`.

  Returns:
    dict: `step`, `epoch`, `elapsed_s` (over every run of this folder), `resumed_from`
    (the step resumed from, or None), `last_loss`, `stopped_by`, `skipped_checkpoints`
    (`"path: reason"` of each damaged checkpoint skipped when resuming), `selected` (the
    selected score's row of `selection.json`, or None without selection).

  Raises:
    TrainingDiverged: the loss became NaN or infinite (the last good checkpoint is kept).
    ConfigMismatch: `out_dir` holds a run of another config.
    NoReadableCheckpoint: `out_dir` holds checkpoints and none of them can be read.
    ValueError: chunks of the wrong shape, or none.
  """
  chunks = np.asarray(chunks)
  if chunks.ndim != 3 or chunks.shape[1:] != (model_config.chunk_steps,
                                              model_config.num_pitches):
    raise ValueError(f"chunks must have shape [n, {model_config.chunk_steps}, "
                     f"{model_config.num_pitches}], got {chunks.shape}")
  if len(chunks) == 0:
    raise ValueError("no chunk to train on")
  if model_config.offset_grid and rolls is None:
    raise ValueError("this config trains on windows of whole pieces (offset_grid "
                     f"{model_config.offset_grid}): pass the corpus's rolls")
  out_dir = pathlib.Path(out_dir)
  record = _config_record(model_config, train_config, len(chunks))
  _check_resume(out_dir, record)
  heldout = None
  if model_config.holdout:
    chunks, piece_index, heldout, held_pieces = selection_lib.split(
        chunks, piece_index, model_config.holdout, train_config.seed)
    if rolls is not None:  # windows only of the training pieces
      held = set(held_pieces.tolist())
      rolls = [r[:0] if i in held else r for i, r in enumerate(rolls)]
  out_dir.mkdir(parents=True, exist_ok=True)
  (out_dir / "config.json").write_text(json.dumps(record, indent=1) + "\n")
  # The training chunks' active cells, note lengths and odd onset shares, for decoders that
  # follow them.
  corpus_stats = {"active_cells": np.sort(chunks.reshape(len(chunks), -1).sum(axis=1)),
                  "note_lengths": np.sort(postprocess.mean_note_steps(chunks)),
                  "odd_onset_shares": np.sort(postprocess.odd_onset_shares(chunks))}
  (out_dir / CORPUS_DENSITY_FILE).write_text(json.dumps(
      {k: v.tolist() for k, v in corpus_stats.items()}) + "\n")

  keras.utils.set_random_seed(train_config.seed)  # initial weights
  model = model_lib.DrawModel(model_config, seed=train_config.seed)
  model.build()
  # Keras's Adam with a one-pass update; the same state, so checkpoints written with
  # keras.optimizers.Adam resume.
  optimizer = optim.for_config(model_config)
  optimizer.build(model.trainable_weights)
  ckpt = _make_checkpoint(model, optimizer)
  ckpt_dir = out_dir / CHECKPOINTS_DIR
  candidates = _checkpoints_in(ckpt_dir, "ckpt")
  resumed_from, skipped = None, []
  if candidates:
    restored, skipped = _restore_newest(
        candidates, lambda p: ckpt.restore(p).assert_existing_objects_matched(), _warn)
    if restored is None:
      raise _none_readable(out_dir, skipped)
    if skipped:
      _set_damaged_aside(ckpt_dir, skipped, restored)
      _warn(f"resuming from {restored} instead; the damaged files are in "
            f"{ckpt_dir / DAMAGED_DIR} (delete them)")
    resumed_from = int(ckpt.step.numpy())
    if train_config.verbose:
      print(f"resuming from {restored} (step {resumed_from}, "
            f"{ckpt.elapsed.numpy():.0f} s trained)", flush=True)
  manager = tf.train.CheckpointManager(ckpt, str(ckpt_dir),
                                       max_to_keep=train_config.max_to_keep)
  selector = None
  if heldout is not None:
    names = [str(piece_names[i]) if piece_names is not None else str(i) for i in held_pieces]
    selector = selection_lib.Selector(
        out_dir, heldout, corpus_stats, model_config.select_pieces,
        {"heldout_pieces": names, "heldout_chunks": int(len(heldout)),
         "train_chunks": int(len(chunks))})

  step_fn = _step_function(model, optimizer, train_config.jit_compile)
  writer = tf.summary.create_file_writer(str(out_dir / "tensorboard"))
  batch_size = model_config.batch_size
  seed = train_config.seed
  steps_per_epoch = math.ceil(len(chunks) / batch_size)
  limits = [train_config.max_steps or math.inf, (train_config.epochs or math.inf)
            * steps_per_epoch]
  last_step = min(limits)

  step = int(ckpt.step.numpy())
  elapsed_before = float(ckpt.elapsed.numpy())
  start = time.monotonic()
  elapsed = lambda: elapsed_before + time.monotonic() - start
  last_saved = step if resumed_from is not None else None
  last_loss = None

  def save():
    ckpt.step.assign(step)
    ckpt.elapsed.assign(elapsed())
    manager.save(checkpoint_number=step)

  def select():
    row = selector.update(model, step, elapsed(), lambda folder, s: _write_weights(model, s,
                                                                                   folder))
    if row is not None and train_config.verbose:
      print(f"\nstep {step}: Frechet to the held-out pieces "
            + ", ".join(f"{fs} {row[fs]:.2f}" for fs in selection_lib.FEATURE_SETS)
            + (" (best so far, kept)" if row["best"] else
               f" (best: step {selector.selected['step']}, {selector.selected['score']:.2f})"),
            flush=True)

  # The same seed gives the same endless stream of batches; a resumed run skips the ones
  # already trained on.
  if model_config.offset_grid:
    table, starts, window_piece = pipeline.windows(rolls, model_config.chunk_steps,
                                                   model_config.offset_grid)
    dataset = pipeline.make_window_dataset(
        table, starts, window_piece, model_config.chunk_steps, batch_size,
        train_config.order, seed, model_config.transpose, repeat=True).skip(step)
  else:
    dataset = pipeline.make_dataset(chunks, piece_index, batch_size, train_config.order,
                                    seed, repeat=True).skip(step)
  progbar = None
  stopped_by = "max_steps" if limits[0] <= limits[1] else "epochs"
  for x in dataset:
    if step >= last_step:
      break
    if train_config.time_budget_s is not None and elapsed() >= train_config.time_budget_s:
      stopped_by = "time_budget"
      break
    epoch, in_epoch = divmod(step, steps_per_epoch)
    if train_config.verbose and (progbar is None or in_epoch == 0):
      print(f"epoch {epoch + 1}/{train_config.epochs or '?'}", flush=True)
      progbar = keras.utils.Progbar(steps_per_epoch,
                                    stateful_metrics=["loss", "reconstruction", "kl"])
    loss, rec, kl = (float(v) for v in step_fn(x, tf.constant([seed, step], tf.int64)))
    if not all(math.isfinite(v) for v in (loss, rec, kl)):
      kept = (f"The last good checkpoint (step {last_saved}) is kept in "
              f"{out_dir / 'checkpoints'}" if last_saved is not None
              else "No checkpoint had been written yet")
      raise TrainingDiverged(
          f"the loss became {loss} (reconstruction {rec}, kl {kl}) at step {step + 1}; "
          f"training stopped. {kept}: lower the learning rate or check the data.")
    step += 1
    last_loss = {"loss": loss, "reconstruction": rec, "kl": kl}
    if progbar is not None:
      progbar.update(in_epoch + 1, values=list(last_loss.items()))
    if step % train_config.log_every == 0:
      with writer.as_default(step=step):
        for name, value in last_loss.items():
          tf.summary.scalar(name, value)
        tf.summary.scalar("elapsed_s", elapsed())
    if step % train_config.checkpoint_every == 0:
      save()
      last_saved = step
    if selector is not None and step % model_config.select_every == 0:
      select()
  if step != last_saved:
    save()
  if selector is not None and not selector.scored(step):
    select()
  _write_weights(model, step, out_dir / WEIGHTS_DIR)
  trained_s = elapsed()  # the fit below is not training time
  if model_config.prior == "fitted":
    if train_config.verbose:
      print("fitting the latent prior to the training chunks' codes", flush=True)
    write_latent_prior(out_dir, model, step, chunks, seed)
  writer.flush()
  return {"step": step, "epoch": step / steps_per_epoch, "elapsed_s": trained_s,
          "resumed_from": resumed_from, "last_loss": last_loss, "stopped_by": stopped_by,
          "skipped_checkpoints": [f"{p}: {r}" for p, r in skipped],
          "selected": None if selector is None else selector.selected}
