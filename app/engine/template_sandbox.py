"""Chat templates come inside downloaded model files: render them in Jinja's sandbox with
limits, so a hostile one can neither reach Python's internals nor hang or flood the app.

Jinja's immutable sandbox refuses ``__class__``, ``__globals__`` and other internals, and
any change to the conversation itself. On top of it:
- a time limit, checked at every call, attribute and item lookup the template makes and
  at every piece of output, so nested loops that would run for minutes stop in seconds;
- an output limit, checked as the prompt is written piece by piece;
- ``*`` and ``**`` refused when their result would be huge ('x' * 10**9, 9**9**9).
The configuration otherwise matches llama-cpp-python's and Transformers' chat-template
rendering (trim_blocks, lstrip_blocks, loop controls, ``{% generation %}`` ignored,
``tojson`` that keeps non-ASCII text).
"""

from __future__ import annotations

import json
import operator
import time
from datetime import datetime
from typing import Any

import jinja2
import jinja2.ext
from jinja2.sandbox import ImmutableSandboxedEnvironment
from llama_cpp.llama_chat_format import Jinja2ChatFormatter

TIME_LIMIT = 2.0  # seconds; real templates take milliseconds
OUTPUT_LIMIT = 4_000_000  # characters; a full 128k-token context is about 500 k
VALUE_LIMIT = 1_000_000  # items or characters one ``*`` may make
POWER_LIMIT = 10_000  # the largest exponent ``**`` may take


class TemplateLimit(jinja2.TemplateError):
    """A template went past a limit (time, output, or a value's size)."""


def _tojson(
    value: Any,
    ensure_ascii: bool = False,
    indent: int | None = None,
    separators: tuple[str, str] | None = None,
    sort_keys: bool = False,
) -> str:
    return json.dumps(
        value, ensure_ascii=ensure_ascii, indent=indent, separators=separators,
        sort_keys=sort_keys,
    )  # fmt: skip


def _raise_exception(message: str) -> None:
    raise ValueError(message)


def _strftime_now(pattern: str) -> str:
    return datetime.now().strftime(pattern)


class BoundedEnvironment(ImmutableSandboxedEnvironment):
    """The immutable sandbox with a deadline, an output limit and bounded ``*``/``**``."""

    intercepted_binops = frozenset({"*", "**"})

    def __init__(self, *, time_limit: float | None = None, output_limit: int | None = None):
        super().__init__(
            loader=jinja2.BaseLoader(),
            trim_blocks=True,
            lstrip_blocks=True,
            extensions=[Jinja2ChatFormatter.IgnoreGenerationTags, jinja2.ext.loopcontrols],
        )
        self.filters["tojson"] = _tojson
        self.time_limit = TIME_LIMIT if time_limit is None else time_limit
        self.output_limit = OUTPUT_LIMIT if output_limit is None else output_limit
        self._deadline = float("inf")

    def _check_time(self) -> None:
        if time.monotonic() > self._deadline:
            raise TemplateLimit(f"it ran for more than {self.time_limit:g} s and was stopped")

    def call(self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        self._check_time()
        return super().call(__context, __obj, *args, **kwargs)

    def getattr(self, obj: Any, attribute: str) -> Any:
        self._check_time()
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        self._check_time()
        return super().getitem(obj, argument)

    def call_binop(self, context: Any, operator_name: str, left: Any, right: Any) -> Any:
        self._check_time()
        if operator_name == "**":
            if isinstance(right, int) and abs(right) > POWER_LIMIT:
                raise TemplateLimit(f"it raised a number to the power {right}")
            return operator.pow(left, right)
        for value, times in ((left, right), (right, left)):
            sized = isinstance(value, str | list | tuple) and isinstance(times, int)
            if sized and len(value) * times > VALUE_LIMIT:
                raise TemplateLimit("it tried to build a value of over a million items")
        return operator.mul(left, right)

    def render(self, template: jinja2.Template, **context: Any) -> str:
        """``template`` written with ``context`` within the limits."""
        self._deadline = time.monotonic() + self.time_limit
        pieces: list[str] = []
        written = 0
        try:
            for piece in template.generate(
                raise_exception=_raise_exception, strftime_now=_strftime_now, **context
            ):
                written += len(piece)
                if written > self.output_limit:
                    raise TemplateLimit(
                        f"it wrote more than {self.output_limit:,} characters and was stopped"
                    )
                self._check_time()
                pieces.append(piece)
        finally:
            self._deadline = float("inf")
        return "".join(pieces)
