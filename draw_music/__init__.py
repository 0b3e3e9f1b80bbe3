"""draw-music: the Deep Recurrent Music Writer and its objective measure.

Modules, one per stage: `midi_io` (MIDI <-> piano roll), `corpus` (folders of MIDI files,
cache, chunks), `bundled` (the default corpora from music21), `features` (the 17-feature
signature), `measure` (Mahalanobis distance to a reference), `plotting` (every figure).
"""

__version__ = "0.1.0"
