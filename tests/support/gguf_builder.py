"""Writes tiny GGUF models with the `gguf` package, and deliberately broken ones.

A valid model here is a real llama-architecture network (random F32 weights,
a byte-level SentencePiece vocabulary) that llama.cpp loads in milliseconds.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import gguf
import numpy as np

# A ChatML template, as shipped by many real models (Qwen, Hermes, ...).
CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

SPECIAL_TOKENS = ("<unk>", "<s>", "</s>", "<pad>")  # ids 0..3, then 256 byte tokens
VOCAB_SIZE = len(SPECIAL_TOKENS) + 256


@dataclass(frozen=True)
class TinyModelSpec:
    """Shape of a generated model; the defaults make a ~470 KB file."""

    layers: int = 2
    width: int = 64
    heads: int = 4
    kv_heads: int = 4
    ffn: int = 128
    context_length: int = 2048
    chat_template: str | None = CHATML_TEMPLATE
    name: str = "tiny-llama"
    seed: int = 0
    # Files that pass Hearth's header check but that llama.cpp refuses: an architecture
    # it does not know (the llama layout under another name), or weights left out.
    architecture: str = "llama"
    omit_tensors: tuple[str, ...] = ()


def write_tiny_model(path: Path, spec: TinyModelSpec | None = None) -> Path:
    """Write a loadable llama-architecture GGUF to ``path``."""
    spec = spec or TinyModelSpec()
    rng = np.random.default_rng(spec.seed)
    head_dim = spec.width // spec.heads
    writer = gguf.GGUFWriter(str(path), spec.architecture)
    writer.add_name(spec.name)
    writer.add_context_length(spec.context_length)
    writer.add_embedding_length(spec.width)
    writer.add_block_count(spec.layers)
    writer.add_feed_forward_length(spec.ffn)
    writer.add_head_count(spec.heads)
    writer.add_head_count_kv(spec.kv_heads)
    writer.add_rope_dimension_count(head_dim)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)

    tokens = [t.encode() for t in SPECIAL_TOKENS] + [f"<0x{b:02X}>".encode() for b in range(256)]
    types = [
        gguf.TokenType.UNKNOWN,
        gguf.TokenType.CONTROL,
        gguf.TokenType.CONTROL,
        gguf.TokenType.CONTROL,
    ] + [gguf.TokenType.BYTE] * 256
    writer.add_tokenizer_model("llama")
    writer.add_token_list(tokens)
    writer.add_token_scores([0.0] * VOCAB_SIZE)
    writer.add_token_types(types)
    writer.add_unk_token_id(0)
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(2)
    writer.add_pad_token_id(3)
    writer.add_add_bos_token(True)
    writer.add_add_space_prefix(False)
    if spec.chat_template is not None:
        writer.add_chat_template(spec.chat_template)

    def weights(*shape: int) -> np.ndarray:
        return (rng.standard_normal(shape) * 0.08).astype(np.float32)

    kv_width = head_dim * spec.kv_heads

    def add(name: str, data: np.ndarray) -> None:
        if name not in spec.omit_tensors:
            writer.add_tensor(name, data)

    add("token_embd.weight", weights(VOCAB_SIZE, spec.width))
    for i in range(spec.layers):
        add(f"blk.{i}.attn_norm.weight", np.ones(spec.width, np.float32))
        add(f"blk.{i}.attn_q.weight", weights(spec.width, spec.width))
        add(f"blk.{i}.attn_k.weight", weights(kv_width, spec.width))
        add(f"blk.{i}.attn_v.weight", weights(kv_width, spec.width))
        add(f"blk.{i}.attn_output.weight", weights(spec.width, spec.width))
        add(f"blk.{i}.ffn_norm.weight", np.ones(spec.width, np.float32))
        add(f"blk.{i}.ffn_gate.weight", weights(spec.ffn, spec.width))
        add(f"blk.{i}.ffn_up.weight", weights(spec.ffn, spec.width))
        add(f"blk.{i}.ffn_down.weight", weights(spec.width, spec.ffn))
    add("output_norm.weight", np.ones(spec.width, np.float32))
    add("output.weight", weights(VOCAB_SIZE, spec.width))

    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


# ---------------------------------------------------------------- broken files
def write_wrong_magic(path: Path) -> Path:
    """A file that starts like something else entirely (a ZIP here)."""
    path.write_bytes(b"PK\x03\x04" + bytes(4096))
    return path


def write_truncated(path: Path, keep_fraction: float = 0.5) -> Path:
    """A valid model cut short: the header is fine but tensor data runs past the end."""
    write_tiny_model(path)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep_fraction)])
    return path


def write_absurd_metadata(path: Path) -> Path:
    """A GGUF header claiming 2^62 tensors and 2^62 key/value pairs in a 1 KB file."""
    header = struct.pack("<4sIQQ", b"GGUF", 3, 2**62, 2**62)
    path.write_bytes(header + bytes(1024))
    return path


def write_huge_string_length(path: Path) -> Path:
    """A GGUF whose first metadata key claims to be 2^60 bytes long."""
    header = struct.pack("<4sIQQ", b"GGUF", 3, 0, 1) + struct.pack("<Q", 2**60)
    path.write_bytes(header + b"general.architecture" + bytes(64))
    return path


def write_unsupported_version(path: Path) -> Path:
    """GGUF magic with a format version from the future."""
    path.write_bytes(struct.pack("<4sIQQ", b"GGUF", 99, 0, 0))
    return path
