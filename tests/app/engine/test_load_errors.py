"""Why llama.cpp refused a model, in words (app/load_errors.py), from the lines it logs."""

from __future__ import annotations

import pytest

from app.engine.load_errors import explain_load_failure

FALLBACK = "Failed to load model from file: /models/x.gguf"
TAIL = "llama_model_load_from_file_impl: failed to load model"


@pytest.mark.parametrize(
    ("logged", "expected"),
    [
        (
            "llama_model_load: error loading model: unknown model architecture: 'foo'",
            "this version of llama.cpp does not support the architecture 'foo'; update Hearth",
        ),
        (
            "llama_model_load: error loading model: error loading model vocabulary: "
            "unordered_map::at",
            "its vocabulary (the tokenizer) could not be read (unordered_map::at)",
        ),
        (
            "llama_model_load: error loading model: error loading model vocabulary: "
            "unknown pre-tokenizer type: 'superbpe'",
            "does not know its tokenizer ('superbpe'); update Hearth",
        ),
        (
            "llama_model_load: error loading model: check_tensor_dims: tensor "
            "'output_norm.weight' not found",
            "lacks part of the model (the tensor 'output_norm.weight')",
        ),
        (
            "llama_model_load: error loading model: check_tensor_dims: tensor 'token_embd.weight'"
            " has wrong shape; expected    64,   260, got    64,   261,     1,     1",
            "do not match its own description (the tensor 'token_embd.weight')",
        ),
        (
            "llama_model_load: error loading model: done_getting_tensors: wrong number of "
            "tensors; expected 21, got 20",
            "the file is damaged or incomplete; download it again",
        ),
        (
            "llama_model_load: error loading model: key not found in model: foo.block_count",
            "lacks the setting foo.block_count",
        ),
        (
            "ggml_backend_cpu_buffer_type_alloc_buffer: failed to allocate buffer of size 9999",
            "not enough memory",
        ),
        (
            "llama_model_load: error loading model: something new went wrong",
            "something new went wrong.",
        ),
    ],
)
def test_llama_cpp_reasons_become_words(logged: str, expected: str) -> None:
    message = explain_load_failure("x.gguf", [logged, TAIL], FALLBACK)
    assert message.startswith("llama.cpp could not load x.gguf: ")
    assert expected in message
    assert "Failed to load model from file" not in message


def test_without_a_logged_reason_the_bindings_words_are_kept() -> None:
    assert explain_load_failure("x.gguf", [TAIL], FALLBACK) == (
        f"llama.cpp could not load x.gguf: {FALLBACK}"
    )
    assert explain_load_failure("x.gguf", [], FALLBACK).endswith(FALLBACK)
