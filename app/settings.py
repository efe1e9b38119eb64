"""Every user setting declared once: name, type, default, bounds and help.

The store validates writes against these declarations, the CLI lists and
parses them, and the settings dialog builds its fields from them.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass
from typing import Literal

from app.errors import SettingError

SettingValue = bool | int | float | str
Kind = Literal["bool", "int", "float", "str", "path", "choice"]

_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


@dataclass(frozen=True)
class Setting:
    """One setting's declaration."""

    name: str
    kind: Kind
    default: SettingValue
    label: str
    help: str
    group: str
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()

    def describe(self) -> str:
        """What values are accepted, in words (used in error messages and help)."""
        if self.kind == "bool":
            return "true or false"
        if self.kind == "choice":
            return "one of " + ", ".join(self.choices)
        if self.kind == "path":
            return "a folder path"
        if self.kind == "str":
            return "text"
        noun = "a whole number" if self.kind == "int" else "a number"
        lo, hi = self.minimum, self.maximum
        if lo is not None and hi is not None:
            return f"{noun} from {_fmt(lo)} to {_fmt(hi)}"
        if lo is not None:
            return f"{noun} of at least {_fmt(lo)}"
        return noun

    def parse(self, value: object) -> SettingValue:
        """Turn a typed value or a command-line string into this setting's type, or refuse."""
        try:
            parsed = self._coerce(value)
        except (TypeError, ValueError):
            raise SettingError(f"{self.name} must be {self.describe()} (got {value!r})") from None
        out_of_bounds = (
            isinstance(parsed, int | float)
            and not isinstance(parsed, bool)
            and (
                (self.minimum is not None and parsed < self.minimum)
                or (self.maximum is not None and parsed > self.maximum)
            )
        )
        if out_of_bounds or (self.kind == "choice" and parsed not in self.choices):
            raise SettingError(f"{self.name} must be {self.describe()} (got {value!r})")
        return parsed

    def _coerce(self, value: object) -> SettingValue:
        if self.kind == "bool":
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
                return value.strip().lower() in _TRUE
            raise ValueError(value)
        if self.kind == "int":
            if isinstance(value, bool):
                raise TypeError(value)
            if isinstance(value, int):
                return value
            if isinstance(value, float) and value.is_integer():
                return int(value)
            if isinstance(value, str):
                return int(value.strip())
            raise TypeError(value)
        if self.kind == "float":
            if isinstance(value, bool):
                raise TypeError(value)
            if isinstance(value, int | float | str):
                number = float(value)
                if not math.isfinite(number):
                    raise ValueError(value)
                return number
            raise TypeError(value)
        if not isinstance(value, str):
            raise TypeError(value)
        text = value.strip()
        if self.kind == "path" and not text:
            raise ValueError(value)
        if "\x00" in text:
            raise ValueError(value)
        return text


def _fmt(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)


SETTINGS: tuple[Setting, ...] = (
    # --- Performance
    Setting(
        "threads", "int", 0, "CPU threads",
        "Threads llama.cpp uses for generation. 0 means one per physical core.",
        "Performance", minimum=0, maximum=512,
    ),
    Setting(
        "gpu_layers", "int", -1, "GPU layers",
        "Model layers offloaded to the GPU. -1 means all of them when llama.cpp has a "
        "GPU backend, none otherwise; 0 keeps everything on the CPU.",
        "Performance", minimum=-1, maximum=1000,
    ),
    Setting(
        "context_length", "int", 4096, "Context length",
        "Tokens the model can see at once (prompt plus answer). Longer uses more memory.",
        "Performance", minimum=256, maximum=1_048_576,
    ),
    Setting(
        "idle_unload_minutes", "int", 30, "Unload idle model after (minutes)",
        "Free the model's memory after this many minutes without use. 0 keeps it loaded.",
        "Performance", minimum=0, maximum=10_080,
    ),
    Setting(
        "kv_cache_disk_mb", "int", 2048, "Saved chat state on disk (MB)",
        "The model's state of recent chats, kept on disk so a chat reopened after a restart "
        "answers without reading its whole history again. The least recently used go first; "
        "0 turns it off.",
        "Performance", minimum=0, maximum=1_000_000,
    ),
    # --- Sampling defaults (each chat can override them)
    Setting(
        "temperature", "float", 0.8, "Temperature",
        "Randomness of the answer: 0 always picks the likeliest token.",
        "Sampling", minimum=0.0, maximum=5.0,
    ),
    Setting(
        "top_p", "float", 0.95, "Top-p",
        "Sample only from the smallest set of tokens whose probabilities add up to this.",
        "Sampling", minimum=0.0, maximum=1.0,
    ),
    Setting(
        "top_k", "int", 40, "Top-k",
        "Sample only from this many likeliest tokens. 0 turns the limit off.",
        "Sampling", minimum=0, maximum=100_000,
    ),
    Setting(
        "min_p", "float", 0.05, "Min-p",
        "Drop tokens less likely than this fraction of the likeliest one.",
        "Sampling", minimum=0.0, maximum=1.0,
    ),
    Setting(
        "repeat_penalty", "float", 1.1, "Repeat penalty",
        "Discourage repeating recent tokens. 1 turns it off.",
        "Sampling", minimum=0.5, maximum=2.5,
    ),
    Setting(
        "seed", "int", -1, "Seed",
        "Random seed for sampling; -1 picks a new one each time.",
        "Sampling", minimum=-1, maximum=2**32 - 1,
    ),
    Setting(
        "max_tokens", "int", 2048, "Maximum answer length",
        "Stop an answer after this many tokens.",
        "Sampling", minimum=1, maximum=1_048_576,
    ),
    # --- Models
    Setting(
        "models_dir", "path", "models", "Models folder",
        "Where downloaded and imported models are kept. A relative path is inside "
        "the data folder.",
        "Models",
    ),
    Setting(
        "starter_model", "bool", True, "Add the starter model",
        "Give a new library the tiny Gemma 3 270M model Hearth ships, so a chat works at "
        "once with no download. Turned off when you remove it from the library.",
        "Models",
    ),
    Setting(
        "reload_last_model", "bool", True, "Load the last model at start",
        "When Hearth starts, load the chat model you used last, so you can chat at once. "
        "Off: the model loads when you first press Send.",
        "Models",
    ),
    Setting(
        "offline", "bool", False, "Offline mode",
        "Never touch the network: no hub search, no downloads. Local models keep working.",
        "Models",
    ),
    # --- Documents
    Setting(
        "embedding_model", "str", "", "Embedding model",
        "A GGUF embedding model from your library (its name or path), such as nomic-embed-text "
        "or bge. With one, documents are also searched by meaning; without one, by keywords.",
        "Documents",
    ),
    Setting(
        "reranker_model", "str", "", "Reranker",
        "A GGUF reranker from your library (its name or path), such as jina-reranker or "
        "bge-reranker. With one, the passages found are read again with the question and "
        "the best put first; without one, search order is kept.",
        "Documents",
    ),
    Setting(
        "document_max_mb", "int", 200, "Largest document (MB)",
        "Files bigger than this are refused when added to a chat.",
        "Documents", minimum=1, maximum=10_000,
    ),
    Setting(
        "document_passages", "int", 6, "Passages per answer",
        "How many passages from your documents are given to the model with each question.",
        "Documents", minimum=1, maximum=50,
    ),
    Setting(
        "document_whole_percent", "int", 50, "Give whole documents up to (% of context)",
        "Documents that fit in this share of the context are given to the model whole "
        "instead of searched. 0 always searches.",
        "Documents", minimum=0, maximum=90,
    ),
    # --- API (the desktop's own server; `hearth serve` takes its options on the command line)
    Setting(
        "api_server", "bool", False, "Serve the API",
        "Let programs on this computer use the model loaded in Hearth through OpenAI- and "
        "Anthropic-style APIs at http://127.0.0.1:PORT/v1, while Hearth runs. Only this "
        "computer can connect.",
        "API",
    ),
    Setting(
        "api_port", "int", 8766, "API port",
        "The port the API listens on (on 127.0.0.1). `hearth serve` uses 8765, so both can "
        "run. 0 picks a free port each time.",
        "API", minimum=0, maximum=65_535,
    ),
    Setting(
        "api_cors_origins", "str", "", "Web pages allowed to call the API",
        "Origins (such as http://localhost:3000), separated by spaces or commas, whose pages "
        "may call the API from a browser. Empty: none.",
        "API",
    ),
    # --- Appearance
    Setting(
        "theme", "choice", "system", "Theme",
        "Light or dark colours, or follow the system.",
        "Appearance", choices=("system", "light", "dark"),
    ),
)  # fmt: skip

BY_NAME: dict[str, Setting] = {setting.name: setting for setting in SETTINGS}


def declaration(name: str) -> Setting:
    """The declaration of setting ``name``, or an error that suggests the closest name."""
    try:
        return BY_NAME[name]
    except KeyError:
        close = difflib.get_close_matches(name, list(BY_NAME), n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise SettingError(f"There is no setting called {name!r}{hint}") from None


def validate(name: str, value: object) -> SettingValue:
    """The parsed, checked value for ``name``; raises SettingError with the reason otherwise."""
    return declaration(name).parse(value)
