"""How model files are named: split shards and vision projectors, for the hub and the disk."""

from __future__ import annotations

import re

# "name-00001-of-00003.gguf": shard 1 of 3 (llama.cpp's gguf-split naming).
SPLIT_PATTERN = re.compile(r"-(\d{5})-of-(\d{5})\.gguf$", re.IGNORECASE)


def is_projector_name(name: str) -> bool:
    """Whether a file (a name or a hub path) is a vision projector (mmproj), not a model."""
    return "mmproj" in name.replace("\\", "/").rsplit("/", 1)[-1].lower()


def split_part(name: str) -> tuple[str, int, int] | None:
    """For a shard of a split model: (the name before the shard suffix, its number, the
    shard count); None for a file that is not split."""
    match = SPLIT_PATTERN.search(name)
    if not match:
        return None
    return name[: match.start()], int(match[1]), int(match[2])


def shard_names(name: str) -> list[str]:
    """Every part of a split model, in order, given the name (or hub path) of any part;
    ``[name]`` for a file that is not split."""
    split = split_part(name)
    if split is None:
        return [name]
    stem, _, count = split
    return [f"{stem}-{number:05d}-of-{count:05d}.gguf" for number in range(1, count + 1)]
