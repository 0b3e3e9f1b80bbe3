"""Writing an experiment's numbers: CSV and JSON files that say how they were made.

Every experiment writes its numbers under `--out_dir` with `write_json` / `write_csv`, and
its JSON carries `run_info(...)`: the command line, the config and seed, the date, the
package versions and the git commit, so that a result can be traced and run again.
"""

from __future__ import annotations

import csv
import datetime
import json
import os
import pathlib
import platform
import subprocess
import sys

import numpy as np


def _git_commit():
  try:
    here = pathlib.Path(__file__).resolve().parent
    out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True,
                         text=True, timeout=5, check=False)
    commit = out.stdout.strip() or None
    if commit:
      dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                             cwd=here, capture_output=True, text=True, timeout=5,
                             check=False).stdout.strip()
      commit += " (with uncommitted changes)" if dirty else ""
    return commit
  except (OSError, subprocess.SubprocessError):
    return None


def run_info(config, seed):
  """What a result needs to be traced and redone: config, seed, command, versions, commit."""
  import importlib.metadata as md  # pylint: disable=g-import-not-at-top
  versions = {}
  for name in ("numpy", "scipy", "mido", "tensorflow", "keras", "music21"):
    try:
      versions[name] = md.version(name)
    except md.PackageNotFoundError:
      pass
  return {
      "command": " ".join([os.path.basename(sys.executable), "-m",
                           _main_module()] + sys.argv[1:]),
      "config": config,
      "seed": seed,
      "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
      "git_commit": _git_commit(),
      "python": platform.python_version(),
      "versions": versions,
      "machine": f"{platform.machine()}, {os.cpu_count()} cores",
  }


def _main_module():
  main = sys.modules.get("__main__")
  spec = getattr(main, "__spec__", None)
  return spec.name if spec is not None else os.path.basename(sys.argv[0])


def _jsonable(value):
  if isinstance(value, dict):
    return {str(k): _jsonable(v) for k, v in value.items()}
  if isinstance(value, (list, tuple)):
    return [_jsonable(v) for v in value]
  if isinstance(value, np.ndarray):
    return _jsonable(value.tolist())
  if isinstance(value, np.generic):
    return value.item()
  if isinstance(value, pathlib.PurePath):
    return str(value)
  return value


def write_json(path, data):
  """Writes `data` (dicts, lists, numpy values) as indented JSON; returns the path."""
  path = pathlib.Path(path)
  path.parent.mkdir(parents=True, exist_ok=True)
  path.write_text(json.dumps(_jsonable(data), indent=1, allow_nan=False) + "\n")
  return path


def write_csv(path, rows, fieldnames=None):
  """Writes a list of dicts as CSV (columns: `fieldnames` or the first row's keys)."""
  path = pathlib.Path(path)
  path.parent.mkdir(parents=True, exist_ok=True)
  rows = list(rows)
  fieldnames = fieldnames or (list(rows[0]) if rows else [])
  with open(path, "w", newline="") as f:
    writer = csv.DictWriter(f, fieldnames=fieldnames)
    writer.writeheader()
    for row in rows:
      writer.writerow({k: _jsonable(v) for k, v in row.items()})
  return path


def read_csv(path):
  """Rows of a CSV written by `write_csv`, as dicts of strings."""
  with open(path, newline="") as f:
    return list(csv.DictReader(f))
