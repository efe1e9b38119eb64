"""A chat's own parameters: the sampling overrides, context length and stop strings a chat
(or a preset) may set, checked against their declarations, and stop strings as text."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from app.errors import HearthError
from app.settings import declaration

# The parameters a chat may set for itself: sampling overrides and the context length,
# plus its stop strings. Anything else a chat's params hold is kept as it is.
SAMPLING_SETTINGS: tuple[str, ...] = (
    "temperature", "top_p", "top_k", "min_p", "repeat_penalty", "seed", "max_tokens",
)  # fmt: skip
OVERRIDE_SETTINGS: tuple[str, ...] = (*SAMPLING_SETTINGS, "context_length")
STOP_KEY = "stop"


def chat_params(
    existing: Mapping[str, Any], overrides: Mapping[str, object], stop: Sequence[str]
) -> dict[str, Any]:
    """A chat's new params: ``overrides`` (each checked against its declaration) and
    ``stop`` replace the old ones; keys that are neither are kept from ``existing``."""
    params = {k: v for k, v in existing.items() if k not in (*OVERRIDE_SETTINGS, STOP_KEY)}
    for name, value in overrides.items():
        if name not in OVERRIDE_SETTINGS:
            raise HearthError(f"{name} cannot be set per chat")
        params[name] = declaration(name).parse(value)
    kept = [s for s in stop if s]
    if kept:
        params[STOP_KEY] = kept
    return params


def overrides_of(params: Mapping[str, Any]) -> dict[str, Any]:
    """The overrides among a chat's (or preset's) params, without its stop strings."""
    return {k: v for k, v in params.items() if k in OVERRIDE_SETTINGS}


def stop_strings_of(params: Mapping[str, Any]) -> list[str]:
    """The stop strings among a chat's (or preset's) params (none when they are not a list)."""
    stop = params.get(STOP_KEY) or []
    return [str(s) for s in stop] if isinstance(stop, list) else []


def stop_strings_to_text(stop: Iterable[str]) -> str:
    """Stop strings one per line, with newlines and tabs written as \\n and \\t."""
    escaped = (s.replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t") for s in stop)
    return "\n".join(escaped)


def stop_strings_from_text(text: str) -> list[str]:
    """The reverse of ``stop_strings_to_text``; blank lines are ignored."""
    out: list[str] = []
    for line in text.splitlines():
        if not line:
            continue
        decoded: list[str] = []
        chars = iter(line)
        for ch in chars:
            if ch != "\\":
                decoded.append(ch)
                continue
            nxt = next(chars, "")
            decoded.append({"n": "\n", "t": "\t", "\\": "\\"}.get(nxt, "\\" + nxt))
        out.append("".join(decoded))
    return out
