"""Package list for setuptools; every other setting is in pyproject.toml.

The repository keeps the actions in the top-level `actions/` folder; they install as
`watcher.actions`, because a top-level `actions` package would clash with the PyPI project of
that name in one environment.
"""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["watcher", "watcher.*"]), "watcher.actions"],
    package_dir={"watcher.actions": "actions"},
)
