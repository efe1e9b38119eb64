"""all-MiniLM-L6-v2 converted to GGUF: llama.cpp loads it and embeds like the original model."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import llama_cpp
import pytest

from app.engine.engine import Engine
from app.engine.events import LoadOptions
from tests.support import minilm

CAT = "A cat sat on the warm windowsill"
KITTEN = "A kitten was lying on the sunny window ledge"
STOCKS = "The stock market fell sharply today"

# Measured with sentence-transformers (torch, F32) on the original safetensors model.
REFERENCE_COSINES = {(CAT, KITTEN): 0.5961, (CAT, STOCKS): 0.0551, (KITTEN, STOCKS): 0.1837}
REFERENCE_CAT_HEAD = [0.1077, -0.0062, -0.0066, 0.1341, -0.0800, -0.0076, 0.0669, -0.0198]

TOKENIZER_TEXTS = [
    "Hello, unbelievable tokenization!",
    "Café résumé naïve — déjà vu",
    "I've been 'told' he's there; it's 3.14159 and 1,000,000 USD.",
    "我想在apple工作1314151天",
    "emoji 🚀 and tabs\tand\nnewlines",
    "URL: https://example.com/a_b?c=d#e",
    "Straße ĞÖÇ Ωmega ﬁne   don't CAN'T",
]


@pytest.fixture(scope="module")
def model_path() -> Path:
    return minilm.minilm_path()


@pytest.fixture(scope="module")
def embedder(model_path: Path) -> Iterator[Engine]:
    engine = Engine()
    engine.load(model_path, LoadOptions(embedding=True, n_threads=1))
    yield engine
    engine.close()


@pytest.fixture(scope="module")
def vocab_only(model_path: Path) -> llama_cpp.Llama:
    return llama_cpp.Llama(str(model_path), vocab_only=True, verbose=False)


def cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


def test_converted_model_embeds_into_normalised_384_dimensions(embedder: Engine) -> None:
    vectors = embedder.embed([CAT, KITTEN, STOCKS])

    assert [len(v) for v in vectors] == [384, 384, 384]
    assert all(math.isclose(math.hypot(*v), 1.0, abs_tol=1e-4) for v in vectors)


def test_paraphrase_scores_far_above_unrelated_sentence(embedder: Engine) -> None:
    cat, kitten, stocks = embedder.embed([CAT, KITTEN, STOCKS])

    assert cosine(cat, kitten) > 0.5
    assert abs(cosine(cat, stocks)) < 0.15
    assert cosine(cat, kitten) - cosine(cat, stocks) > 0.4


def test_embeddings_match_the_original_sentence_transformers_model(embedder: Engine) -> None:
    vectors = dict(zip([CAT, KITTEN, STOCKS], embedder.embed([CAT, KITTEN, STOCKS]), strict=True))

    for (a, b), expected in REFERENCE_COSINES.items():
        assert cosine(vectors[a], vectors[b]) == pytest.approx(expected, abs=2e-3)
    assert vectors[CAT][:8] == pytest.approx(REFERENCE_CAT_HEAD, abs=2e-3)


def test_wordpiece_ids_match_vocab_txt(vocab_only: llama_cpp.Llama) -> None:
    vocab = (minilm._model_dir() / "vocab.txt").read_text(encoding="utf-8").splitlines()
    pieces = ["[CLS]", "hello", ",", "unbelievable", "token", "##ization", "!", "[SEP]"]

    ids = vocab_only.tokenize(TOKENIZER_TEXTS[0].encode(), add_bos=True, special=False)

    assert ids == [vocab.index(p) for p in pieces]


def test_tokenization_matches_the_reference_tokenizer(vocab_only: llama_cpp.Llama) -> None:
    tokenizers = pytest.importorskip("tokenizers")
    reference = tokenizers.Tokenizer.from_file(str(minilm._model_dir() / "tokenizer.json"))
    reference.no_truncation()
    reference.no_padding()

    for text in TOKENIZER_TEXTS:
        ours = vocab_only.tokenize(text.encode(), add_bos=True, special=False)
        assert ours == reference.encode(text).ids, text


def test_second_call_returns_the_cached_file_without_converting(model_path: Path) -> None:
    before = model_path.stat().st_mtime_ns

    assert minilm.minilm_path() == model_path
    assert model_path.stat().st_mtime_ns == before


def test_new_converter_version_converts_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HEARTH_TEST_CACHE", str(tmp_path))
    first = minilm.minilm_path()
    first_inode = first.stat().st_ino
    assert minilm.minilm_path().stat().st_ino == first_inode

    monkeypatch.setattr(minilm, "CONVERTER_VERSION", minilm.CONVERTER_VERSION + 1)
    second = minilm.minilm_path()

    assert second == first
    assert second.stat().st_ino != first_inode
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".partial")] == []
