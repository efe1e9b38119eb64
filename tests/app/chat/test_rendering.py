"""Answers rendered from Markdown to the HTML subset Qt's rich-text engine shows."""

from __future__ import annotations

from html.parser import HTMLParser

from hypothesis import given, settings
from hypothesis import strategies as st

from app.chat.rendering import code_blocks, render_markdown, render_uncached

# Everything the renderer may emit; anything else would be model output leaking through.
ALLOWED_TAGS = {
    "html", "head", "style", "body", "p", "br", "strong", "em", "s", "code", "pre", "span",
    "a", "table", "thead", "tbody", "tr", "th", "td", "ul", "ol", "li", "blockquote", "hr",
    "h1", "h2", "h3", "h4", "h5", "h6",
}  # fmt: skip


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str | None]] = []
        self.links: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes += attrs
        if tag == "a":
            self.links.append(dict(attrs).get("href") or "")

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(html: str) -> _Tags:
    parser = _Tags()
    parser.feed(html)
    parser.close()
    return parser


ANSWER = """# Options

| Approach | Stable |
|:---------|-------:|
| `sorted` | yes |

- one
- two

```python
print("hi")
```

~~old~~ and [docs](https://docs.python.org/3/) too.

```
plain block
```
"""


def test_tables_lists_and_headings_become_html() -> None:
    html = render_markdown(ANSWER)
    tags = parse(html).tags
    for tag in ("h1", "table", "th", "td", "ul", "li", "s", "code", "pre"):
        assert tag in tags, tag
    assert 'border="1"' in html  # Qt draws table borders from attributes, not CSS classes


def test_raw_html_in_model_output_is_shown_as_text_not_rendered() -> None:
    html = render_markdown('Hi <script>alert(1)</script> <img src=x onerror="boom()"> <b>x</b>')
    parsed = parse(html)
    assert "script" not in parsed.tags and "img" not in parsed.tags and "b" not in parsed.tags
    assert "<script>alert(1)</script>" in "".join(parsed.text)
    assert not any(name.startswith("on") for name, _ in parsed.attributes)


def test_links_keep_their_address_and_script_links_are_not_links() -> None:
    parsed = parse(render_markdown("[docs](https://example.com/a?b=1) [x](javascript:alert(1))"))
    assert "https://example.com/a?b=1" in parsed.links
    assert not any(link.startswith("javascript") for link in parsed.links)


def test_images_are_links_never_loaded() -> None:
    parsed = parse(render_markdown("![a cat](/home/me/secret.png)"))
    assert "img" not in parsed.tags
    assert parsed.links == ["/home/me/secret.png"]
    assert "[image: a cat]" in "".join(parsed.text)


def test_fenced_code_is_highlighted_with_a_copy_link_per_block() -> None:
    html = render_markdown(ANSWER)
    parsed = parse(html)
    assert [link for link in parsed.links if link.startswith("copy:")] == ["copy:0", "copy:1"]
    assert 'style="color: #' in html  # Pygments colours inline, no CSS classes
    assert "python" in "".join(parsed.text)  # the language label


def test_code_blocks_returns_the_raw_code_in_order() -> None:
    assert code_blocks(ANSWER) == ['print("hi")', "plain block"]
    nested = "1. step\n\n   ```sh\n   ls -la\n   ```\n"
    assert code_blocks(nested) == ["ls -la"]
    assert code_blocks("no code") == []


def test_an_unclosed_fence_while_streaming_renders_as_code() -> None:
    partial = "Here:\n\n```python\ndef f(x):\n    return x *"
    parsed = parse(render_uncached(partial))
    assert "pre" in parsed.tags
    assert "return x *" in "".join(parsed.text).replace("\xa0", " ")
    assert code_blocks(partial) == ["def f(x):\n    return x *"]


def test_light_and_dark_themes_colour_code_differently() -> None:
    text = "```python\nimport os\n```"
    assert render_markdown(text, "light") != render_markdown(text, "dark")
    assert render_markdown(text, "unknown") == render_markdown(text, "light")


def test_an_unknown_language_is_shown_plain() -> None:
    parsed = parse(render_markdown("```klingon\nQapla'\n```"))
    assert "Qapla'" in "".join(parsed.text)
    assert "klingon" in "".join(parsed.text)


def test_renders_are_cached_on_text_and_theme() -> None:
    text = "cached **answer** " * 50
    first = render_markdown(text, "dark")
    assert render_markdown(text, "dark") is first


MARKUP = st.sampled_from(
    [
        "<script>", "</script>", "<img src=x onerror=alert(1)>", "<b>", "<style>", "<iframe",
        "<a href='javascript:x'>", "```", "```python\n", "`", "**", "_", "~~", "|", "| - |",
        "\n", "\n\n", "# ", "- ", "1. ", "> ", "[", "](", ")", "![", "<", ">", "&", "&amp;",
        "    ", "\t", "---", "<!--", "-->", "<![CDATA[", "\\",
    ]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(MARKUP, st.text(max_size=12)), max_size=40).map("".join))
def test_any_text_renders_without_raw_tags(text: str) -> None:
    for theme in ("light", "dark"):
        html = render_uncached(text, theme)
        parsed = parse(html)
        assert set(parsed.tags) <= ALLOWED_TAGS, set(parsed.tags) - ALLOWED_TAGS
        assert "<script" not in html.lower()
        assert not any(name.startswith("on") for name, _ in parsed.attributes)
        assert not any(link.lower().startswith("javascript:") for link in parsed.links)
    assert isinstance(code_blocks(text), list)


def test_citations_link_to_their_sources_outside_code_and_links() -> None:
    html_out = render_uncached(
        "Rose 14% [2][3]. See `x[1]`, [the site [1]](https://example.org) and [9].",
        "light",
        3,
    )
    assert '<a href="source:2">[2]</a><a href="source:3">[3]</a>' in html_out
    assert "x[1]</code>" in html_out  # code is left alone
    assert '<a href="https://example.org">the site [1]</a>' in html_out
    assert "and [9]." in html_out  # not a source of this answer
    assert "source:" not in render_uncached("Plain [1].", "light")  # no sources: no links
