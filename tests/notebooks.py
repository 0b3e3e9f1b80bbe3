"""Runs a notebook of notebooks/ with nbclient, pointed at an experiment's output folder."""

import os
import pathlib

import nbclient
import nbformat

NOTEBOOKS = pathlib.Path(__file__).resolve().parents[1] / "notebooks"


def run_notebook(name, out_dir, timeout=300):
  """Executes `notebooks/<name>` with `DRAW_MUSIC_OUT_DIR=out_dir`; raises if a cell fails."""
  nb = nbformat.read(NOTEBOOKS / name, as_version=4)
  old = os.environ.get("DRAW_MUSIC_OUT_DIR")
  os.environ["DRAW_MUSIC_OUT_DIR"] = str(out_dir)
  try:
    nbclient.NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
  finally:
    if old is None:
      del os.environ["DRAW_MUSIC_OUT_DIR"]
    else:
      os.environ["DRAW_MUSIC_OUT_DIR"] = old
  return nb
