"""draw-music: Deep Recurrent Music Writer (Sabathe, Coutinho, Schuller, 2017) and its measure."""

import pathlib

from setuptools import find_packages, setup

here = pathlib.Path(__file__).parent
requirements = [line.strip() for line in (here / "requirements.txt").read_text().splitlines()
                if line.strip() and not line.startswith("#")]

setup(
    name="draw-music",
    version="0.1.0",
    description=("Deep Recurrent Music Writer (DRAW for piano rolls) and the paper's objective "
                 "measure of generated music"),
    long_description=(here / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    python_requires=">=3.11",
    packages=find_packages(include=["draw_music", "draw_music.*", "experiments",
                                    "experiments.*"]),
    install_requires=requirements,
)
