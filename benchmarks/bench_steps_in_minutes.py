r"""Steps that the same minutes of training buy, today's path against an older commit's.

The training step profile (`benchmarks/bench_profile.py`) times one step of each path in one
process. This benchmark checks what that ratio buys where it matters: it trains the
paper's baseline from the same seed, on the same corpus, for the same minutes, once with
the code of `--old_commit` (its `train.train` and model, extracted with `git archive` into a
temporary folder) and once with this tree's, one after the other on this machine, and
reports the steps each made. Each training runs in its own Python process whose working
folder is that tree's root, so each imports its own `draw_music`. The clock is the training
loop's own (`train.train`'s time budget: checkpoints every 200 steps and epoch ends count,
as they do for a user).

    python -m benchmarks.bench_steps_in_minutes --minutes 10 --dtypes float32 \
        --corpus ../shared/data/beethoven_piano --out BENCHMARKS.md

Writes `steps_in_minutes.json` under `--out_dir` (every training's summary, the load average
after it) and the section `SECTION` of `--out`.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

from benchmarks import common

SECTION = "## Steps in the same minutes of training, today's path against an older commit's"
OLD_COMMIT = "dd36dcb"
REPO = pathlib.Path(__file__).resolve().parents[1]

# Run in the root of a source tree, so that `draw_music` is that tree's. The flat layout of
# older commits (`draw_music.train`) and today's (`draw_music.writer.train`) are both read.
_TRAIN_SNIPPET = r"""
import json, sys
import numpy as np
from draw_music import corpus as corpus_lib
try:
  from draw_music.writer import model as model_lib, train as train_lib
except ImportError:
  from draw_music import model as model_lib, train as train_lib
corpus_path, out_dir, config_name, minutes, seed = sys.argv[1:6]
corpus = corpus_lib.load_corpus(corpus_path)
config = model_lib.get_config(config_name)
chunks, piece_index = corpus_lib.corpus_chunks(corpus.rolls, config.chunk_steps)
summary = train_lib.train(config, chunks, piece_index, out_dir, train_lib.TrainConfig(
    time_budget_s=60 * float(minutes), checkpoint_every=200, seed=int(seed)))
print("SUMMARY " + json.dumps({"step": int(summary["step"]),
                               "elapsed_s": float(summary["elapsed_s"]),
                               "last_loss": summary["last_loss"]}, default=float), flush=True)
"""

CONFIG_OF_DTYPE = {"float32": "baseline", "bfloat16": "baseline_bf16"}


def extract_commit(commit, folder):
  """Writes the tree of `commit` (of this repository) into `folder`; a ValueError naming the
  commit if git cannot."""
  archive = subprocess.run(["git", "-C", str(REPO), "archive", commit], capture_output=True)
  if archive.returncode:
    raise ValueError(f"--old_commit {commit}: git archive failed: "
                     f"{archive.stderr.decode(errors='replace').strip()}")
  subprocess.run(["tar", "-x", "-C", str(folder)], input=archive.stdout, check=True)


def train_in(tree, corpus, out_dir, config_name, minutes, seed):
  """Trains in a Python process rooted at `tree`; its summary (step, elapsed_s, last_loss)."""
  env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
  proc = subprocess.Popen(
      [sys.executable, "-c", _TRAIN_SNIPPET, str(corpus), str(out_dir), config_name,
       str(minutes), str(seed)],
      cwd=tree, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
  summary, tail = None, []
  for line in proc.stdout:  # the training's own progress, passed on
    if "SUMMARY {" in line:  # after a progress bar's last redraw, on its line
      summary = json.loads(line.split("SUMMARY ", 1)[1])
    else:
      sys.stdout.write(line)
      tail = (tail + [line])[-20:]
  if proc.wait() or summary is None:
    raise RuntimeError(f"training in {tree} failed (exit {proc.returncode}):\n"
                       + "".join(tail))
  return summary


def main(argv=None):
  parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_steps_in_minutes")
  parser.add_argument("--corpus", default="../shared/data/beethoven_piano")
  parser.add_argument("--minutes", type=float, default=10.0)
  parser.add_argument("--dtypes", default="float32", help="comma list of float32, bfloat16")
  parser.add_argument("--seed", type=int, default=0)
  parser.add_argument("--old_commit", default=OLD_COMMIT)
  parser.add_argument("--out_dir", default="out/steps_in_minutes")
  parser.add_argument("--out", default="BENCHMARKS.md")
  parser.add_argument("--section", default=SECTION)
  args = parser.parse_args(argv)
  common.section_heading(parser, args.section)
  dtypes = common.compute_dtypes(parser, args.dtypes)
  if args.minutes <= 0:
    parser.error(f"--minutes must be positive, got {args.minutes}")
  corpus = pathlib.Path(args.corpus).resolve()
  if not corpus.is_dir():
    parser.error(f"--corpus {args.corpus}: not a folder")
  out_dir = pathlib.Path(args.out_dir)
  out_dir.mkdir(parents=True, exist_ok=True)

  records = []
  with tempfile.TemporaryDirectory() as tmp:
    old_tree = pathlib.Path(tmp) / "old"
    old_tree.mkdir()
    try:
      extract_commit(args.old_commit, old_tree)
    except ValueError as e:
      parser.error(str(e))
    for dtype in dtypes:
      config_name = CONFIG_OF_DTYPE[dtype]
      row = {"dtype": dtype, "config": config_name}
      for path, tree in (("old", old_tree), ("new", REPO)):
        run_dir = out_dir / f"{dtype}_{path}"
        if run_dir.exists():
          raise SystemExit(f"--out_dir: {run_dir} exists; a resumed run would not be a "
                           "fresh training (remove it or choose another --out_dir)")
        print(f"[{dtype}, {path} path] training {args.minutes:g} minutes ...", flush=True)
        summary = train_in(tree, corpus, run_dir, config_name, args.minutes, args.seed)
        summary["load_average"] = common.load_average()
        summary["ms_per_step"] = 1000 * summary["elapsed_s"] / summary["step"]
        row[path] = summary
        print(f"[{dtype}, {path} path] {summary['step']} steps, "
              f"{summary['ms_per_step']:.0f} ms a step", flush=True)
      row["steps_ratio"] = row["new"]["step"] / row["old"]["step"]
      records.append(row)

  out = {"corpus": str(corpus), "minutes": args.minutes, "seed": args.seed,
         "old_commit": args.old_commit, "cpu": common.cpu_model(),
         "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "rows": records}
  (out_dir / "steps_in_minutes.json").write_text(json.dumps(out, indent=1) + "\n")
  write_section(args, out)
  return 0


def write_section(args, out):
  lines = [
      f"| compute dtype | config | old path steps | old ms/step | new path steps | "
      f"new ms/step | new / old steps |",
      "|---|---|---|---|---|---|---|"]
  for row in out["rows"]:
    lines.append(f"| {row['dtype']} | {row['config']} | {row['old']['step']} | "
                 f"{row['old']['ms_per_step']:.0f} | {row['new']['step']} | "
                 f"{row['new']['ms_per_step']:.0f} | {row['steps_ratio']:.2f} |")
  body = f"""{args.section}

Command: `{common.command_line("benchmarks.bench_steps_in_minutes")}`  
Date: {out["date"]}  
Machine: {common.machine_line()}  

The paper's baseline trained for {out["minutes"]:g} minutes from seed {out["seed"]} on
`{out["corpus"]}`, paper batch order, checkpoints every 200 steps, once with the code of
commit {out["old_commit"]} ("old") and once with this tree's ("new"), one after the other on
this machine, each in its own process. Steps are those the training loop's own clock allowed;
ms/step is its elapsed time over its steps. Load averages after each: `steps_in_minutes.json`.

""" + "\n".join(lines) + "\n"
  common.write_section(args.out, body.splitlines())
  print(body)


if __name__ == "__main__":
  sys.exit(main())
