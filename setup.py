"""The one thing pyproject.toml cannot say: the top-level themes/ folder (the built-in themes'
single home, as the design card lays it out) ships in the wheel as maestro_tui/themes/."""

from setuptools import find_namespace_packages, setup

setup(
    packages=[
        *find_namespace_packages(include=["maestro_tui*"], exclude=["*.__pycache__"]),
        "maestro_tui.themes",
    ],
    package_dir={"maestro_tui.themes": "themes"},
)
