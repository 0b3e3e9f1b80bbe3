"""Stage 5, listening: audio and a page per run, to hear and see what a run wrote.

`audio` synthesises piano rolls and MIDI files to WAV with a SoundFont; `render` is its
command line (`python -m draw_music.listening.render`); `page` writes the static
`index.html` that shows and plays every piece a run wrote.
"""
