"""Stage 1, MIDI and corpora: the piano rolls that every later stage reads.

`midi_io` reads and writes MIDI files as boolean piano rolls `[time, 128]`; `corpus` loads
every MIDI file under a folder as rolls (cached) and cuts them into chunks; `bundled`
converts the corpora that ship inside `music21` to MIDI folders once, for `corpus` to load.
"""
