"""What every `python -m` command line shares: a quiet start-up and one-line errors.

Quiet start-up (`quiet_startup`, called before TensorFlow is imported). TensorFlow prints
start-up lines of its own (oneDNN notices, "Could not find cuda drivers", "failed call to
cuInit", CPU instruction notices) before a command's first line. By default they are
silenced: `TF_CPP_MIN_LOG_LEVEL=3` for what TensorFlow logs once it runs, TensorFlow's
Python logger at ERROR, and, while `import tensorflow` runs, the process's stderr (file
descriptor 2) sent to /dev/null, since the import-time lines are written before
TensorFlow reads `TF_CPP_MIN_LOG_LEVEL` (tensorflow/tensorflow#100442). A Python error
raised by the import itself is still shown (stderr is restored before it propagates).
Nothing is silenced when the command line has `--verbose`, or when the user has set
`TF_CPP_MIN_LOG_LEVEL` (then TensorFlow's own rules apply).

One-line errors: a bad flag or path ends a command with `error: ...` on stderr (one line,
naming the flag or file and what is wrong) and exit status 2 (`fail`).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.abc
import importlib.machinery
import logging
import os
import sys

USAGE_ERROR = 2  # exit status of a command given a bad flag or path


def wants_verbose(argv):
  """True when `argv` turns on `--verbose` (absl and argparse spellings)."""
  verbose = False
  for arg in argv[1:]:
    if arg in ("--verbose", "--verbose=true", "--verbose=True", "--verbose=1"):
      verbose = True
    elif arg in ("--noverbose", "--verbose=false", "--verbose=False", "--verbose=0"):
      verbose = False
  return verbose


@contextlib.contextmanager
def _stderr_fd_silenced():
  """Sends file descriptor 2 (what C++ libraries write to) to /dev/null, then restores it."""
  sys.stderr.flush()
  saved = os.dup(2)
  devnull = os.open(os.devnull, os.O_WRONLY)
  try:
    os.dup2(devnull, 2)
    yield
  finally:
    sys.stderr.flush()
    os.dup2(saved, 2)
    os.close(saved)
    os.close(devnull)


class _QuietImport(importlib.abc.MetaPathFinder):
  """Runs the first `import tensorflow` with stderr silenced, wherever it happens."""

  def find_spec(self, fullname, path, target=None):
    del target
    if fullname != "tensorflow":
      return None
    sys.meta_path.remove(self)
    spec = importlib.machinery.PathFinder.find_spec(fullname, path)
    if spec is None or spec.loader is None:
      return spec
    exec_module = spec.loader.exec_module

    def quiet_exec_module(module):
      with _stderr_fd_silenced():
        exec_module(module)
      logging.getLogger("tensorflow").setLevel(logging.ERROR)

    spec.loader.exec_module = quiet_exec_module
    return spec


def quiet_startup(argv=None):
  """Silences TensorFlow's start-up lines (see the module docstring); call it first.

  Args:
    argv: the command line (default `sys.argv`); `--verbose` in it leaves everything on.

  Returns:
    True when the start-up was silenced.
  """
  argv = sys.argv if argv is None else argv
  if wants_verbose(argv) or "TF_CPP_MIN_LOG_LEVEL" in os.environ:
    return False
  os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
  if "tensorflow" in sys.modules:  # too late for the import-time lines
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
  elif not any(isinstance(f, _QuietImport) for f in sys.meta_path):
    sys.meta_path.insert(0, _QuietImport())
  return True


def fail(message):
  """Prints `error: message` (one line) to stderr; returns the exit status, 2."""
  print(f"error: {' '.join(str(message).split())}", file=sys.stderr, flush=True)
  return USAGE_ERROR


class ArgumentParser(argparse.ArgumentParser):
  """`argparse.ArgumentParser` whose errors are one line (`fail`), without the usage text."""

  def error(self, message):
    sys.exit(fail(f"{message} (--help lists the flags)"))
