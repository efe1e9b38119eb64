"""sqlite-utils, imported without NumPy.

sqlite-utils imports NumPy when it is installed, only to map NumPy scalar types to
column types when a table is created from values. Hearth declares its columns in its
migrations and stores no NumPy values, and NumPy is about a third of every ``hearth``
command's start-up (0.1-0.3 s). So, unless NumPy is already loaded, sqlite-utils is
imported while NumPy reads as absent; NumPy itself imports normally afterwards.
"""

from __future__ import annotations

import sys

if "sqlite_utils" not in sys.modules and "numpy" not in sys.modules:
    sys.modules["numpy"] = None  # type: ignore[assignment]  # makes `import numpy` fail
    try:
        import sqlite_utils  # noqa: F401
    finally:
        del sys.modules["numpy"]
