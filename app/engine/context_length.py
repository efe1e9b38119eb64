"""How much context a model gets: what was asked, bounded by what the model was trained
for. An explicit ask beyond that is refused naming the limit; a stored one is lowered
with a notice the user sees; only the app-wide default is lowered without a word."""

from __future__ import annotations

from dataclasses import dataclass

from app.errors import HearthError


class ContextTooLong(HearthError):
    """A context length was asked for that the model was not trained to use."""


@dataclass(frozen=True)
class ContextChoice:
    n_ctx: int
    note: str | None = None  # shown to the user when their value was lowered


def too_long_message(model: str, trained: int, requested: int, where: str = "") -> str:
    asked = f"{where} {requested:,}".strip() if where else f"a context of {requested:,} tokens"
    return (
        f"{model} was trained for at most {trained:,} tokens of context, so {asked} is more "
        f"than it can use (past that its answers fall apart). Choose {trained:,} or less."
    )


def check_context(model: str, trained: int | None, requested: int, where: str = "") -> None:
    """Refuse ``requested`` when it is beyond the ``trained`` length (None: unknown)."""
    if trained and requested > trained:
        raise ContextTooLong(too_long_message(model, trained, requested, where))


def choose_context(
    model: str,
    trained: int | None,
    requested: int,
    *,
    source: str | None = None,
    strict: bool = False,
) -> ContextChoice:
    """The context to load ``model`` with.

    ``source`` says where ``requested`` came from in the user's words ("this chat's
    settings", "--ctx"); None is the app-wide default, which means "up to". ``strict``
    refuses a value beyond the model's limit instead of lowering it.
    """
    if not trained or requested <= trained:
        return ContextChoice(requested)
    if strict:
        raise ContextTooLong(too_long_message(model, trained, requested, source or ""))
    if source is None:
        return ContextChoice(trained)
    return ContextChoice(
        trained,
        f"The context is {trained:,} tokens, the most {model} was trained for "
        f"({source} asked for {requested:,}).",
    )
