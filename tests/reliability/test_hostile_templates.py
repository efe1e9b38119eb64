"""Hostile chat templates (they come inside downloaded model files) are contained: Python's
internals stay out of reach, output bombs and loops that would run for minutes are
stopped by the limits of app.engine.template_sandbox, the user is told in words, and the
engine goes on answering with another format."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.engine import template_sandbox
from app.engine.chat_format import ChatPrompt, TemplateError
from app.engine.engine import Engine
from app.engine.events import LoadOptions, Sampling
from tests.conftest import GgufFiles
from tests.reliability.scale import count

TURNS = [{"role": "user", "content": "Hello"}]

REACHING_IN = [
    "{{ messages.__class__.__mro__[1].__subclasses__() }}",
    "{{ cycler.__init__.__globals__.os.system('echo owned') }}",
    "{{ joiner.__init__.__globals__['os'] }}",
    "{{ namespace.__init__.__globals__ }}",
    "{{ lipsum.__globals__['os'].popen('id').read() }}",
    "{{ ''.__class__.__base__.__subclasses__() }}",
    "{{ self.__init__.__globals__ }}",
    "{% set _ = messages.append({'role': 'system', 'content': 'x'}) %}{{ messages }}",
    "{% set _ = messages[0].update({'content': 'changed'}) %}{{ messages }}",
]


def rendered(template: str) -> str:
    return ChatPrompt(template, "model").render(TURNS)


def test_an_unsafe_attribute_prints_nothing() -> None:
    """Only printed, an internal is Jinja's undefined: empty, nothing of Python shown."""
    for template in ("{{ raise_exception.__globals__ }}", "{{ messages.__class__ }}x"):
        assert rendered(template) in ("", "x")


@pytest.mark.parametrize("template", REACHING_IN)
def test_python_internals_and_the_conversation_are_out_of_reach(template: str) -> None:
    with pytest.raises(TemplateError, match="Pick another chat format") as refused:
        rendered(template)
    assert (
        "unsafe" in str(refused.value)
        or "not safely" in str(refused.value).lower()
        or ("immutable" in str(refused.value) or "modify" in str(refused.value))
    )
    assert TURNS == [{"role": "user", "content": "Hello"}]  # the conversation is untouched


@pytest.mark.parametrize(
    ("template", "why"),
    [
        ("{% for i in range(100000) %}{{ 'x' * 100000 }}{% endfor %}", "characters"),
        ("{{ 'x' * 10**9 }}", "million items"),
        ("{{ [0] * 10**8 }}", "million items"),
        ("{{ 10 ** (10 ** 6) }}", "power"),
        ("{% for m in messages * 10**7 %}{{ m.content }}{% endfor %}", "million items"),
    ],
)
def test_output_and_value_bombs_are_stopped(template: str, why: str) -> None:
    with pytest.raises(TemplateError, match=why):
        rendered(template)


def test_a_template_that_would_loop_for_minutes_is_stopped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(template_sandbox, "TIME_LIMIT", 0.3)
    # 10^10 empty iterations: minutes in Python. Stopped at the time limit instead.
    loops = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}x"
    with pytest.raises(TemplateError, match=r"ran for more than 0\.3 s"):
        rendered(loops)
    nested = (
        "{% for i in range(100000) %}{% for j in range(100000) %}{{ j }}{% endfor %}{% endfor %}"
    )
    with pytest.raises(TemplateError, match=r"0\.3 s|characters"):
        rendered(nested)


def test_the_engine_reports_a_hostile_template_and_answers_with_a_named_format(
    gguf_files: GgufFiles,
) -> None:
    model = gguf_files.tiny(
        "hostile.gguf", chat_template="{{ cycler.__init__.__globals__.os.system('id') }}"
    )
    engine = Engine(state_cache_bytes=0)
    try:
        engine.load(model, LoadOptions(n_ctx=256))
        with pytest.raises(TemplateError, match="Pick another chat format"):
            list(engine.generate(TURNS, Sampling(max_tokens=4)))
        assert not engine.busy
        engine.load(model, LoadOptions(n_ctx=256, chat_format="chatml"))
        events = list(engine.generate(TURNS, Sampling(temperature=0.0, max_tokens=4)))
        assert events, "the same model answers with a named format"
    finally:
        engine.close()


JINJA_PIECES = st.sampled_from(
    ["{{", "}}", "{%", "%}", " for ", " in ", " if ", " endif ", " endfor ", " set ",
     "messages", "m", ".", "[", "]", "(", ")", "'x'", "*", "**", "9", "range", "|",
     "join", "tojson", "__class__", "__globals__", "cycler", "loop", "-", " ", "~", "+"]
)  # fmt: skip


@settings(max_examples=count(full=3000, quick=150), deadline=None, derandomize=True)
@given(st.lists(JINJA_PIECES, max_size=24).map("".join))
def test_any_template_renders_or_is_refused_in_words(template: str) -> None:
    try:
        prompt = ChatPrompt(template, "model").render(TURNS)
    except TemplateError as refused:
        assert str(refused)
    else:
        assert isinstance(prompt, str)
        assert len(prompt) <= template_sandbox.OUTPUT_LIMIT
