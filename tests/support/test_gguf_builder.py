"""The model fixtures themselves: valid files load in real llama.cpp, broken ones are broken."""

from __future__ import annotations

from pathlib import Path

import gguf
import llama_cpp
import pytest

from tests.conftest import GgufFiles
from tests.support.gguf_builder import CHATML_TEMPLATE


def _complete(llm: llama_cpp.Llama, prompt: str, max_tokens: int) -> str:
    out = llm.create_completion(prompt, max_tokens=max_tokens, temperature=0.0, stream=False)
    assert isinstance(out, dict)
    return str(out["choices"][0]["text"])


def test_tiny_model_loads_in_llama_cpp_and_generates(tiny_model: Path) -> None:
    assert tiny_model.stat().st_size < 600_000
    llm = llama_cpp.Llama(str(tiny_model), n_ctx=256, n_threads=1, verbose=False)
    assert llm.metadata["tokenizer.chat_template"] == CHATML_TEMPLATE
    assert llm.n_vocab() == 260
    tokens = llm.tokenize(b"hi")
    assert tokens[0] == llm.token_bos() and len(tokens) == 3  # BOS + two byte tokens
    assert _complete(llm, "Hello", 8) != ""


def test_model_without_template_has_no_template_metadata(gguf_files: GgufFiles) -> None:
    path = gguf_files.without_template()
    reader = gguf.GGUFReader(str(path))
    assert "tokenizer.chat_template" not in reader.fields
    assert "general.architecture" in reader.fields
    llm = llama_cpp.Llama(str(path), n_ctx=128, n_threads=1, verbose=False)
    assert "tokenizer.chat_template" not in llm.metadata


def test_generated_models_are_deterministic(gguf_files: GgufFiles) -> None:
    one, two = gguf_files.tiny("one.gguf"), gguf_files.tiny("two.gguf")
    assert one.read_bytes() == two.read_bytes()
    assert gguf_files.tiny("other.gguf", seed=1).read_bytes() != one.read_bytes()


@pytest.mark.parametrize(
    ("writer", "error"),
    [
        ("wrong_magic", "magic"),
        ("truncated", "reshape"),
        ("absurd_metadata", ""),
        ("huge_string", ""),
        ("future_version", "version 99"),
    ],
)
def test_broken_files_are_rejected_by_a_gguf_parser(
    gguf_files: GgufFiles, writer: str, error: str
) -> None:
    path = getattr(gguf_files, writer)()
    with pytest.raises((ValueError, KeyError, IndexError)) as caught:
        gguf.GGUFReader(str(path))
    assert error in str(caught.value)


@pytest.mark.slow
def test_gemma_fixture_is_the_real_model_and_answers(gemma_model: Path) -> None:
    llm = llama_cpp.Llama(str(gemma_model), n_ctx=512, n_threads=2, verbose=False)
    assert llm.metadata["general.architecture"] == "gemma3"
    assert "tokenizer.chat_template" not in llm.metadata
    prompt = "The capital of France is Paris. The capital of Germany is"
    assert "Berlin" in _complete(llm, prompt, 6)
    assert _complete(llm, "Monday, Tuesday, Wednesday,", 4).startswith(" Thursday")
