"""Chat templates: the model's own (every real template llama.cpp tests against) and named ones."""

from __future__ import annotations

import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from app.engine.chat_format import NAMED_FORMATS, ChatPrompt, TemplateError, default_format
from tests.support.models import model_cache

LLAMA_CPP_PYTHON = "0.3.36"


@pytest.fixture(scope="session")
def real_templates() -> list[Path]:
    """The Jinja chat templates of real models that llama.cpp vendors (from the binding's sdist)."""
    cache = model_cache() / f"chat-templates-{LLAMA_CPP_PYTHON}"
    if not any(cache.glob("*.jinja")):
        # Reuse the sdist bench/build_llama_bench.sh keeps, else download it once.
        sdist_dir = model_cache() / "sdist"
        sdist = sdist_dir / f"llama_cpp_python-{LLAMA_CPP_PYTHON}.tar.gz"
        shared = Path.home() / ".cache" / "hearth" / "sdist" / sdist.name
        if shared.exists():
            sdist = shared
        elif not sdist.exists():
            subprocess.run(
                [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary",
                 ":all:", f"llama-cpp-python=={LLAMA_CPP_PYTHON}", "-d", str(sdist_dir)],
                check=True, timeout=600,
            )  # fmt: skip
        cache.mkdir(parents=True, exist_ok=True)
        prefix = f"llama_cpp_python-{LLAMA_CPP_PYTHON}/vendor/llama.cpp/models/templates/"
        with tarfile.open(sdist) as archive:
            for member in archive.getmembers():
                if member.name.startswith(prefix) and member.name.endswith(".jinja"):
                    extracted = archive.extractfile(member)
                    assert extracted is not None
                    (cache / Path(member.name).name).write_bytes(extracted.read())
    return sorted(cache.glob("*.jinja"))


CONVERSATION = [
    {"role": "user", "content": "Question one: the capital of France?"},
    {"role": "assistant", "content": "Answer one: Paris."},
    {"role": "user", "content": "Question two: and of Italy?"},
    {"role": "assistant", "content": "Answer two: Rome."},
    {"role": "user", "content": "Question three: Spain?"},
]
SYSTEM = {"role": "system", "content": "You are a geography tutor."}


def test_every_vendored_real_template_renders_a_multi_turn_chat(real_templates: list[Path]) -> None:
    assert len(real_templates) >= 60
    failures = []
    for path in real_templates:
        prompt = ChatPrompt.for_model(
            path.read_text(encoding="utf-8"), bos_token="<s>", eos_token="</s>"
        )
        for turns in (CONVERSATION, [SYSTEM, *CONVERSATION]):
            try:
                text = prompt.render(turns)
            except TemplateError as exc:
                failures.append(f"{path.name}: {exc}")
                continue
            for turn in turns:  # nothing the user wrote is lost, the system prompt included
                if turn["content"] not in text:
                    failures.append(f"{path.name}: lost {turn['content']!r}")
            order = [text.find(t["content"]) for t in CONVERSATION]
            if order != sorted(order):
                failures.append(f"{path.name}: turns out of order")
    assert failures == []


def test_named_formats_keep_the_system_prompt_and_open_the_answer() -> None:
    for name in NAMED_FORMATS:
        prompt = ChatPrompt.for_model(None, format_name=name, bos_token="<s>", eos_token="</s>")
        text = prompt.render([SYSTEM, *CONVERSATION])
        assert "You are a geography tutor." in text, name
        assert text.index("Answer one") < text.index("Question three"), name
        assert not text.endswith("</s>"), name


def test_default_format_follows_the_model_family_and_tokens() -> None:
    assert default_format("gemma3") == "gemma"
    assert default_format("phi3") == "phi-3"
    assert default_format("qwen2", ["<|im_start|>"]) == "chatml"
    assert default_format("llama", ["<|start_header_id|>"]) == "llama-3"
    assert default_format("llama") == "plain"


def test_invalid_jinja_is_reported_in_words() -> None:
    with pytest.raises(TemplateError, match="not valid Jinja"):
        ChatPrompt.for_model("{% for m in messages %}", bos_token="", eos_token="")


def test_reasoning_markers_come_from_the_template() -> None:
    template = "{% for m in messages %}{{ m.content }}{% endfor %}<|im_start|>assistant\n<think>\n"
    prompt = ChatPrompt.for_model(template)
    assert prompt.reasoning_markers[0] == ("<think>", "</think>")
    assert prompt.opens_in_reasoning(prompt.render([{"role": "user", "content": "hi"}]))
