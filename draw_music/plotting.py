"""Every figure the project draws, one function each (STYLE.md habit 10).

Experiments, notebooks and the README all call these, so they show the same picture. Each
function takes plain arrays or dicts (what the experiments write to CSV/JSON), returns the
matplotlib `Figure`, and saves it as PNG when given `path`. Nothing here computes a result.
"""

from __future__ import annotations

import os

import matplotlib

matplotlib.use("Agg")  # headless: files only; notebooks still display the returned Figure
import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
import numpy as np

from draw_music import measure

# One colour per set, in the paper's Fig. 1 order; further sets cycle through the tab10 map.
SET_COLOURS = ("tab:blue", "tab:green", "tab:orange", "tab:purple", "tab:red", "tab:brown",
               "tab:pink", "tab:gray")


def _save(fig, path):
  if path:
    os.makedirs(os.path.dirname(os.fspath(path)) or ".", exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight")
  return fig


def plot_distance_histograms(distances, path=None, title=None, xmax=None, bins=60,
                             show_categories=True):
  """Overlaid histograms of Mahalanobis distances, one per set (the paper's Fig. 1 / Fig. 4).

  Args:
    distances: dict `name -> [n]` distances, drawn in the dict's order.
    path: PNG to write (optional).
    title: figure title.
    xmax: right end of the x axis; default: the 99th percentile of all distances, at least 12.
    bins: number of bins over `[0, xmax]`; larger distances go into the last bin.
    show_categories: shade the Table II category bounds (4.5, 7, 10).

  Returns:
    The matplotlib Figure.
  """
  values = [np.asarray(v, np.float64) for v in distances.values()]
  every = np.concatenate(values) if values else np.zeros(1)
  if xmax is None:
    xmax = max(12.0, float(np.percentile(every, 99)) * 1.05)
  edges = np.linspace(0.0, xmax, bins + 1)
  fig, ax = plt.subplots(figsize=(8, 4.5))
  for i, (name, v) in enumerate(zip(distances, values)):
    colour = SET_COLOURS[i % len(SET_COLOURS)]
    clipped = np.minimum(v, xmax - 1e-9)
    ax.hist(clipped, bins=edges, density=True, alpha=0.45, color=colour,
            label=f"{name} (median {np.median(v):.2f})")
    ax.axvline(np.median(v), color=colour, lw=1.2, ls="--")
  if show_categories:
    for bound in measure.CATEGORY_BOUNDS:
      ax.axvline(bound, color="k", lw=0.6, ls=":")
  ax.set_xlim(0, xmax)
  ax.set_xlabel("Mahalanobis distance to the reference")
  ax.set_ylabel("density")
  ax.set_title(title or "Distances to the reference corpus")
  ax.legend(fontsize=8)
  fig.tight_layout()
  return _save(fig, path)


def plot_piano_roll(roll, path=None, title=None, steps_per_beat=8):
  """A piano roll as a picture: time to the right, pitch upwards, beats marked.

  Args:
    roll: `[time, 128]` array (bool or probabilities in [0, 1]).
    path: PNG to write (optional).
    title: figure title.
    steps_per_beat: for the beat grid on the time axis.
  """
  roll = np.asarray(roll, np.float32)
  active = np.nonzero(roll.any(axis=0))[0]
  low, high = (int(active.min()), int(active.max())) if active.size else (48, 84)
  low, high = max(0, low - 3), min(127, high + 3)
  fig, ax = plt.subplots(figsize=(max(4.0, roll.shape[0] / 16), 3.5))
  ax.imshow(roll[:, low:high + 1].T, origin="lower", aspect="auto", cmap="Greys",
            vmin=0, vmax=1, extent=(0, roll.shape[0], low - 0.5, high + 0.5),
            interpolation="nearest")
  for beat in range(0, roll.shape[0] + 1, steps_per_beat):
    ax.axvline(beat, color="tab:blue", lw=0.3, alpha=0.5)
  ax.set_xlabel(f"step (1/{steps_per_beat} beat)")
  ax.set_ylabel("MIDI pitch")
  if title:
    ax.set_title(title)
  fig.tight_layout()
  return _save(fig, path)
