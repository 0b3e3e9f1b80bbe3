r"""Where a training step's time goes, today's path against the one of commit dd36dcb.

    python -m benchmarks.bench_profile [--repeats 15] [--loss_steps 150] \
        [--corpus ../shared/data/beethoven_piano] [--out BENCHMARKS.md]

For the paper's baseline (batch of 37 chunks, 3%-dense random chunks, fixed noise), in
bfloat16 and in float32, it times each part of a step as its own `tf.function`:
- forward: the loss (`DrawModel.losses_for`);
- forward + backward: the loss and the gradients of every weight;
- optimizer: the Adam update of the 20.4 M weights from fixed gradients;
- step: the whole training step as `train.py` runs it (noise, loss, gradients, update);
- matmuls of forward + backward: the matrix products' share of the op time in a profiler
  trace of forward + backward (`tf.profiler`, op-type totals over 5 calls), times its median;
  the rest is everything else (casts, concatenations, element-wise ops, ...). The largest op
  types of that trace are printed and written too.
Both paths live in the same process: the old one is the model module of `--old_commit`
(`draw_music/writer/model.py`, or `draw_music/model.py` before the subpackages; read with
`git show`, imported as its own module) with `keras.optimizers.Adam`, the new one
this tree's model with `optim.FusedAdam`. Calls alternate between the two (old, new, old,
...) so that both see the same load; each figure is the median of `--repeats` calls after
warm-up (and the ratio of the fastest calls beside it: on a shared machine the
fastest call is the one least slowed by the others). The ratio is new / old.

Generation, both paths on the same float32 weights, alternating: 100 pieces as `generate`
makes them (old: `sample`'s every canvas, the last binarised; new: `generate.generate_rolls`,
the last canvas alone), with the cells where their pieces differ; and `sample` itself (every
step's canvas, as Fig. 6 reads them), beside its one big product timed alone.

Then the maths check: both paths train `--loss_steps` steps from the same initial weights
on the same batches (the paper's batch order on `--corpus`, or random 3%-dense chunks when it
is missing) with the same noise, and their mean loss over the last 10 steps must agree
within `--tolerance` (0.5%).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import importlib.util
import os
import pathlib
import re
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # pylint: disable=g-import-not-at-top
import numpy as np  # pylint: disable=g-import-not-at-top
import tensorflow as tf  # pylint: disable=g-import-not-at-top

from benchmarks import common  # pylint: disable=g-import-not-at-top
from draw_music.writer import model as model_lib  # pylint: disable=g-import-not-at-top
from draw_music.writer import optim  # pylint: disable=g-import-not-at-top
from draw_music.writer import train  # pylint: disable=g-import-not-at-top

SECTION = "## Training step profile: where the time goes, before and after"
OLD_COMMIT = "dd36dcb"
LAST = 10  # the maths check compares the mean loss of the last LAST steps
PARTS = ("forward", "forward + backward", "matmuls of forward + backward",
         "rest of forward + backward", "optimizer update", "whole training step")
REPO = pathlib.Path(__file__).resolve().parents[1]


def _today_imports(source):
  """`source` with its `from draw_music import X` lines pointed at X's subpackage today
  (the modules were in one flat folder when the old commit was made)."""
  where = {p.stem: p.parent.name for p in (REPO / "draw_music").glob("*/*.py")}
  return re.sub(r"^(\s*)from draw_music import (\w+)",
                lambda m: (f"{m.group(1)}from draw_music.{where[m.group(2)]} import {m.group(2)}"
                           if m.group(2) in where else m.group(0)), source, flags=re.MULTILINE)


def old_model_module(commit=OLD_COMMIT):
  """The model module as it was at `commit` (`draw_music/writer/model.py`, or
  `draw_music/model.py` before the subpackages), imported as a module of its own."""
  for where in ("draw_music/writer/model.py", "draw_music/model.py"):
    shown = subprocess.run(["git", "show", f"{commit}:{where}"], cwd=REPO,
                           capture_output=True, text=True, check=False)
    if shown.returncode == 0:
      break
  else:
    raise ValueError(f"--old_commit {commit}: no draw_music/writer/model.py or "
                     f"draw_music/model.py there ({shown.stderr.strip()})")
  source = shown.stdout
  commit = re.sub(r"\W", "_", commit)  # a module name
  source = _today_imports(source)
  path = pathlib.Path(tempfile.mkdtemp()) / f"model_{commit}.py"
  path.write_text(source)
  spec = importlib.util.spec_from_file_location(f"draw_music_model_{commit}", path)
  module = importlib.util.module_from_spec(spec)
  sys.modules[spec.name] = module  # dataclasses look their module up there
  # The old module registers its DrawModel under today's Keras name ('draw_music>DrawModel'):
  # keep today's registration, or every model loaded afterwards would be built as the old one.
  registered = dict(keras.saving.get_custom_objects())
  try:
    spec.loader.exec_module(module)
  finally:
    custom_objects = keras.saving.get_custom_objects()
    custom_objects.clear()
    custom_objects.update(registered)
  return module


def random_batch(config, seed, density=0.03):
  """`[batch_size, chunk_steps, 128]` float32 chunks with `density` of the cells on."""
  rng = np.random.default_rng(seed)
  shape = (config.batch_size, config.chunk_steps, config.num_pitches)
  return tf.constant((rng.random(shape) < density).astype(np.float32))


def build_pair(old_module, dtype, seed=0, config_name="baseline"):
  """`{'old': (model, optimizer), 'new': (...)}` with the same initial weights, of the
  registered config `config_name` (the paper's baseline unless a test asks for less)."""
  config = dataclasses.replace(model_lib.get_config(config_name), compute_dtype=dtype)
  keras.utils.set_random_seed(seed)
  new = model_lib.DrawModel(config, seed=seed)
  new.build()
  # The old config knows only the fields of its day (the writer's came later, with their
  # defaults: the paper's model).
  known = {f.name for f in dataclasses.fields(old_module.DrawConfig)}
  old = old_module.DrawModel(
      old_module.DrawConfig(**{k: v for k, v in vars(config).items() if k in known}), seed=seed)
  old.build()
  old.set_weights(new.get_weights())
  pair = {}
  for name, model, cls in (("old", old, keras.optimizers.Adam), ("new", new, optim.FusedAdam)):
    optimizer = cls(config.learning_rate, config.beta_1, config.beta_2)
    optimizer.build(model.trainable_weights)
    pair[name] = (model, optimizer)
  return pair


MATMUL_TYPES = ("MatMul", "_MklMatMul", "_MklNativeFusedMatMul", "_MklFusedMatMul",
                "BatchMatMulV2", "_MklBatchMatMulV2", "BatchMatMulV3")


def op_type_times(fn, calls=5):
  """`{op type: ms per call}` of the TensorFlow ops `fn` runs, from a profiler trace.

  Sums the durations of the ops' trace events (`name:type` events of the host's compute
  threads) over `calls` calls. Ops that run at the same time on different threads both
  count, so the total can exceed the wall time; the shares are what this is for.
  """
  from tensorflow.tsl.profiler.protobuf import xplane_pb2  # pylint: disable=g-import-not-at-top
  fn()
  logdir = tempfile.mkdtemp()
  tf.profiler.experimental.start(logdir)
  for _ in range(calls):
    fn()
  tf.profiler.experimental.stop()
  totals = {}
  for path in pathlib.Path(logdir).rglob("*.xplane.pb"):
    space = xplane_pb2.XSpace()
    space.ParseFromString(path.read_bytes())
    for plane in space.planes:
      names = {key: meta.name for key, meta in plane.event_metadata.items()}
      for line in plane.lines:
        for event in line.events:
          name = names.get(event.metadata_id, "")
          if ":" not in name or "::" in name:  # not a TensorFlow op
            continue
          op_type = name.rsplit(":", 1)[1].strip()
          if op_type.startswith("__"):  # a whole function's call, not an op
            continue
          totals[op_type] = totals.get(op_type, 0.0) + event.duration_ps / 1e9 / calls
  return totals


def part_functions(model, optimizer, x, eps):
  """`{part: callable}` for one path (see the module docstring)."""
  weights = model.trainable_weights

  @tf.function
  def forward():
    return model.losses_for(x, eps)["loss"]

  @tf.function
  def gradients():
    with tf.GradientTape() as tape:
      loss = model.losses_for(x, eps)["loss"]
    return tape.gradient(loss, weights)

  fixed = [tf.constant(g) for g in gradients()]

  @tf.function
  def update():
    optimizer.apply(fixed, weights)
    return optimizer.iterations

  step_fn = train._step_function(model, optimizer, False)  # pylint: disable=protected-access
  seed = tf.constant([0, 0], tf.int64)
  return {"forward": lambda: forward().numpy(),
          "forward + backward": lambda: gradients()[0].numpy(),
          "optimizer update": lambda: update().numpy(),
          "whole training step": lambda: step_fn(x, seed)[0].numpy()}


PIECES_ALPHA = 0.25  # the baseline's threshold


def generation_times(samplers, repeats, n=100):
  """Times of making `n` pieces (seed 0) of the same weights both ways, alternating.

  "old": `sample`'s every canvas, the last one binarised (what `generate` did at the old
  commit); "new": `generate.generate_rolls` (the last canvas alone). Also the one product
  that every step's canvas needs (`[n * num_steps, dec + 1] @ [dec + 1, N]`), alone.

  Returns:
    dict: 'old', 'new' medians and 'new_min' in ms, 'cells' (active cells of the new
    pieces), 'cells_differ' (cells where the two paths' pieces differ), 'product' (median
    ms) and its shape ('rows', 'inner', 'cols').
  """
  from draw_music.writer import generate  # pylint: disable=g-import-not-at-top
  old_model, new_model = samplers["old"], samplers["new"]
  old_fn = lambda: model_lib.binarize(old_model.sample(n, seed=0).numpy()[:, -1], PIECES_ALPHA)
  new_fn = lambda: generate.generate_rolls(new_model, n, PIECES_ALPHA, 0)[1]
  medians, times = common.interleaved_medians({"old": old_fn, "new": new_fn}, repeats)
  old_rolls, new_rolls = np.asarray(old_fn()), new_fn()
  cfg = new_model.config
  rows, inner, cols = n * cfg.num_steps, cfg.dec_units + 1, cfg.num_cells
  a, b = tf.random.normal([rows, inner]), tf.random.normal([inner, cols])
  product = tf.function(lambda: tf.matmul(a, b))
  product_ms, _ = common.interleaved_medians({"product": lambda: product().numpy()}, repeats)
  return {**medians, "new_min": 1000.0 * min(times["new"]),
          "cells": int(new_rolls.sum()), "cells_differ": int((old_rolls != new_rolls).sum()),
          "product": product_ms["product"], "rows": rows, "inner": inner, "cols": cols}


def profile(old_module, dtype, repeats, seed=0):
  """`{(path, part): median ms}` for both paths of one compute dtype."""
  pair = build_pair(old_module, dtype, seed)
  config = pair["new"][0].config
  x = random_batch(config, seed)
  eps = tf.constant(np.random.default_rng(seed + 1).normal(
      size=(config.batch_size, config.num_steps, config.latent_dim)).astype(np.float32))
  functions = {}
  for path in ("old", "new"):
    for part, fn in part_functions(*pair[path], x, eps).items():
      functions[(path, part)] = fn
  # Alternate path by path within each part: old, new, old, new, ...
  order = sorted(functions, key=lambda key: (PARTS.index(key[1]), key[0] != "old"))
  assert all(key[1] in PARTS for key in functions)
  medians, times = common.interleaved_medians({key: functions[key] for key in order}, repeats)
  # The fastest call of each: what the machine gives when the other agents' load lets up.
  minimums = {key: 1000.0 * min(v) for key, v in times.items()}
  op_types = {}
  for path in ("old", "new"):
    # The matmuls' share of the op time of forward + backward, from a profiler trace.
    times = op_type_times(functions[(path, "forward + backward")])
    share = sum(v for k, v in times.items() if k in MATMUL_TYPES) / sum(times.values())
    total = medians[(path, "forward + backward")]
    medians[(path, "matmuls of forward + backward")] = share * total
    medians[(path, "rest of forward + backward")] = (1.0 - share) * total
    op_types[path] = times
  return medians, minimums, op_types


def training_batches(config, corpus, steps, seed):
  """`steps` batches `[batch, chunk_steps, 128]` float32: paper order on `corpus`, or random."""
  if corpus and pathlib.Path(corpus).is_dir():
    from draw_music.corpora import corpus as corpus_lib  # pylint: disable=g-import-not-at-top
    from draw_music.writer import pipeline  # pylint: disable=g-import-not-at-top
    chunks, piece_index = corpus_lib.corpus_chunks(corpus_lib.load_corpus(corpus).rolls,
                                                   config.chunk_steps)
    dataset = pipeline.make_dataset(chunks, piece_index, config.batch_size, "paper", seed,
                                    repeat=True)
    return ([tf.cast(b, tf.float32) for b in dataset.take(steps)],
            f"`{corpus}`, paper batch order")
  return [random_batch(config, seed + 100 + i) for i in range(steps)], "random 3%-dense chunks"


def compare_losses(old_module, dtype, batches, seed=0, last=LAST):
  """Trains both paths alike on `batches`; returns each path's mean loss over the last steps."""
  pair = build_pair(old_module, dtype, seed)
  losses = {}
  for path, (model, optimizer) in pair.items():
    step_fn = train._step_function(model, optimizer, False)  # pylint: disable=protected-access
    history = [float(step_fn(x, tf.constant([seed, s], tf.int64))[0])
               for s, x in enumerate(batches)]
    losses[path] = float(np.mean(history[-last:]))
  return losses


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--repeats", type=int, default=15)
  parser.add_argument("--loss_steps", type=int, default=150,
                      help="steps of the maths check (0: skip it)")
  parser.add_argument("--corpus", default="../shared/data/beethoven_piano")
  parser.add_argument("--tolerance", type=float, default=0.005)
  parser.add_argument("--old_commit", default=OLD_COMMIT)
  parser.add_argument("--dtypes", default="bfloat16,float32")
  parser.add_argument("--out", default=None, help="Markdown file to write the section into")
  parser.add_argument("--section", default=SECTION,
                      help="heading of the section written into --out (another heading keeps "
                           "the section of another machine)")
  parser.add_argument("--machine_note", default="",
                      help="a sentence on the machine's load, written into the section")
  args = parser.parse_args(argv)
  if args.repeats < 1:
    parser.error(f"--repeats must be a positive integer, got {args.repeats}")
  dtypes = common.compute_dtypes(parser, args.dtypes)
  old_module = old_model_module(args.old_commit)
  started = time.perf_counter()
  results, minimums, op_types = {}, {}, {}
  for dtype in dtypes:
    results[dtype], minimums[dtype], op_types[dtype] = profile(old_module, dtype, args.repeats)
  for dtype, medians in results.items():
    print(f"{dtype}: part, old ms, new ms, new / old (medians); the same of the minimums")
    for part in PARTS:
      old, new = medians[("old", part)], medians[("new", part)]
      line = f"  {part:32s} {old:8.1f} {new:8.1f} {new / old:6.2f}"
      if (("old", part)) in minimums[dtype]:
        low_old, low_new = minimums[dtype][("old", part)], minimums[dtype][("new", part)]
        line += f"   {low_old:8.1f} {low_new:8.1f} {low_new / low_old:6.2f}"
      print(line)
    print(f"{dtype}: op types of forward + backward, ms of op time per call (trace), old / new")
    for op_type, new in sorted(op_types[dtype]["new"].items(), key=lambda kv: -kv[1])[:8]:
      print(f"  {op_type:32s} {op_types[dtype]['old'].get(op_type, 0.0):8.1f} {new:8.1f}")
  # Sampling, old and new paths alternating (the baseline's float32 decoder, same weights).
  samplers = {name: model for name, (model, _) in build_pair(old_module, "float32").items()}
  sample_medians, sample_times = common.interleaved_medians(
      {name: (lambda m=m: m.sample(100, seed=0).numpy()) for name, m in samplers.items()},
      args.repeats)
  sample_ms, sample_min = sample_medians["new"], 1000.0 * min(sample_times["new"])
  sample_old = sample_medians["old"]
  print(f"sample 100 pieces (all canvases): new median {sample_ms:.1f} ms, min "
        f"{sample_min:.1f}; old median {sample_old:.1f} ms; new / old {sample_ms / sample_old:.2f}")
  pieces = generation_times(samplers, args.repeats)
  print(f"100 pieces as `generate` makes them: new median {pieces['new']:.1f} ms, min "
        f"{pieces['new_min']:.1f}; old median {pieces['old']:.1f} ms; new / old "
        f"{pieces['new'] / pieces['old']:.2f}; cells that differ {pieces['cells_differ']} of "
        f"{pieces['cells']}; every canvas's product alone {pieces['product']:.1f} ms")
  checks = {}
  if args.loss_steps:
    config = model_lib.get_config("baseline")
    batches, source = training_batches(config, args.corpus, args.loss_steps, 0)
    for dtype in dtypes:
      losses = compare_losses(old_module, dtype, batches)
      rel = abs(losses["new"] - losses["old"]) / abs(losses["old"])
      checks[dtype] = (losses, rel)
      first = max(1, args.loss_steps - LAST + 1)
      print(f"{dtype}: mean loss of steps {first}-{args.loss_steps}: old "
            f"{losses['old']:.3f}, new {losses['new']:.3f}, relative difference {rel:.5f} "
            f"({'within' if rel <= args.tolerance else 'NOT within'} {args.tolerance})")
  print(f"total {time.perf_counter() - started:.0f} s")
  if args.out:
    command = common.command_line("benchmarks.bench_profile", argv)
    lines = [args.section, "", f"Command: `{command.strip()}`  ",
             f"Date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M UTC}  ",
             f"Machine: {common.machine_line()}; TensorFlow {tf.__version__}; load average "
             f"(1 / 5 / 15 min) at the end: {common.load_average()}. {args.machine_note}".rstrip()
             + "  ", "",
             f"The paper's baseline, batch of 37 random 3%-dense chunks, fixed noise; medians of "
             f"{args.repeats} calls of each part as its own `tf.function` (and, last column, the "
             "ratio of the fastest calls). \"old\" is "
             f"the model module of commit {args.old_commit} with `keras.optimizers.Adam`, "
             "\"new\" this tree's model with `optim.FusedAdam`. \"matmuls\" is the matrix "
             "products' share of the op time in a `tf.profiler` trace of forward + backward, "
             "times its median; \"rest\" is the remainder (casts, concatenations, "
             "element-wise ops).", ""]
    header = "| part |" + "".join(f" {d} old ms | {d} new ms | new / old | new / old, min |"
                                  for d in dtypes)
    lines += [header, "|---|" + "---|---|---|---|" * len(dtypes)]

    def min_ratio(d, part):
      if ("old", part) not in minimums[d]:
        return "-"
      return f"{minimums[d][('new', part)] / minimums[d][('old', part)]:.2f}"

    for part in PARTS:
      cells = "".join(f" {results[d][('old', part)]:.1f} | {results[d][('new', part)]:.1f} | "
                      f"{results[d][('new', part)] / results[d][('old', part)]:.2f} | "
                      f"{min_ratio(d, part)} |" for d in dtypes)
      lines.append(f"| {part} |{cells}")
    for dtype in dtypes:
      lines += ["", f"{dtype} forward + backward, largest op types (ms of op time per call, "
                "summed over threads, from the trace): "
                + "; ".join(f"{k} {op_types[dtype]['old'].get(k, 0.0):.0f} -> {v:.0f}"
                            for k, v in sorted(op_types[dtype]["new"].items(),
                                               key=lambda kv: -kv[1])[:6]) + "."]
    lines += ["", f"Generating 100 pieces as `generate` makes them (float32, the paper's "
              f"decoder at alpha {PIECES_ALPHA}): new path (`generate.generate_rolls`: the last "
              f"canvases alone, `latent.decode_last`) median {pieces['new']:.1f} ms, min "
              f"{pieces['new_min']:.1f} ms; old path (`sample`, every step's canvas, then the "
              f"last one binarised) median {pieces['old']:.1f} ms (new / old "
              f"{pieces['new'] / pieces['old']:.2f}); {args.repeats} calls each, alternating "
              f"(goal: under 50 ms; {'met' if pieces['new'] < 50 else 'NOT met'} by the "
              f"median). The same pieces: {pieces['cells_differ']} of their {pieces['cells']} "
              "active cells differ.",
              f"Every step's canvas (`sample`, as Fig. 6 reads them; float32): new path median "
              f"{sample_ms:.1f} ms, min {sample_min:.1f} ms; old path median {sample_old:.1f} ms "
              f"(new / old {sample_ms / sample_old:.2f}); its one product alone "
              f"(`[{pieces['rows']}, {pieces['inner']}] @ [{pieces['inner']}, "
              f"{pieces['cols']}]`, float32) median {pieces['product']:.1f} ms."]
    goals = {"bfloat16": 0.6, "float32": 0.75}
    for dtype in dtypes:
      ratio = (results[dtype][("new", "whole training step")]
               / results[dtype][("old", "whole training step")])
      low = (minimums[dtype][("new", "whole training step")]
             / minimums[dtype][("old", "whole training step")])
      lines.append(f"Whole {dtype} training step: new / old = {ratio:.2f} by the medians, "
                   f"{low:.2f} by the fastest calls (goal: at most {goals[dtype]}, "
                   f"{'met' if ratio <= goals[dtype] else 'NOT met'} by the medians): the same "
                   f"minutes of training make {1.0 / ratio:.2f}x as many steps.")
    if checks:
      lines += ["", f"Same maths: both paths trained {args.loss_steps} steps from the same "
                f"weights on the same batches ({source}, seed 0) with the same "
                f"noise; mean loss over the last 10 steps:"]
      for dtype, (losses, rel) in checks.items():
        lines.append(f"- {dtype}: old {losses['old']:.3f}, new {losses['new']:.3f}, relative "
                     f"difference {rel:.5f} (tolerance {args.tolerance}: "
                     f"{'met' if rel <= args.tolerance else 'NOT met'}).")
    common.write_section(args.out, lines + [""])


if __name__ == "__main__":
  main()
