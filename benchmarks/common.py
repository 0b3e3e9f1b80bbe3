"""What every benchmark shares: the machine's description and writing its BENCHMARKS.md section."""

from __future__ import annotations

import argparse
import datetime
import os
import pathlib
import platform
import shlex
import sys
import time

import numpy as np


def cpu_model():
  """The CPU's model name from /proc/cpuinfo (or what `platform` knows)."""
  try:
    for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
      if line.startswith("model name"):
        return line.split(":", 1)[1].strip()
  except OSError:
    pass
  return platform.processor() or "unknown CPU"


def load_average():
  """The 1 / 5 / 15 minute load averages, as text."""
  if not hasattr(os, "getloadavg"):
    return "?"
  return " / ".join(f"{x:.2f}" for x in os.getloadavg())


def command_line(module, argv=None):
  """`python -m <module> <args>` as a shell would need it typed (arguments quoted), from
  `argv` or, when it is None, this process's own arguments."""
  args = sys.argv[1:] if argv is None else argv
  return " ".join(["python -m", module] + ([shlex.join(args)] if args else []))


def compute_dtypes(parser, text):
  """The comma list `text` of --dtypes as compute dtypes of `model.COMPUTE_DTYPES`; a
  parser error naming the flag otherwise."""
  from draw_music.writer import model  # pylint: disable=g-import-not-at-top
  dtypes = text.split(",")
  if any(d not in model.COMPUTE_DTYPES for d in dtypes):
    parser.error(f"--dtypes must list some of {model.COMPUTE_DTYPES}, got {text!r}")
  return dtypes


def training_folders(parser, text):
  """The comma list `text` of --runs as paths; a parser error naming the flag for one that
  is not a training folder (no config.json)."""
  runs = [pathlib.Path(r) for r in text.split(",")]
  for run in runs:
    if not (run / "config.json").exists():
      parser.error(f"--runs: {run} is not a training folder (no config.json)")
  return runs


def section_heading(parser, text):
  """`text` of --section, checked to be a `## ` Markdown heading (a parser error otherwise)."""
  if not text.startswith("## "):
    parser.error(f"--section must be a Markdown heading starting with '## ', got {text!r}")
  return text


def timing_parser(description, section):
  """The arguments every op-timing benchmark takes: --repeats, --dtypes, --out, --section.

  `parse_timing_args` checks them.
  """
  parser = argparse.ArgumentParser(description=description)
  parser.add_argument("--repeats", type=int, default=15)
  parser.add_argument("--dtypes", default="bfloat16,float32")
  parser.add_argument("--out", default=None, help="Markdown file to write the section into")
  parser.add_argument("--section", default=section,
                      help="heading of the section written into --out")
  return parser


def parse_timing_args(parser, argv=None):
  """`(args, dtypes)` of a `timing_parser`: a parser error names a bad --repeats, --dtypes
  or --section."""
  args = parser.parse_args(argv)
  if args.repeats < 1:
    parser.error(f"--repeats must be a positive integer, got {args.repeats}")
  section_heading(parser, args.section)
  return args, compute_dtypes(parser, args.dtypes)


def section_head(section, module, argv, versions):
  """The first lines of a section: heading, command, date, machine (with `versions`, e.g.
  "TensorFlow 2.21.0") and the load average at the end, then a blank line."""
  return [section, "", f"Command: `{command_line(module, argv).strip()}`  ",
          f"Date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M UTC}  ",
          f"Machine: {machine_line()}; {versions}; load average (1 / 5 / 15 min) at the end: "
          f"{load_average()}  ", ""]


def machine_line():
  """CPU, usable cores, system and versions: one line for a benchmark's section."""
  nproc = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
  return (f"{cpu_model()}, nproc = {nproc}; {platform.system()} {platform.release()}; "
          f"Python {platform.python_version()}, numpy {np.__version__}")


def write_section(path, lines):
  """Writes `lines` (its first line is the `## ` title) as that section of Markdown `path`.

  The section replaces the one with the same title, up to the next `## ` title; other
  sections are kept. A missing file is created with a "# Benchmarks" header. The file is
  replaced atomically.
  """
  path = pathlib.Path(path)
  lines = list(lines)
  while lines and not lines[-1].strip():  # one blank line between sections, added below
    lines.pop()
  title = lines[0].rstrip()
  text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
  old = text.splitlines()
  if title in old:
    start = old.index(title)
    end = next((i for i in range(start + 1, len(old)) if old[i].startswith("## ")), len(old))
    new = old[:start] + lines + ([""] if end < len(old) else []) + old[end:]
  else:
    new = old + ([""] if old and old[-1] else []) + lines
  tmp = path.with_name(path.name + f".tmp{os.getpid()}")
  tmp.write_text("\n".join(new).rstrip("\n") + "\n", encoding="utf-8")
  os.replace(tmp, path)


def median_time(fn, runs, warm_up=True):
  """Calls `fn` `runs` times (after `warm_up` untimed calls: True is one, False none).

  Returns:
    `(median seconds, [seconds of each run])`.
  """
  for _ in range(int(warm_up)):
    fn()
  times = []
  for _ in range(runs):
    start = time.perf_counter()
    fn()
    times.append(time.perf_counter() - start)
  return float(np.median(times)), times


def interleaved_medians(functions, repeats, warmup=3):
  """Median ms of each callable in `functions` (a dict), calls alternating between them.

  Returns:
    `({key: median ms}, {key: [seconds of each call]})`.
  """
  for fn in functions.values():
    for _ in range(warmup):
      fn()
  times = {key: [] for key in functions}
  for _ in range(repeats):
    for key, fn in functions.items():
      start = time.perf_counter()
      fn()
      times[key].append(time.perf_counter() - start)
  return {key: 1000.0 * float(np.median(v)) for key, v in times.items()}, times
