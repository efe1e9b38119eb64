"""Icons and style sheets shipped with Hearth, found the same way from a checkout or a wheel."""

from importlib.resources import as_file, files
from pathlib import Path


def resource_text(name: str) -> str:
    """Text of a bundled resource such as ``styles/light.qss``."""
    return (files(__name__) / name).read_text(encoding="utf-8")


def resource_path(name: str) -> Path:
    """A filesystem path to a bundled resource (icons for Qt, which wants a path)."""
    with as_file(files(__name__) / name) as path:
        if not path.exists():
            raise FileNotFoundError(f"missing bundled resource: {name}")
        return path
