"""draw-music: the Deep Recurrent Music Writer and its objective measure.

Subpackages, one per stage: `corpora` (MIDI <-> piano roll, folders of MIDI files, the
bundled corpora), `metric` (the signature and the paper's measure, of pieces and of sets),
`writer` (the DRAW model, its training, generation), `paper` (the library code of the
paper's figures and tables), `listening` (audio and a page per run). Shared by every stage:
`cli` (what every command line shares), `results` (writing an experiment's numbers),
`plotting` (every figure). `corpus`, `evaluate`, `features`, `generate`, `interpolate`,
`measure` and `render` here are aliases of the moved modules, so that older imports and
`python -m draw_music.X` command lines keep working.
"""

__version__ = "0.1.0"
