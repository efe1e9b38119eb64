"""What a chat answers with: the local ``Engine`` or a remote server
(``app.remote.RemoteEngine``). ``ChatRunner`` needs only this much of either."""

from __future__ import annotations

from collections.abc import Generator, Hashable, Sequence
from typing import Protocol

from app.cancel import CancelToken
from app.engine.chat_format import Turn
from app.engine.events import Event, Sampling


class ModelFacts(Protocol):
    """The model that answers: its name, context size and where its turn format is from."""

    @property
    def name(self) -> str: ...

    @property
    def n_ctx(self) -> int: ...

    @property
    def chat_source(self) -> str: ...


class Backend(Protocol):
    @property
    def loaded(self) -> ModelFacts | None: ...

    def count_tokens(self, text: str) -> int:
        """Tokens ``text`` takes in a prompt (an estimate where the server can't say)."""
        ...

    def generate(
        self,
        turns: Sequence[Turn],
        sampling: Sampling | None = None,
        *,
        session: Hashable | None = None,
        continue_text: str = "",
        cancel: CancelToken | None = None,
    ) -> Generator[Event, None, None]:
        """TextDelta pieces, maybe ContextTrimmed / ContextUsed, then one GenerationDone
        (whose ``error`` says in words what went wrong; the text so far is kept)."""
        ...
