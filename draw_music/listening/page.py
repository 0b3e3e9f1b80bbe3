"""A static page per run: `index.html` to look at and listen to every piece a run wrote.

The page (one file, inline CSS, no script, no server, no CDN; it opens from the file
system) shows, from top to bottom:
- the run's title, its verdicts (one line each: the summary of the distances, the t-test,
  the set-level verdict, whatever the caller passes) and its config (a key/value table);
- the distance histogram (a PNG the run drew), when there is one;
- one row per piece: its piano roll (PNG), an audio player (WAV), a link to its MIDI file,
  its distance and Table II category; sorted by distance, smallest first (the pieces most
  like the corpus on top, the least at the bottom; pieces without a distance last, in the
  order given).
Every link is relative to the page's folder (`os.path.relpath`, URL-quoted), so the folder
can be moved or copied whole. A piece without a PNG or a WAV (no synthesizer: see
`draw_music.listening.audio`) gets a short note in that cell instead.
"""

from __future__ import annotations

import dataclasses
import html
import json
import os
import pathlib
import urllib.parse

PAGE_NAME = "index.html"

_CSS = """
body { font-family: sans-serif; margin: 1.5em; color: #222; background: #fff; }
h1 { font-size: 1.4em; margin: 0 0 0.4em 0; }
ul.verdicts { margin: 0.3em 0 0.8em 0; padding-left: 1.2em; }
div.top { display: flex; gap: 1.5em; align-items: flex-start; margin-bottom: 1em; }
div.config { column-count: 2; column-gap: 1.5em; font-size: 0.75em; min-width: 28em; }
div.config div { break-inside: avoid; overflow-wrap: anywhere; }
div.config span { color: #666; }
img.histogram { max-width: 520px; display: block; }
table.pieces { border-collapse: collapse; }
table.pieces th, table.pieces td { border-bottom: 1px solid #ddd; padding: 4px 8px;
  text-align: left; vertical-align: middle; }
table.pieces img { height: 120px; display: block; }
td.num { font-variant-numeric: tabular-nums; }
.missing { color: #888; font-size: 0.85em; }
"""


@dataclasses.dataclass(frozen=True)
class PieceRow:
  """One piece on the page. Paths may be absolute or relative to the working folder.

  Attributes:
    name: the piece's name (shown).
    midi: path of its MIDI file.
    png: path of its piano-roll picture, or None.
    wav: path of its audio, or None.
    distance: its distance to the corpus, or None.
    category: its Table II category, or None.
  """
  name: str
  midi: str
  png: str | None = None
  wav: str | None = None
  distance: float | None = None
  category: str | None = None


def rows_for(midi_paths, distances=None, categories=None):
  """`PieceRow`s for MIDI files, with the `X.png` and `X.wav` beside each `X.mid` when they
  exist, and the given `[n]` distances and categories (or None)."""
  rows = []
  for i, midi in enumerate(midi_paths):
    midi = pathlib.Path(midi)
    png, wav = midi.with_suffix(".png"), midi.with_suffix(".wav")
    rows.append(PieceRow(
        name=midi.stem, midi=str(midi), png=str(png) if png.exists() else None,
        wav=str(wav) if wav.exists() else None,
        distance=None if distances is None else float(distances[i]),
        category=None if categories is None else str(categories[i])))
  return rows


def _link(path, out_dir):
  rel = os.path.relpath(os.path.abspath(path), os.path.abspath(out_dir))
  return html.escape(urllib.parse.quote(pathlib.PurePath(rel).as_posix()), quote=True)


def _config_rows(config, prefix=""):
  """Flattened `(key, value)` pairs of a nested dict, keys joined with dots."""
  out = []
  for key, value in (config or {}).items():
    name = f"{prefix}{key}"
    if isinstance(value, dict):
      out.extend(_config_rows(value, name + "."))
    else:
      out.append((name, value if isinstance(value, str) else json.dumps(value, default=str)))
  return out


def sort_rows(rows):
  """Rows by distance, smallest first; rows without a distance last, in their order."""
  with_d = sorted((r for r in rows if r.distance is not None), key=lambda r: r.distance)
  return with_d + [r for r in rows if r.distance is None]


def render_page(out_dir, title, rows, verdicts=(), config=None, histogram=None, note=None):
  """The page's HTML text (see the module docstring); links relative to `out_dir`."""
  e = html.escape
  parts = ["<!DOCTYPE html>", "<html lang=\"en\"><head><meta charset=\"utf-8\">",
           f"<title>{e(title)}</title><style>{_CSS}</style></head><body>",
           f"<h1>{e(title)}</h1>"]
  if verdicts:
    parts.append("<ul class=\"verdicts\">" + "".join(f"<li>{e(v)}</li>" for v in verdicts)
                 + "</ul>")
  if note:
    parts.append(f"<p class=\"missing\">{e(note)}</p>")
  parts.append("<div class=\"top\">")
  if config:
    parts.append("<div class=\"config\">" + "".join(
        f"<div><span>{e(k)}</span> {e(str(v))}</div>" for k, v in _config_rows(config))
                 + "</div>")
  if histogram:
    parts.append(f"<img class=\"histogram\" src=\"{_link(histogram, out_dir)}\" "
                 "alt=\"distance histogram\">")
  parts.append("</div>")
  parts.append("<table class=\"pieces\"><thead><tr><th>#</th><th>piece</th><th>piano roll"
               "</th><th>listen</th><th>distance</th><th>category</th></tr></thead><tbody>")
  for rank, row in enumerate(sort_rows(rows), 1):
    png = (f"<img src=\"{_link(row.png, out_dir)}\" alt=\"piano roll of {e(row.name)}\">"
           if row.png else "<span class=\"missing\">no picture</span>")
    wav = (f"<audio controls preload=\"none\" src=\"{_link(row.wav, out_dir)}\"></audio>"
           if row.wav else "<span class=\"missing\">no audio</span>")
    dist = "" if row.distance is None else f"{row.distance:.2f}"
    parts.append(
        f"<tr class=\"piece\"><td class=\"num\">{rank}</td>"
        f"<td><a href=\"{_link(row.midi, out_dir)}\">{e(row.name)}</a></td>"
        f"<td>{png}</td><td>{wav}</td><td class=\"num\">{dist}</td>"
        f"<td>{e(row.category or '')}</td></tr>")
  parts.append("</tbody></table></body></html>")
  return "\n".join(parts) + "\n"


def write_page(out_dir, title, rows, verdicts=(), config=None, histogram=None, note=None):
  """Writes `out_dir/index.html` (`render_page`); returns its path."""
  out_dir = pathlib.Path(out_dir)
  out_dir.mkdir(parents=True, exist_ok=True)
  path = out_dir / PAGE_NAME
  path.write_text(render_page(out_dir, title, rows, verdicts, config, histogram, note),
                  encoding="utf-8")
  return str(path)


def publish(out_dir, midi_paths, title, distances=None, categories=None, verdicts=(),
            config=None, histogram=None, with_audio=True, log=print):
  """Renders each MIDI file's WAV beside it (when `with_audio` and a synthesizer loads),
  then writes the run's page; returns the page's path.

  Without a synthesizer, `log` gets the reason once, the page says so, and the rows have no
  player: everything else is written as usual.
  """
  from draw_music.listening import audio  # pylint: disable=g-import-not-at-top
  note = None
  if with_audio:
    ok, why = audio.audio_or_reason()
    if ok:
      audio.render_files(midi_paths)
    else:
      note = f"audio skipped: {why}"
      log(note)
  return write_page(out_dir, title, rows_for(midi_paths, distances, categories), verdicts,
                    config, histogram, note)


def evaluation_page(result, out_dir, with_audio=True, log=print):
  """The page of an `evaluate.evaluate_paths` result: writes under `out_dir` a piano roll
  and a WAV per piece (`pieces/<i>_<name>.png` / `.wav`, numbered by input order, as pieces
  may share a name), the histogram of their distances, and `index.html`; the MIDI links
  point at the scored files where they are. Returns the page's path."""
  from draw_music import plotting  # pylint: disable=g-import-not-at-top
  from draw_music.corpora import midi_io  # pylint: disable=g-import-not-at-top
  from draw_music.listening import audio  # pylint: disable=g-import-not-at-top
  from draw_music.metric import evaluate  # pylint: disable=g-import-not-at-top
  out_dir = pathlib.Path(out_dir)
  (out_dir / "pieces").mkdir(parents=True, exist_ok=True)
  note = None
  if with_audio:
    ok, why = audio.audio_or_reason()
    if not ok:
      with_audio, note = False, f"audio skipped: {why}"
      log(note)
  rows = []
  for i, piece in enumerate(result["pieces"]):
    midi = pathlib.Path(piece["file"])
    stem = out_dir / "pieces" / f"{i:03d}_{midi.stem}"
    fig = plotting.plot_piano_roll(midi_io.read_midi(midi), f"{stem}.png", title=midi.stem)
    plotting.plt.close(fig)
    wav = audio.midi_to_wav(midi, f"{stem}.wav") if with_audio else None
    rows.append(PieceRow(midi.stem, str(midi), f"{stem}.png", wav, piece["distance"],
                         piece["category"]))
  distances = [p["distance"] for p in result["pieces"]]
  histogram = out_dir / "distance_histogram.png"
  fig = plotting.plot_distance_histograms({"pieces": distances}, histogram,
                                          title=f"{len(distances)} pieces against "
                                                f"{result['reference']['folder']}")
  plotting.plt.close(fig)
  lines = evaluate.format_report(result).splitlines()
  verdicts = [line.strip() for line in lines if line.strip() and (
      " pieces: distance " in line or line.strip().startswith(("verdict:", "set level:")))]
  return write_page(out_dir, f"{len(rows)} pieces scored against "
                    f"{result['reference']['folder']}", rows, verdicts,
                    result["reference"] | {"summary": result["summary"]}, histogram, note)
