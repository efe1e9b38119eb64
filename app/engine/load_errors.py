"""Why llama.cpp refused a model, in words a user can act on: its logged reasons
(unknown architecture, unreadable vocabulary, missing weights, no memory) turned into
one sentence that says what to do."""

from __future__ import annotations

import re
from collections.abc import Sequence

_UPDATE = "update Hearth to a version with a newer llama.cpp, or choose another model"
_REDOWNLOAD = "download it again, or choose another file of this model"

# (pattern over llama.cpp's error lines, sentence with {name} and the pattern's groups)
_REASONS: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"unknown model architecture: '([^']*)'"),
        "this version of llama.cpp does not support the architecture '{0}'; " + _UPDATE + ".",
    ),
    (
        re.compile(r"unknown pre-tokenizer type: '([^']*)'"),
        "this version of llama.cpp does not know its tokenizer ('{0}'); " + _UPDATE + ".",
    ),
    (
        re.compile(r"error loading model vocabulary: (.+)"),
        "its vocabulary (the tokenizer) could not be read ({0}). The file may have been "
        "made by a converter this version of llama.cpp does not understand; " + _UPDATE + ".",
    ),
    (
        re.compile(r"tensor '([^']*)' (?:not found|is missing)|missing tensor '([^']*)'"),
        "the file lacks part of the model (the tensor '{0}'): it is incomplete or was made "
        "for another program; " + _REDOWNLOAD + ".",
    ),
    (
        re.compile(r"tensor '([^']*)' has wrong shape"),
        "the file's weights do not match its own description (the tensor '{0}'): it is "
        "damaged or was made for another program; " + _REDOWNLOAD + ".",
    ),
    (
        re.compile(r"wrong number of tensors|not within the file bounds|corrupted or incomplete"),
        "the file is damaged or incomplete; " + _REDOWNLOAD + ".",
    ),
    (
        re.compile(r"key not found in model: (\S+)"),
        "the file lacks the setting {0} that its architecture needs: it was made by an "
        "older or different converter; " + _REDOWNLOAD + ".",
    ),
    (
        re.compile(r"(?:unable|failed|cannot) to allocate|out of memory", re.IGNORECASE),
        "there was not enough memory for it. Close other programs, lower the context "
        "length, or choose a smaller quantization.",
    ),
)
_DETAIL = re.compile(r"error loading model: (.+)")
_NOISE = re.compile(r"failed to load model$|^llama_model_load_from_file")


def explain_load_failure(name: str, logged: Sequence[str], fallback: str) -> str:
    """The message for a model llama.cpp would not load: ``name`` is the file's name,
    ``logged`` the error lines llama.cpp wrote while loading it, ``fallback`` what the
    binding said (used when llama.cpp logged no reason)."""
    lines = [line.strip() for line in logged if line.strip()]
    for pattern, sentence in _REASONS:
        for line in lines:
            match = pattern.search(line)
            if match is not None:
                groups = [g for g in match.groups() if g is not None]
                return f"llama.cpp could not load {name}: {sentence.format(*groups)}"
    for line in lines:
        detail = _DETAIL.search(line)
        if detail is not None:
            return f"llama.cpp could not load {name}: {detail.group(1).rstrip('.')}."
    reasons = [line for line in lines if not _NOISE.search(line)]
    if reasons:
        return f"llama.cpp could not load {name}: {reasons[-1].rstrip('.')}."
    return f"llama.cpp could not load {name}: {fallback}"
