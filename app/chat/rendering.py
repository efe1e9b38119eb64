"""Answers as HTML for Qt's rich-text engine: Markdown (CommonMark, tables, strikethrough)
with raw HTML escaped, code blocks highlighted by Pygments, each with a ``copy:<n>`` link.

Qt's QTextDocument reads a subset of HTML4 and CSS, so everything here is plain
tags with inline styles (no CSS classes). Pure Python, no Qt.
"""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

# No type stubs for Pygments are installed; its few calls here are wrapped in typed functions.
from pygments import highlight  # type: ignore[import-untyped]
from pygments.formatters import HtmlFormatter  # type: ignore[import-untyped]
from pygments.lexers import TextLexer, get_lexer_by_name  # type: ignore[import-untyped]
from pygments.util import ClassNotFound  # type: ignore[import-untyped]

THEMES = ("light", "dark")
COPY_SCHEME = "copy"
SOURCE_SCHEME = "source"  # "[2]" in an answer given sources links to source:2

_CITATION = re.compile(r"\[(\d{1,3})\]")
# Past this size a code block is shown as plain text: highlighting it would stall the view.
_HIGHLIGHT_LIMIT = 40_000


@dataclass(frozen=True)
class _Palette:
    pygments_style: str
    text: str
    muted: str
    link: str
    code_background: str
    code_border: str
    code_header: str
    inline_code: str
    table_border: str
    table_header: str
    quote_bar: str


_PALETTES = {
    "light": _Palette(
        pygments_style="default",
        text="#1f1b24",
        muted="#857b8c",
        link="#c2541f",
        code_background="#f7f4f1",
        code_border="#e6ded6",
        code_header="#efe9e3",
        inline_code="#f0ebe6",
        table_border="#ddd4cc",
        table_header="#f3eee9",
        quote_bar="#e0d6cd",
    ),
    "dark": _Palette(
        pygments_style="one-dark",
        text="#ece6f0",
        muted="#a197aa",
        link="#ff9460",
        code_background="#17131d",
        code_border="#382e44",
        code_header="#221c2a",
        inline_code="#342b3f",
        table_border="#43384f",
        table_header="#2c2536",
        quote_bar="#4a3f57",
    ),
}

_MONO = "'JetBrains Mono', 'Cascadia Code', Menlo, Consolas, 'DejaVu Sans Mono', monospace"


def palette(theme: str) -> _Palette:
    return _PALETTES.get(theme, _PALETTES["light"])


@functools.cache
def _formatter(theme: str) -> Any:
    return HtmlFormatter(style=palette(theme).pygments_style, noclasses=True, nowrap=True)


@functools.lru_cache(maxsize=256)
def _lexer(language: str) -> Any:
    try:
        return get_lexer_by_name(language, stripnl=False, ensurenl=False)
    except ClassNotFound:
        return TextLexer(stripnl=False, ensurenl=False)


def _language(info: str) -> str:
    return info.strip().split(maxsplit=1)[0] if info.strip() else ""


def _highlighted(code: str, language: str, theme: str) -> str:
    if not language or len(code) > _HIGHLIGHT_LIMIT:
        return html.escape(code, quote=False)
    return str(highlight(code, _lexer(language.lower()), _formatter(theme)))


class _QtRenderer(RendererHTML):
    """markdown-it's HTML renderer with Qt-friendly output for the parts that need it."""

    def __init__(self, parser: Any = None) -> None:
        super().__init__(parser)

    # Code blocks: a one-cell table gives Qt a padded, tinted box; a header row holds the
    # language and the Copy link.
    def fence(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        token = tokens[idx]
        return _code_block(token.content, _language(token.info), env)

    def code_block(
        self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
    ) -> str:
        return _code_block(tokens[idx].content, "", env)

    def text(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        escaped = html.escape(tokens[idx].content, quote=False)
        sources = env.get("sources", 0)
        if not sources or env.get("in_link"):
            return escaped

        def link(match: re.Match[str]) -> str:
            number = int(match.group(1))
            if not 1 <= number <= sources:
                return match.group(0)  # not one of the numbered sources: left as written
            return f'<a href="{SOURCE_SCHEME}:{number}">[{number}]</a>'

        return _CITATION.sub(link, escaped)

    def link_open(
        self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
    ) -> str:
        env["in_link"] = True
        return super().renderToken(tokens, idx, options, env)

    def link_close(
        self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
    ) -> str:
        env["in_link"] = False
        return super().renderToken(tokens, idx, options, env)

    def code_inline(
        self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
    ) -> str:
        p = palette(env["theme"])
        code = html.escape(tokens[idx].content, quote=False)
        return (
            f'<code style="font-family: {_MONO}; background-color: {p.inline_code};">{code}</code>'
        )

    def image(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        # Never load images named by a model (local files included): show a link instead.
        token = tokens[idx]
        src = html.escape(str(token.attrGet("src") or ""))
        alt = html.escape(self.renderInlineAsText(token.children or [], options, env) or "image")
        return f'<a href="{src}">[image: {alt}]</a>'


def _code_block(code: str, language: str, env: EnvType) -> str:
    theme = env["theme"]
    p = palette(theme)
    index = env["code_index"]
    env["code_index"] = index + 1
    label = html.escape(language) if language else "code"
    body = _highlighted(code.removesuffix("\n"), language, theme)
    return (
        f'<table width="100%" cellspacing="0" cellpadding="0" border="1" '
        f'style="border-collapse: collapse; border-color: {p.code_border}; border-style: solid;'
        f' margin-top: 6px; margin-bottom: 10px;" bgcolor="{p.code_background}">'
        f'<tr><td bgcolor="{p.code_header}" style="padding: 4px 10px;">'
        f'<table width="100%" cellspacing="0" cellpadding="0" border="0"><tr>'
        f'<td><span style="color: {p.muted}; font-size: small;">{label}</span></td>'
        f'<td align="right"><a href="{COPY_SCHEME}:{index}" '
        f'style="color: {p.link}; text-decoration: none; font-size: small;">Copy</a></td>'
        f"</tr></table></td></tr>"
        f'<tr><td style="padding: 8px 12px;">'
        f'<pre style="margin: 0; white-space: pre-wrap; font-family: {_MONO};">{body}</pre>'
        f"</td></tr></table>\n"
    )


def _style_sheet(p: _Palette) -> str:
    return (
        "<style>"
        "p { margin-top: 0px; margin-bottom: 8px; }"
        "ul, ol { margin-top: 0px; margin-bottom: 8px; }"
        "li { margin-bottom: 2px; }"
        f"a {{ color: {p.link}; }}"
        "h1 { font-size: 15pt; margin-top: 10px; margin-bottom: 6px; }"
        "h2 { font-size: 13.5pt; margin-top: 10px; margin-bottom: 6px; }"
        "h3 { font-size: 12pt; margin-top: 8px; margin-bottom: 4px; }"
        "h4, h5, h6 { font-size: 11pt; margin-top: 8px; margin-bottom: 4px; }"
        f"blockquote {{ color: {p.muted}; margin-left: 12px; margin-right: 0px; }}"
        f"th {{ background-color: {p.table_header}; font-weight: 600; }}"
        "th, td { padding: 5px 10px; }"
        "hr { margin-top: 8px; margin-bottom: 8px; }"
        "</style>"
    )


def _table_open(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    p = palette(env["theme"])
    return (
        f'<table border="1" cellspacing="0" cellpadding="5" style="border-collapse: collapse;'
        f" border-color: {p.table_border}; border-style: solid; margin-top: 4px;"
        f' margin-bottom: 10px;">\n'
    )


def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "breaks": True}, renderer_cls=_QtRenderer)
    md.enable(["table", "strikethrough"])
    md.add_render_rule("table_open", _table_open)
    return md


_MD = _parser()


def render_uncached(text: str, theme: str = "light", sources: int = 0) -> str:
    """Markdown to Qt rich-text HTML (``theme``: "light" or "dark"); not cached. With
    ``sources`` numbered sources, citations [1]..[sources] outside code link to them.

    Used while an answer streams, when every render is of a new text.
    """
    theme = theme if theme in THEMES else "light"
    env: dict[str, Any] = {"theme": theme, "code_index": 0, "sources": sources}
    body = _MD.render(text, env)
    return f"<html><head>{_style_sheet(palette(theme))}</head><body>{body}</body></html>"


@functools.lru_cache(maxsize=4096)
def render_markdown(text: str, theme: str = "light", sources: int = 0) -> str:
    """Markdown to Qt rich-text HTML, cached on (text, theme).

    Raw HTML in ``text`` is shown as text, never rendered; each code block carries a
    ``copy:<n>`` link where n indexes ``code_blocks(text)``; citations link to
    ``source:<n>`` (see ``render_uncached``).
    """
    return render_uncached(text, theme, sources)


def code_blocks(text: str) -> list[str]:
    """The raw code of each code block in ``text`` (fenced or indented), in order."""
    return list(_code_blocks(text))


@functools.lru_cache(maxsize=256)
def _code_blocks(text: str) -> tuple[str, ...]:
    return tuple(
        token.content.removesuffix("\n")
        for token in _MD.parse(text)
        if token.type in ("fence", "code_block")
    )
