"""Hearth's core: everything the app does, without a screen (no Qt widgets here)."""

import os as _os

# NumPy's BLAS threads keep spinning after each product and then share the cores with
# llama.cpp's; vector search is one small product per question, so one thread is enough.
# (Must be set before NumPy is first imported.)
for _name in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    _os.environ.setdefault(_name, "1")

__version__ = "0.1.0"
