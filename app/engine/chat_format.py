"""Turning a conversation into the prompt text a model expects: its own Jinja chat template
(rendered in a bounded Jinja sandbox: app.engine.template_sandbox), or a named format when
the file has none."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import jinja2

from app.engine.template_sandbox import BoundedEnvironment, TemplateLimit
from app.errors import HearthError

Turn = dict[str, str]  # {"role": "system" | "user" | "assistant", "content": "..."}


class TemplateError(HearthError):
    """The chat template could not turn the conversation into a prompt."""


@dataclass(frozen=True)
class NamedFormat:
    name: str
    label: str
    template: str
    stop: tuple[str, ...] = ()


# Formats for models whose file carries no chat template. Each keeps the system
# prompt (folded into the first user turn where the format has no system role).
NAMED_FORMATS: dict[str, NamedFormat] = {
    f.name: f
    for f in (
        NamedFormat(
            "chatml",
            "ChatML (Qwen, Hermes, many fine-tunes)",
            "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n"
            "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}",
            ("<|im_end|>",),
        ),
        NamedFormat(
            "llama-3",
            "Llama 3",
            "{{ bos_token }}{% for m in messages %}<|start_header_id|>{{ m.role }}"
            "<|end_header_id|>\n\n{{ m.content | trim }}<|eot_id|>{% endfor %}"
            "{% if add_generation_prompt %}<|start_header_id|>assistant<|end_header_id|>\n\n"
            "{% endif %}",
            ("<|eot_id|>",),
        ),
        NamedFormat(
            "gemma",
            "Gemma",
            "{{ bos_token }}{% set ns = namespace(system='') %}{% for m in messages %}"
            "{% if m.role == 'system' %}{% set ns.system = m.content + '\n\n' %}{% else %}"
            "<start_of_turn>{{ 'model' if m.role == 'assistant' else 'user' }}\n"
            "{% if m.role == 'user' %}{{ ns.system }}{% set ns.system = '' %}{% endif %}"
            "{{ m.content | trim }}<end_of_turn>\n{% endif %}{% endfor %}"
            "{% if add_generation_prompt %}<start_of_turn>model\n{% endif %}",
            ("<end_of_turn>",),
        ),
        NamedFormat(
            "mistral",
            "Mistral Instruct",
            "{{ bos_token }}{% set ns = namespace(system='') %}{% for m in messages %}"
            "{% if m.role == 'system' %}{% set ns.system = m.content + '\n\n' %}"
            "{% elif m.role == 'user' %}[INST] {{ ns.system }}{% set ns.system = '' %}"
            "{{ m.content }} [/INST]{% else %}{{ m.content }}{{ eos_token }}{% endif %}"
            "{% endfor %}",
        ),
        NamedFormat(
            "phi-3",
            "Phi-3",
            "{% for m in messages %}<|{{ m.role }}|>\n{{ m.content }}<|end|>\n{% endfor %}"
            "{% if add_generation_prompt %}<|assistant|>\n{% endif %}",
            ("<|end|>",),
        ),
        NamedFormat(
            "plain",
            "Plain text (base models)",
            "{% for m in messages %}{% if m.role == 'system' %}{{ m.content }}\n\n"
            "{% elif m.role == 'user' %}User: {{ m.content }}\n"
            "{% else %}Assistant: {{ m.content }}\n{% endif %}{% endfor %}"
            "{% if add_generation_prompt %}Assistant:{% endif %}",
            ("\nUser:",),
        ),
    )
}

# Markers that open and close a model's reasoning, most common first.
REASONING_MARKERS: tuple[tuple[str, str], ...] = (
    ("<think>", "</think>"),
    ("<thinking>", "</thinking>"),
    ("[THINK]", "[/THINK]"),
    ("<|begin_of_thought|>", "<|end_of_thought|>"),
    ("<|channel|>analysis<|message|>", "<|end|>"),
)


def default_format(architecture: str | None, special_tokens: Sequence[str] = ()) -> str:
    """The named format to use for a model without a template: by its family, else its tokens."""
    arch = (architecture or "").lower()
    if arch.startswith("gemma"):
        return "gemma"
    if arch.startswith("phi3"):
        return "phi-3"
    tokens = set(special_tokens)
    if "<|im_start|>" in tokens:
        return "chatml"
    if "<|start_header_id|>" in tokens:
        return "llama-3"
    if "[INST]" in tokens:
        return "mistral"
    return "plain"


@dataclass
class ChatPrompt:
    """A model's way of writing conversations; ``render`` gives the prompt text."""

    template: str
    source: str  # "model" for the file's own template, else the named format's name
    bos_token: str = ""
    eos_token: str = ""
    stop: tuple[str, ...] = ()
    reasoning_markers: tuple[tuple[str, str], ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        self._environment = BoundedEnvironment()
        try:
            self._template = self._environment.from_string(self.template)
        except jinja2.TemplateError as exc:
            raise TemplateError(f"The chat template is not valid Jinja: {exc}") from exc
        self.reasoning_markers = tuple(
            pair for pair in REASONING_MARKERS if pair[0] in self.template
        ) or (REASONING_MARKERS[0],)

    @classmethod
    def for_model(
        cls,
        template: str | None,
        *,
        format_name: str | None = None,
        fallback: str = "chatml",
        bos_token: str = "",
        eos_token: str = "",
    ) -> ChatPrompt:
        """The model's own template, unless the user picked a named format (or there is none)."""
        if format_name is None and template:
            stop = (eos_token,) if eos_token else ()
            return cls(template, "model", bos_token, eos_token, stop)
        name = format_name or fallback
        if name not in NAMED_FORMATS:
            choices = ", ".join(NAMED_FORMATS)
            raise TemplateError(f"Unknown chat format {name!r} (choose from {choices})")
        named = NAMED_FORMATS[name]
        return cls(named.template, name, bos_token, eos_token, named.stop)

    def render(self, turns: Sequence[Turn], *, add_generation_prompt: bool = True) -> str:
        """The prompt text for ``turns``.

        Templates written for tool use are given an empty tool list rather than
        none; templates that refuse a system role get the system prompt folded
        into the first user turn, as their authors recommend, rather than dropped.
        """
        variants: list[tuple[list[Turn], dict[str, Any]]] = [
            (list(turns), {}),
            (list(turns), {"tools": [], "functions": "", "datetime": _today()}),
        ]
        if turns and turns[0]["role"] == "system":
            variants += [(_fold_system(list(turns)), extra) for _, extra in variants]
        first_error: TemplateError | None = None
        for variant, extra in variants:
            try:
                return self._render(variant, add_generation_prompt, extra)
            except TemplateError as exc:
                first_error = first_error or exc
        assert first_error is not None
        raise first_error

    def _render(self, turns: list[Turn], add_generation_prompt: bool, extra: dict[str, Any]) -> str:
        context: dict[str, Any] = {
            "functions": None, "function_call": None, "tools": None, "tool_choice": None,
            **extra,
        }  # fmt: skip
        try:
            return self._environment.render(
                self._template,
                messages=turns,
                eos_token=self.eos_token,
                bos_token=self.bos_token,
                add_generation_prompt=add_generation_prompt,
                **context,
            )
        except TemplateLimit as exc:
            where = "The model's chat template" if self.source == "model" else self.source
            raise TemplateError(
                f"{where} was stopped: {exc}. Pick another chat format for this model."
            ) from exc
        except (
            jinja2.TemplateError, ValueError, TypeError, KeyError, IndexError, OverflowError,
            RecursionError, MemoryError,
        ) as exc:  # fmt: skip
            where = "the model's chat template" if self.source == "model" else self.source
            raise TemplateError(
                f"Could not write the conversation with {where}: {exc}. "
                "Pick another chat format for this model."
            ) from exc

    def opens_in_reasoning(self, prompt: str) -> bool:
        """True when the prompt itself ends inside an opened reasoning block (e.g. '<think>\\n')."""
        tail = prompt.rstrip()
        return any(tail.endswith(open_) for open_, _ in self.reasoning_markers)


def _today() -> str:
    return datetime.now().strftime("%d %B %Y")


def _fold_system(turns: list[Turn]) -> list[Turn]:
    system, rest = turns[0]["content"], turns[1:]
    for i, turn in enumerate(rest):
        if turn["role"] == "user":
            rest[i] = {"role": "user", "content": f"{system}\n\n{turn['content']}"}
            return rest
    return [{"role": "user", "content": system}, *rest]
