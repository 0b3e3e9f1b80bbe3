"""The paper's random architecture search (Table I), run on Ray Tune, and its results file.

Table I: 136 architectures drawn uniformly from chunk size `L` in 64..160 (multiples of 8),
latent size `#z` in 5..1000, DRAW steps `T` in 3..75 and LSTM units in 128..1024 (the same
for the encoder and the decoder), every bound included. Each is trained for 30 minutes and
scored by the measure on 100 generated pieces.

Sampling. Trial `i`'s architecture is a pure function of `(seed, i)` (`sample_architecture`):
each parameter is `sha256("seed/trial/name")` reduced modulo its number of values, so it
is the same on every machine and every NumPy version, and the parameters of a trial do not
depend on those of other trials (the modulo bias is below 2^-240).

A trial (`run_trial`): the corpus is cut into chunks of the trial's `L`; the model is the
search space's base config (`baseline`: batch 37, Adam 1e-3 / 0.9 / 0.999) with the four
parameters replaced; `train.train` trains it into `<out_dir>/trials/trial_XXX` for the time
budget (and/or a step budget), resuming from the checkpoint there when one exists; then
`score_trained` generates `num_generate` pieces (seed: the search seed; the last canvas,
min-max normalised and thresholded at `alpha`) and scores each by its Mahalanobis distance
to the corpus's chunks of the same `L` (`report.score_against_corpus`, without the
set-level measures). The training seed of trial `i` is also a pure function of
`(seed, i)`. A trial whose loss becomes NaN is scored from its last good checkpoint
(status `diverged`), or has no score when there is none (status `failed`, distances NaN).

The results file, `<out_dir>/search_results.csv`, one row per finished trial (`COLUMNS`),
is rewritten atomically (a temporary file, then a rename) each time a trial finishes, so a
stopped search keeps every trial it finished. Rerunning the same search skips the trials
already in the file (delete a row to run that trial again) and resumes the unfinished
ones from their checkpoints. `<out_dir>/search_config.json` records the search; a rerun
with other settings (other than `RESUMABLE_FIELDS`) is refused (`SearchMismatch`).

Disk. A trial's checkpoint holds its weights and Adam's two moments: about 12 bytes per
weight, roughly 1 GB for an average Table I architecture (up to 2.5 GB), so the 136 trials
would need over 100 GB. `keep_best = k > 0` deletes the `checkpoints/` and `weights/`
folders of each finished trial that is not among the `k` best so far (lowest mean
distance); their `config.json` and TensorBoard logs stay. A trial keeps `train`'s default:
its two latest checkpoints (one to fall back to when the latest is damaged) and its final
weights alone (a third of a checkpoint).

Damaged checkpoints. A trial resumes from, and is scored with, the newest of its
checkpoints that reads (`train.train`, `train.load_trained`); the skipped ones are named in
the row's `notes`. A trial none of whose checkpoints reads has status `failed`.

Ray. `run_search` starts a local Ray (`num_cpus` = all cores by default) or joins a cluster
(`ray_address`), and runs one Tune trial per pending architecture, each with
`cpus_per_trial` CPUs (and TensorFlow's intra- and inter-op thread pools set to that) and
`gpus_per_trial` GPUs. The corpus's piano rolls go to the workers once, through the object
store (`tune.with_parameters`). A Tune callback on the driver writes the results file and
prints one line per finished trial. On a cluster, every node needs this package installed
and `out_dir` on a filesystem that every node sees at the same path (the trials write their
training folders there, the driver the results file). Each row records the trial's `host`
(its machine's name) and `node` (its Ray node ID).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import math
import os
import pathlib
import shutil
import socket
import sys
import time

import numpy as np

from draw_music import results
from draw_music.corpora import corpus as corpus_lib
from draw_music.metric import features as features_lib
from draw_music.metric import measure

PARAMETERS = ("chunk_steps", "latent_dim", "num_steps", "units")
ORDERS = ("paper", "shuffled")  # train.ORDERS, without importing TensorFlow here
RESULTS_FILE = "search_results.csv"
CONFIG_FILE = "search_config.json"
TRIALS_DIR = "trials"
TUNE_DIR = "ray_tune"
STATUSES = ("ok", "diverged", "failed")


def _fraction_column(name):
  return "fraction_" + name.replace(" ", "_")


FRACTION_COLUMNS = tuple(_fraction_column(n) for n in measure.CATEGORY_NAMES)
COLUMNS = (("trial",) + PARAMETERS
           + ("mean_distance", "std_distance", "median_distance") + FRACTION_COLUMNS
           + ("category", "empty_pieces", "steps", "seconds", "resumed_from", "stopped_by",
              "status", "trial_seconds", "checkpoint_dir", "host", "node", "notes"))
_INT_COLUMNS = ("trial",) + PARAMETERS + ("empty_pieces", "steps", "resumed_from")
_FLOAT_COLUMNS = (("mean_distance", "std_distance", "median_distance") + FRACTION_COLUMNS
                  + ("seconds", "trial_seconds"))


class SearchMismatch(ValueError):
  """`out_dir` holds a search with other settings than the ones asked for."""


@dataclasses.dataclass(frozen=True)
class SearchSpace:
  """Inclusive ranges of the four searched parameters, and the config they override.

  Attributes:
    chunk_steps: `(low, high)` chunk size `L`; both multiples of `chunk_multiple`.
    chunk_multiple: `L` is drawn among the multiples of this in `chunk_steps`.
    latent_dim: `(low, high)` latent size `#z`.
    num_steps: `(low, high)` DRAW steps `T`.
    units: `(low, high)` units of each LSTM (encoder = decoder).
    base_config: name of the `model.CONFIGS` entry whose other fields (batch size,
      optimiser) every trial keeps.
  """
  chunk_steps: tuple = (64, 160)
  chunk_multiple: int = 8
  latent_dim: tuple = (5, 1000)
  num_steps: tuple = (3, 75)
  units: tuple = (128, 1024)
  base_config: str = "baseline"

  def __post_init__(self):
    for name in PARAMETERS:
      low, high = getattr(self, name)
      if not (isinstance(low, int) and isinstance(high, int) and 1 <= low <= high):
        raise ValueError(f"{name} must be a range (low, high) of positive integers with "
                         f"low <= high, got {getattr(self, name)!r}")
    if not isinstance(self.chunk_multiple, int) or self.chunk_multiple < 1:
      raise ValueError(f"chunk_multiple must be a positive integer, got "
                       f"{self.chunk_multiple!r}")
    if any(v % self.chunk_multiple for v in self.chunk_steps):
      raise ValueError(f"chunk_steps bounds {self.chunk_steps} must be multiples of "
                       f"chunk_multiple ({self.chunk_multiple})")

  def values(self, name):
    """Every value parameter `name` can take, ascending: `[k]` int64."""
    low, high = getattr(self, name)
    step = self.chunk_multiple if name == "chunk_steps" else 1
    return np.arange(low, high + 1, step, dtype=np.int64)


SEARCH_SPACES = {
    "table1": SearchSpace(),
    # Seconds per trial, for tests: same flow, tiny models (the 'tiny' config: batch 4).
    "tiny": SearchSpace(chunk_steps=(16, 32), latent_dim=(2, 8), num_steps=(2, 4),
                        units=(8, 16), base_config="tiny"),
}


@dataclasses.dataclass(frozen=True)
class SearchConfig:
  """Settings of a random architecture search.

  Attributes:
    space: the `SearchSpace` sampled.
    num_trials: architectures to try (trials `0..num_trials - 1`).
    seed: seed of the architectures, of each trial's training and of the generation.
    time_budget_s: training time per trial, in seconds (None: only `max_steps`).
    max_steps: training steps per trial (None: only `time_budget_s`).
    num_generate: pieces generated to score each trial.
    alpha: threshold after min-max normalisation of the generated canvases.
    feature_set: signature features of the measure.
    order: batch order of the training ('paper' or 'shuffled').
    checkpoint_every: training steps between checkpoints (a trial interrupted between two
      checkpoints resumes from the earlier one; the last one is always written).
    jit_compile: compile each training step with XLA (slower on CPU, see
      `model.create_model`).
    cpus_per_trial: CPUs Ray gives each trial, and TensorFlow's thread pools' size.
    gpus_per_trial: GPUs (or a fraction of one) Ray gives each trial.
    keep_best: keep the checkpoints of only this many best finished trials (0: all).
  """
  space: SearchSpace = SearchSpace()
  num_trials: int = 136
  seed: int = 0
  time_budget_s: float | None = 1800.0
  max_steps: int | None = None
  num_generate: int = 100
  alpha: float = 0.25
  feature_set: str = features_lib.DEFAULT_FEATURE_SET
  order: str = "paper"
  checkpoint_every: int = 100
  jit_compile: bool = False
  cpus_per_trial: int = 1
  gpus_per_trial: float = 0.0
  keep_best: int = 3

  def __post_init__(self):
    if not isinstance(self.space, SearchSpace):
      raise ValueError(f"space must be a SearchSpace, got {type(self.space).__name__}")
    for name in ("num_trials", "num_generate", "checkpoint_every", "cpus_per_trial"):
      value = getattr(self, name)
      if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    for name in ("seed", "keep_best"):
      value = getattr(self, name)
      if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    if self.time_budget_s is None and self.max_steps is None:
      raise ValueError("give time_budget_s or max_steps (or both)")
    if self.time_budget_s is not None and not self.time_budget_s > 0:
      raise ValueError(f"time_budget_s must be positive, got {self.time_budget_s!r}")
    if self.max_steps is not None and (not isinstance(self.max_steps, int)
                                       or self.max_steps < 1):
      raise ValueError(f"max_steps must be a positive integer, got {self.max_steps!r}")
    if not 0 <= self.alpha <= 1:
      raise ValueError(f"alpha must be in [0, 1], got {self.alpha!r}")
    features_lib.feature_names(self.feature_set)  # raises on an unknown set
    if self.order not in ORDERS:
      raise ValueError(f"order must be one of {ORDERS}, got {self.order!r}")
    if not self.gpus_per_trial >= 0:
      raise ValueError(f"gpus_per_trial must be >= 0, got {self.gpus_per_trial!r}")


# Fields a rerun of a search may change: they do not change what a trial computes.
RESUMABLE_FIELDS = ("num_trials", "cpus_per_trial", "gpus_per_trial", "keep_best")


# ---------------------------------------------------------------------------------------------
# Sampling.


def _draw(seed, trial, name, num_values):
  """A uniform integer in `[0, num_values)`, a pure function of its arguments."""
  digest = hashlib.sha256(f"{seed}/{trial}/{name}".encode()).digest()
  return int.from_bytes(digest, "big") % num_values


def _check_index(name, value):
  if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
    raise ValueError(f"{name} must be a non-negative integer, got {value!r}")


def sample_architecture(space, seed, trial):
  """Trial `trial`'s architecture: each parameter uniform over its values in `space`.

  Args:
    space: a `SearchSpace`.
    seed: non-negative int, the search's seed.
    trial: non-negative int, the trial's number.

  Returns:
    dict `chunk_steps, latent_dim, num_steps, units -> int`, the same for the same
    `(space, seed, trial)` on every machine.
  """
  _check_index("seed", seed)
  _check_index("trial", trial)
  out = {}
  for name in PARAMETERS:
    values = space.values(name)
    out[name] = int(values[_draw(int(seed), int(trial), name, len(values))])
  return out


def trial_seed(seed, trial):
  """The training seed of trial `trial` (weights, batch order, noise): in `[0, 2^31)`."""
  _check_index("seed", seed)
  _check_index("trial", trial)
  return _draw(int(seed), int(trial), "train_seed", 2**31)


def trial_model_config(config, architecture):
  """The `model.DrawConfig` of a trial: the space's base config with its four parameters.

  Args:
    config: a `SearchConfig`.
    architecture: `sample_architecture`'s dict.
  """
  from draw_music.writer import model as model_lib  # pylint: disable=g-import-not-at-top  (TensorFlow)
  units = architecture["units"]
  return dataclasses.replace(
      model_lib.get_config(config.space.base_config),
      chunk_steps=architecture["chunk_steps"], latent_dim=architecture["latent_dim"],
      num_steps=architecture["num_steps"], enc_units=units, dec_units=units,
      alpha=config.alpha)


def trial_dir_name(trial):
  """Folder of trial `trial` under `out_dir`, relative: `trials/trial_XXX`."""
  return f"{TRIALS_DIR}/trial_{int(trial):03d}"


def check_corpus(rolls, space, feature_set=features_lib.DEFAULT_FEATURE_SET):
  """Raises ValueError when the corpus is too short for the space's longest chunks.

  Each trial scores against the corpus's chunks of its own length; the reference needs at
  least one chunk per feature. The longest chunks give the fewest.

  Args:
    rolls: sequence of `[time_i, 128]` bool piano rolls.
    space: a `SearchSpace`.
    feature_set: the measure's feature set.

  Returns:
    The number of chunks at the longest chunk size.
  """
  longest = space.chunk_steps[1]
  needed = len(features_lib.feature_names(feature_set))
  count = len(corpus_lib.corpus_chunks(rolls, longest)[0])
  if count < needed:
    raise ValueError(f"the corpus gives {count} non-empty chunks of {longest} steps (the "
                     f"longest in the search space); the measure needs at least {needed}")
  return count


# ---------------------------------------------------------------------------------------------
# One trial.


def score_trained(train_dir, rolls, num_generate, alpha, seed,
                  feature_set=features_lib.DEFAULT_FEATURE_SET):
  """Generates pieces from a training folder's model and scores them against the corpus.

  Args:
    train_dir: a training folder (`config.json` and `checkpoints/`).
    rolls: sequence of `[time_i, 128]` bool corpus piano rolls; cut into chunks of the
      model's `chunk_steps`, they are the measure's reference.
    num_generate: pieces to generate.
    alpha: threshold after min-max normalisation.
    seed: seed of the generation.
    feature_set: the measure's feature set.

  Returns:
    dict: `model_config` (a `DrawConfig`), `step` (trained steps), `distances`
    `[num_generate]`, `corpus_distances` `[num_chunks]` (the corpus's own chunks to the same
    reference), `summary` and `corpus_summary` (`evaluate.summarize`), `empty_pieces`,
    `skipped_checkpoints` (one line per damaged checkpoint skipped).

  Raises:
    FileNotFoundError: no config.json, or no checkpoint that reads, in `train_dir`
      (`train.NoReadableCheckpoint`).
  """
  # pylint: disable=g-import-not-at-top  (TensorFlow: imported only where a model is used)
  from draw_music.writer import generate
  from draw_music.writer import report
  from draw_music.writer import train as train_lib
  skipped = []

  def warn(line):  # printed (fig4) and returned (the search's notes column)
    skipped.append(line)
    print(f"warning: {line}", file=sys.stderr, flush=True)

  model, step = train_lib.load_trained(train_dir, warn=warn)
  chunks, piece_index = corpus_lib.corpus_chunks(rolls, model.config.chunk_steps)
  _, pieces = generate.generate_rolls(model, num_generate, alpha, seed)
  scores = report.score_against_corpus(pieces, chunks, piece_index, feature_set,
                                       set_level=False)
  return {"model_config": model.config, "step": step, "distances": scores["distances"],
          "corpus_distances": scores["corpus_distances"], "summary": scores["generated"],
          "corpus_summary": scores["corpus"], "empty_pieces": scores["empty_pieces"],
          "skipped_checkpoints": skipped}


def _set_threads(num_threads):
  """Sizes TensorFlow's thread pools; a no-op once TensorFlow has started its runtime."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  try:
    tf.config.threading.set_intra_op_parallelism_threads(num_threads)
    tf.config.threading.set_inter_op_parallelism_threads(num_threads)
  except RuntimeError:  # already initialised (a trial run in a process that used TF)
    pass


def run_trial(config, trial, rolls, out_dir, node=None):
  """Trains (or resumes) and scores trial `trial`; returns its results row.

  Args:
    config: a `SearchConfig`.
    trial: the trial's number.
    rolls: sequence of `[time_i, 128]` bool corpus piano rolls.
    out_dir: the search folder; the trial trains into `out_dir/trials/trial_XXX`.
    node: the Ray node ID running the trial, recorded in the row (None: not on Ray).

  Returns:
    dict with every key of `COLUMNS` (`checkpoint_dir` relative to `out_dir`).

  Raises:
    train.ConfigMismatch: the trial's folder holds a run of another config.
  """
  from draw_music.writer import train as train_lib  # pylint: disable=g-import-not-at-top
  start = time.monotonic()
  arch = sample_architecture(config.space, config.seed, trial)
  model_config = trial_model_config(config, arch)
  chunks, piece_index = corpus_lib.corpus_chunks(rolls, arch["chunk_steps"])
  rel_dir = trial_dir_name(trial)
  train_dir = pathlib.Path(out_dir) / rel_dir
  train_config = train_lib.TrainConfig(
      time_budget_s=config.time_budget_s, max_steps=config.max_steps,
      checkpoint_every=config.checkpoint_every, order=config.order,
      seed=trial_seed(config.seed, trial), jit_compile=config.jit_compile, verbose=False)
  status, summary, notes = "ok", None, []
  try:
    summary = train_lib.train(model_config, chunks, piece_index, train_dir, train_config)
    notes += [f"resumed past a damaged checkpoint: {s}"
              for s in summary["skipped_checkpoints"]]
  except train_lib.TrainingDiverged:
    status = "diverged"
  except train_lib.NoReadableCheckpoint as e:
    status = "failed"
    notes.append(str(e))
  scores = None
  if status != "failed":
    try:
      scores = score_trained(train_dir, rolls, config.num_generate, config.alpha,
                             config.seed, config.feature_set)
      notes += scores["skipped_checkpoints"]
    except FileNotFoundError as e:  # diverged before its first checkpoint, or none reads
      status = "failed"
      notes.append(str(e))
  row = {"trial": int(trial), **arch}
  if scores is None:
    stats = {"mean": math.nan, "std": math.nan, "median": math.nan,
             "fraction_per_category": {n: math.nan for n in measure.CATEGORY_NAMES}}
  else:
    stats = scores["summary"]
  row.update(mean_distance=stats["mean"], std_distance=stats["std"],
             median_distance=stats["median"])
  row.update({_fraction_column(n): stats["fraction_per_category"][n]
              for n in measure.CATEGORY_NAMES})
  row.update(
      category=category_of(stats["mean"]),
      empty_pieces=None if scores is None else scores["empty_pieces"],
      steps=summary["step"] if summary else (scores["step"] if scores else 0),
      seconds=summary["elapsed_s"] if summary else math.nan,
      resumed_from=summary["resumed_from"] if summary else None,
      stopped_by=summary["stopped_by"] if summary else "nan_loss",
      status=status, trial_seconds=time.monotonic() - start, checkpoint_dir=rel_dir,
      host=socket.gethostname(), node=node, notes=" | ".join(notes))
  return row


def category_of(mean_distance):
  """Table II category name of a mean distance ('' when it is NaN)."""
  if not math.isfinite(mean_distance):
    return ""
  return measure.CATEGORY_NAMES[int(measure.categorize(mean_distance))]


# ---------------------------------------------------------------------------------------------
# The results file.


def _parse(column, value):
  if value in ("", None):
    return None
  if column in _INT_COLUMNS:
    return int(value)
  if column in _FLOAT_COLUMNS:
    return float(value)
  return value


def read_results(path):
  """Rows of a results file, typed (ints, floats; None for empty cells), by trial.

  Returns:
    A list of dicts (empty when the file does not exist).
  """
  path = pathlib.Path(path)
  if not path.exists():
    return []
  rows = [{k: _parse(k, v) for k, v in row.items()} for row in results.read_csv(path)]
  missing = [c for c in ("trial", "mean_distance") + PARAMETERS if rows and c not in rows[0]]
  if missing:
    raise ValueError(f"{path} is not a search results file: no column {', '.join(missing)}")
  return sorted(rows, key=lambda r: r["trial"])


def finished_trials(path):
  """Trial numbers already in a results file."""
  return {row["trial"] for row in read_results(path)}


def pending_trials(num_trials, finished):
  """Trials `0..num_trials - 1` not in `finished`, in order."""
  return [i for i in range(num_trials) if i not in finished]


def add_result(path, row):
  """Adds (or replaces) `row`'s trial in the results file, atomically; returns every row."""
  path = pathlib.Path(path)
  rows = [r for r in read_results(path) if r["trial"] != row["trial"]]
  rows = sorted(rows + [{c: row.get(c) for c in COLUMNS}], key=lambda r: r["trial"])
  tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
  results.write_csv(tmp, rows, list(COLUMNS))
  os.replace(tmp, path)  # a reader never sees a half-written file
  return rows


def best_rows(rows, k=3):
  """The `k` rows of lowest mean distance (ties: lower trial first); unscored rows left out."""
  scored = [r for r in rows if r.get("mean_distance") is not None
            and math.isfinite(r["mean_distance"])]
  return sorted(scored, key=lambda r: (r["mean_distance"], r["trial"]))[:k]


def resolve_checkpoint(results_path, row):
  """The training folder of a results row (a relative one is relative to the file's folder)."""
  path = pathlib.Path(row["checkpoint_dir"])
  return path if path.is_absolute() else pathlib.Path(results_path).parent / path


def prune_checkpoints(out_dir, rows, keep_best):
  """Deletes `checkpoints/` and `weights/` of the finished trials outside the `keep_best` best.

  Returns:
    The training folders whose checkpoints were deleted now.
  """
  if keep_best <= 0:
    return []
  keep = {r["trial"] for r in best_rows(rows, keep_best)}
  pruned = []
  for row in rows:
    folder = resolve_checkpoint(pathlib.Path(out_dir) / RESULTS_FILE, row)
    held = [folder / name for name in ("checkpoints", "weights") if (folder / name).is_dir()]
    if row["trial"] not in keep and held:
      for path in held:
        shutil.rmtree(path)
      pruned.append(folder)
  return pruned


def format_row(row):
  """One readable line of a results row."""
  arch = (f"L={row['chunk_steps']} #z={row['latent_dim']} T={row['num_steps']} "
          f"units={row['units']}")
  if row["mean_distance"] is None or not math.isfinite(row["mean_distance"]):
    score = "no score"
  else:
    score = (f"distance {row['mean_distance']:.2f} +- {row['std_distance']:.2f} "
             f"(median {row['median_distance']:.2f}, {row['category']})")
  seconds = row.get("seconds")
  trained = (f"{row['steps']} steps" + (f" in {seconds:.0f} s" if seconds is not None
                                        and math.isfinite(seconds) else ""))
  status = "" if row["status"] == "ok" else f" [{row['status']}]"
  return f"trial {row['trial']:03d}: {arch}: {score}; {trained}{status}"


def prepare_search_dir(out_dir, config, run):
  """Checks a rerun's settings against the stored ones, then writes `search_config.json`.

  Args:
    out_dir: the search folder.
    config: the `SearchConfig`.
    run: `results.run_info(...)`; its `config` holds `"search": asdict(config)` and,
      optionally, `"corpus"` (a rerun must name the same corpus).

  Raises:
    SearchMismatch: `out_dir` holds a search with other settings.
  """
  path = pathlib.Path(out_dir) / CONFIG_FILE
  current = json.loads(json.dumps(dataclasses.asdict(config)))
  if path.exists():
    stored_run = json.loads(path.read_text())["run"]["config"]
    stored = stored_run["search"]
    strip = lambda d: {k: v for k, v in d.items() if k not in RESUMABLE_FIELDS}
    changed = sorted(k for k in strip(current) if stored.get(k) != current[k])
    if stored_run.get("corpus") != run["config"].get("corpus"):
      changed.append("corpus")
    if changed:
      raise SearchMismatch(
          f"{out_dir} holds a search with other settings ({', '.join(changed)} differ; "
          f"see {path}); use a new out_dir, or the same settings (only "
          f"{', '.join(RESUMABLE_FIELDS)} may change)")
  results.write_json(path, {"run": run})


# ---------------------------------------------------------------------------------------------
# Ray Tune.


def _tune_trainable(params, config, rolls, out_dir):
  """Tune's function trainable: runs one trial and reports its results row."""
  import ray  # pylint: disable=g-import-not-at-top
  from ray import tune  # pylint: disable=g-import-not-at-top
  os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
  _set_threads(config.cpus_per_trial)
  node = ray.get_runtime_context().get_node_id()
  tune.report(run_trial(config, params["trial"], rolls, out_dir, node=node))


class ResultsWriter:
  """What the driver does as trials finish: the results file, pruning, a progress line."""

  def __init__(self, out_dir, config, progress=print):
    self.out_dir = pathlib.Path(out_dir)
    self.config = config
    self.progress = progress or (lambda line: None)

  def add(self, row):
    rows = add_result(self.out_dir / RESULTS_FILE, row)
    self.progress(f"[{len(rows)}/{self.config.num_trials}] finished {format_row(row)}")
    for folder in prune_checkpoints(self.out_dir, rows, self.config.keep_best):
      self.progress(f"  deleted the checkpoints of {folder.name} (not among the "
                    f"{self.config.keep_best} best)")
    return rows


def _make_callback(writer):
  from ray import tune  # pylint: disable=g-import-not-at-top

  class _WriteResults(tune.Callback):
    """Streams each finished trial's row to the results file."""

    def on_trial_result(self, iteration, trials, trial, result, **info):
      del iteration, trials, info
      if "mean_distance" in result:
        writer.add({c: result.get(c) for c in COLUMNS})

    def on_trial_error(self, iteration, trials, trial, **info):
      del iteration, trials, info
      path = getattr(trial, "error_file", None)  # written by Tune before this call
      text = pathlib.Path(path).read_text() if path and os.path.exists(path) else ""
      lines = [line for line in text.splitlines() if line.strip()]
      writer.progress(f"trial {trial.config['trial']:03d} FAILED (not written; a rerun "
                      f"retries it): {lines[-1][:300] if lines else 'see the log above'}")

  return _WriteResults()


def run_search(config, rolls, out_dir, run=None, ray_address=None, num_cpus=None,
               progress=print):
  """Runs the pending trials of a search on Ray Tune; returns every row of the results.

  Args:
    config: a `SearchConfig`.
    rolls: sequence of `[time_i, 128]` bool corpus piano rolls (checked with
      `check_corpus` first).
    out_dir: the search folder (created).
    run: `results.run_info(...)` written to `search_config.json` (default: one built from
      `config`).
    ray_address: address of a Ray cluster to join; None starts a local Ray (unless Ray is
      already initialised in this process).
    num_cpus: CPUs of a local Ray (default: every core).
    progress: called with one line per event (None: silent).

  Returns:
    The rows of `search_results.csv` (`read_results`).

  Raises:
    SearchMismatch: `out_dir` holds a search with other settings.
    ValueError: the corpus is too short, or Ray has fewer CPUs (GPUs) than one trial asks.
  """
  progress = progress or (lambda line: None)
  out_dir = pathlib.Path(out_dir).resolve()
  check_corpus(rolls, config.space, config.feature_set)
  if run is None:
    run = results.run_info({"search": dataclasses.asdict(config)}, config.seed)
  prepare_search_dir(out_dir, config, run)
  results_path = out_dir / RESULTS_FILE
  pending = pending_trials(config.num_trials, finished_trials(results_path))
  done = config.num_trials - len(pending)
  if not pending:
    progress(f"all {config.num_trials} trials are in {results_path}; nothing to run")
    return read_results(results_path)
  progress(f"{done} trials already in {results_path}; running {len(pending)}")

  os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")  # Tune's plain, quiet reporter
  import ray  # pylint: disable=g-import-not-at-top  (slow; only a search needs it)
  from ray import tune  # pylint: disable=g-import-not-at-top
  started = not ray.is_initialized()
  if started:
    quiet = dict(include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING)
    if ray_address:
      ray.init(address=ray_address, **quiet)
    else:
      ray.init(num_cpus=num_cpus or os.cpu_count(), **quiet)
  try:
    available = ray.cluster_resources()
    for name, wanted in (("CPU", config.cpus_per_trial), ("GPU", config.gpus_per_trial)):
      if wanted and available.get(name, 0) < wanted:
        raise ValueError(f"each trial asks for {wanted} {name}s but the Ray cluster has "
                         f"{available.get(name, 0):g}; no trial could ever start")
    resources = {"cpu": config.cpus_per_trial}
    if config.gpus_per_trial:
      resources["gpu"] = config.gpus_per_trial
    trainable = tune.with_resources(
        tune.with_parameters(_tune_trainable, config=config, rolls=tuple(rolls),
                             out_dir=str(out_dir)), resources)
    tuner = tune.Tuner(
        trainable,
        param_space={"trial": tune.grid_search(pending)},
        tune_config=tune.TuneConfig(
            trial_dirname_creator=lambda t: f"trial_{t.config['trial']:03d}"),
        run_config=tune.RunConfig(
            name="search", storage_path=str(out_dir / TUNE_DIR), verbose=0,
            callbacks=[_make_callback(ResultsWriter(out_dir, config, progress))]))
    tuner.fit()
  finally:
    if started:
      ray.shutdown()
  rows = read_results(results_path)
  missing = pending_trials(config.num_trials, {r["trial"] for r in rows})
  if missing:
    progress(f"{len(missing)} trials did not finish ({', '.join(map(str, missing[:10]))}"
             f"{', ...' if len(missing) > 10 else ''}); rerun the same command to retry them")
  return rows


# ---------------------------------------------------------------------------------------------
# Fig. 4: the best architectures' distance distributions.


def distance_distributions(train_dirs, rolls, num_generate, alpha, seed,
                           feature_set=features_lib.DEFAULT_FEATURE_SET):
  """Scores each training folder's pieces (the paper's Fig. 4) and tests the first one.

  Args:
    train_dirs: training folders, the one to test first (the best).
    rolls: sequence of `[time_i, 128]` bool corpus piano rolls (the reference, cut at each
      model's chunk size).
    num_generate: pieces per model.
    alpha: threshold after min-max normalisation.
    seed: seed of the generation.
    feature_set: the measure's feature set.

  Returns:
    dict: `models`, one `score_trained` dict per folder (plus `train_dir`), and `t_test`:
    the paper's Welch t-test (`report.welch_t_test`) of the first model's distances against
    the corpus's own chunks' distances to the same reference.
  """
  from draw_music.writer import report  # pylint: disable=g-import-not-at-top
  models = [{"train_dir": str(d), **score_trained(d, rolls, num_generate, alpha, seed,
                                                  feature_set)} for d in train_dirs]
  first = models[0]
  return {"models": models,
          "t_test": report.welch_t_test(first["distances"], first["corpus_distances"])}


def architecture_of(model_config):
  """The four Table I parameters of a `DrawConfig`, as a dict."""
  return {"chunk_steps": model_config.chunk_steps, "latent_dim": model_config.latent_dim,
          "num_steps": model_config.num_steps, "units": model_config.enc_units}
