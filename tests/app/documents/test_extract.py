"""Reading documents into sections: real PDFs, Word files, Markdown, HTML, CSV, text and code,
and every kind of file that can't be read failing in words that name it."""

from __future__ import annotations

import codecs
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pypdf import PdfReader, PdfWriter

from app.documents.extract import (
    CSV_ROWS_PER_SECTION,
    Section,
    csv_sections,
    decode_text,
    html_sections,
    kind_for,
    markdown_sections,
    open_document,
)
from app.errors import DocumentError
from tests.support.documents import (
    make_binary_file,
    make_broken_pdf,
    make_docx,
    make_encrypted_pdf,
    make_image_only_pdf,
    make_pdf,
    make_zip_not_docx,
    sample_pages,
    truncated_copy,
)


def read(path: Path) -> list[Section]:
    return list(open_document(path).sections())


def read_text_file(tmp_path: Path, name: str, text: str) -> list[Section]:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return read(path)


def document_error(path: Path) -> str:
    """The message of the DocumentError that opening and reading ``path`` raises."""
    with pytest.raises(DocumentError) as caught:
        read(path)
    message = str(caught.value)
    assert message.startswith(path.name), message
    return message


# ------------------------------------------------------------------ kinds


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("report.pdf", "pdf"),
        ("REPORT.PDF", "pdf"),
        ("letter.docx", "docx"),
        ("README.md", "markdown"),
        ("notes.markdown", "markdown"),
        ("page.htm", "html"),
        ("notes.txt", "text"),
        ("server.log", "text"),
        ("table.tsv", "csv"),
        ("main.py", "code"),
        ("lib.rs", "code"),
        ("config.yaml", "code"),
        ("photo.jpg", None),
        ("old.doc", None),
        ("Makefile", None),
    ],
)
def test_kind_for_reads_the_suffix_in_any_case(name: str, kind: str | None) -> None:
    assert kind_for(Path(name)) == kind


# -------------------------------------------------------------------- pdf


def test_pdf_pages_keep_their_text_and_page_numbers(tmp_path: Path) -> None:
    pages = sample_pages(5)
    source = open_document(make_pdf(tmp_path / "book.pdf", pages, title="A book"))
    assert (source.kind, source.pages) == ("pdf", 5)  # known before any page is read

    sections = list(source.sections())

    assert [s.page for s in sections] == [1, 2, 3, 4, 5]
    for number, section in enumerate(sections, start=1):
        assert section.heading is None
        assert section.text.startswith(f"Page {number}.")
        assert f"page{number}mark" in section.text
        others = [f"page{n}mark" for n in range(1, 6) if n != number]
        assert not any(marker in section.text for marker in others)
        # Wrapped lines come back as the same words in the same order.
        assert section.text.split() == pages[number - 1].split()


def test_pdf_blank_pages_are_skipped_without_shifting_page_numbers(tmp_path: Path) -> None:
    path = make_pdf(tmp_path / "gaps.pdf", ["first page", "", "third page, café “quoted”"])
    sections = read(path)
    assert [(s.page, s.text) for s in sections] == [
        (1, "first page"),
        (3, "third page, café “quoted”"),
    ]


def test_pdf_with_an_empty_user_password_is_readable(tmp_path: Path) -> None:
    path = make_encrypted_pdf(tmp_path / "locked.pdf", ["open to all"], password="")
    assert PdfReader(path).is_encrypted
    assert [s.text for s in read(path)] == ["open to all"]


def test_pdf_page_that_fails_is_skipped_and_the_rest_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pypdf import PageObject

    original = PageObject.extract_text

    def flaky(page: PageObject, *args: object, **kwargs: object) -> str:
        if "page2mark" in original(page):
            raise ValueError("damaged content stream")
        return original(page)

    monkeypatch.setattr(PageObject, "extract_text", flaky)
    path = make_pdf(tmp_path / "flaky.pdf", sample_pages(3, words=30))
    assert [s.page for s in read(path)] == [1, 3]


def test_pdf_whose_every_page_fails_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pypdf import PageObject

    def broken(page: PageObject, *args: object, **kwargs: object) -> str:
        raise ValueError("damaged content stream")

    monkeypatch.setattr(PageObject, "extract_text", broken)
    path = make_pdf(tmp_path / "rotten.pdf", sample_pages(2, words=30))
    assert "none of its 2 pages" in document_error(path)


def test_pdf_sections_are_read_lazily(tmp_path: Path) -> None:
    path = make_pdf(tmp_path / "long.pdf", sample_pages(4, words=30))
    sections = open_document(path).sections()
    assert next(sections).page == 1  # the first page arrives before the others are read


# ------------------------------------------------------------------- docx


def test_docx_headings_make_heading_paths(tmp_path: Path) -> None:
    path = make_docx(
        tmp_path / "guide.docx",
        [
            ("p", "Foreword before any heading."),
            ("h1", "Install"),
            ("p", "Download the installer."),
            ("h2", "On Linux"),
            ("p", "Run the AppImage."),
            ("h3", "Wayland"),
            ("p", "Works out of the box."),
            ("h2", "On Windows"),
            ("p", "Run setup.exe."),
            ("h1", "Use"),
            ("p", "Open a chat."),
        ],
    )
    sections = read(path)
    assert [(s.heading, s.text) for s in sections] == [
        (None, "Foreword before any heading."),
        ("Install", "Install\n\nDownload the installer."),
        ("Install > On Linux", "On Linux\n\nRun the AppImage."),
        ("Install > On Linux > Wayland", "Wayland\n\nWorks out of the box."),
        ("Install > On Windows", "On Windows\n\nRun setup.exe."),
        ("Use", "Use\n\nOpen a chat."),
    ]
    assert all(s.page is None for s in sections)


def test_docx_title_heads_the_path_and_tables_keep_body_order(tmp_path: Path) -> None:
    path = make_docx(
        tmp_path / "report.docx",
        [
            ("title", "Annual report"),
            ("h1", "Numbers"),
            ("p", "Before the table."),
            ("table", "Region | Sales\nNorth | 10\nSouth | 12"),
            ("p", "After the table."),
        ],
    )
    sections = read(path)
    assert sections[-1] == Section(
        "Numbers\n\nBefore the table.\n\n"
        "Region | Sales\nNorth | 10\nSouth | 12\n\n"
        "After the table.",
        heading="Annual report > Numbers",
    )


# -------------------------------------------------------- markdown and html


MARKDOWN = """\
Intro text.

# Install

Get it.

## On Linux
Run it.

```sh
# not a heading
make
```

Setext title
============

Under setext.

Sub part
--------
Deep.

### Closed ###
x
"""


def test_markdown_heading_paths_skip_code_fences(tmp_path: Path) -> None:
    sections = read_text_file(tmp_path, "notes.md", MARKDOWN)
    assert [s.heading for s in sections] == [
        None,
        "Install",
        "Install > On Linux",
        "Setext title",
        "Setext title > Sub part",
        "Setext title > Sub part > Closed",
    ]
    on_linux = sections[2].text
    assert on_linux.startswith("## On Linux\nRun it.")
    assert "# not a heading\nmake\n```" in on_linux
    assert sections[3].text == "Setext title\n============\n\nUnder setext."
    assert sections[0].text == "Intro text."


def test_markdown_rule_after_a_blank_line_and_list_items_are_not_headings() -> None:
    text = "Para.\n\n---\n\n- item\n---\n    code\n---\nReal\n---\nend"
    assert [s.heading for s in markdown_sections(text)] == [None, "Real"]


HTML = """<!DOCTYPE html>
<html><head><title>Guide &amp; notes — My site</title><style>p { color: red }</style></head>
<body>
<nav>Home</nav>
<script>var x = "<h1>not text</h1>";</script>
<h1>Guide &amp; notes</h1>
<p>First   paragraph
   spans lines.</p>
<p>Caf&eacute; &lt;ok&gt;</p>
<h2>Details</h2>
<ul><li>one</li><li>two</li></ul>
<table><tr><th>Name</th><th>Size</th></tr><tr><td>a</td><td>1</td></tr></table>
<pre>  keep
    indent</pre>
<h1>Second</h1><p>End.</p>
<noscript>enable js</noscript>
</body></html>
"""


def test_html_visible_text_with_heading_paths(tmp_path: Path) -> None:
    sections = read_text_file(tmp_path, "page.html", HTML)
    assert [(s.heading, s.text) for s in sections] == [  # the <nav> is page chrome: dropped
        ("Guide & notes", "Guide & notes\n\nFirst paragraph spans lines.\n\nCafé <ok>"),
        (
            "Guide & notes > Details",
            "Details\n\none\ntwo\n\nName | Size\na | 1\n\n  keep\n    indent",
        ),
        ("Second", "Second\n\nEnd."),
    ]


# ------------------------------------------------------------ csv and text


def test_csv_sections_repeat_the_header_row(tmp_path: Path) -> None:
    rows = ["id,name,note"] + [f'{n},item {n},"line one\nline two"' for n in range(100)]
    sections = read_text_file(tmp_path, "items.csv", "\n".join(rows) + "\n")
    assert len(sections) == 3  # 100 rows in blocks of 40
    for section in sections:
        assert section.text.startswith("id,name,note\n")
        assert section.heading is None
    assert sections[0].text.count('"line one\nline two"') == CSV_ROWS_PER_SECTION
    assert sections[-1].text.endswith('99,item 99,"line one\nline two"')


def test_csv_delimiter_is_detected_and_tsv_falls_back_to_tabs(tmp_path: Path) -> None:
    semicolons = "a;b\n" + "".join(f"{n};{n * 2}\n" for n in range(50))
    sections = list(csv_sections(semicolons))
    assert [s.text.split("\n")[:2] for s in sections] == [["a;b", "0;0"], ["a;b", "40;80"]]
    tsv = read_text_file(tmp_path, "t.tsv", "x\ty\n1\t2\n")
    assert [s.text for s in tsv] == ["x\ty\n1\t2"]


def test_code_and_text_are_one_section_with_newlines_normalised(tmp_path: Path) -> None:
    code = read_text_file(tmp_path, "main.py", "def f():\r\n    return 1\r\n")
    assert code == [Section("def f():\n    return 1\n")]
    assert open_document(tmp_path / "main.py").kind == "code"
    text = read_text_file(tmp_path, "notes.txt", "old\rmac\rlines")
    assert text == [Section("old\nmac\nlines")]


@pytest.mark.parametrize(
    ("data", "text"),
    [
        (codecs.BOM_UTF8 + "héllo".encode(), "héllo"),
        (codecs.BOM_UTF16_LE + "héllo\r\n".encode("utf-16-le"), "héllo\n"),
        (codecs.BOM_UTF16_BE + "héllo".encode("utf-16-be"), "héllo"),
        ("naïve “quotes” €".encode("cp1252"), "naïve “quotes” €"),
        ("ünïcode ✓".encode(), "ünïcode ✓"),
    ],
)
def test_text_encodings_are_detected(tmp_path: Path, data: bytes, text: str) -> None:
    path = tmp_path / "enc.txt"
    path.write_bytes(data)
    assert [s.text for s in read(path)] == [text]


# --------------------------------------------------------- files that fail


def test_unsupported_suffix_is_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "report.xyz"
    path.write_text("hello")
    assert document_error(path) == "report.xyz: Hearth can't read .xyz files."


def test_missing_file_and_folder_are_errors(tmp_path: Path) -> None:
    assert "does not exist" in document_error(tmp_path / "gone.pdf")
    (tmp_path / "folder.md").mkdir()
    assert "not a file" in document_error(tmp_path / "folder.md")


def test_broken_and_truncated_pdfs_are_errors(tmp_path: Path) -> None:
    assert "damaged" in document_error(make_broken_pdf(tmp_path / "broken.pdf"))
    good = make_pdf(tmp_path / "good.pdf", sample_pages(3))
    for keep in (0.2, 0.6, 0.95):
        cut = truncated_copy(good, tmp_path / f"cut-{keep}.pdf", keep=keep)
        document_error(cut)
    not_pdf = tmp_path / "letter.pdf"
    not_pdf.write_text("Dear reader, this is plain text with a .pdf name.")
    assert "not a PDF" in document_error(not_pdf)


def test_encrypted_pdf_is_refused_on_open(tmp_path: Path) -> None:
    path = make_encrypted_pdf(tmp_path / "secret.pdf", ["classified"], password="hunter2")
    with pytest.raises(DocumentError, match=r"^secret\.pdf is password protected"):
        open_document(path)


def test_image_only_pdf_has_no_text_layer(tmp_path: Path) -> None:
    path = make_image_only_pdf(tmp_path / "scan.pdf", pages=3)
    source = open_document(path)  # opens fine: the pages are there
    assert source.pages == 3
    assert "no text layer" in document_error(path)


def test_pdf_without_pages_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "nothing.pdf"
    PdfWriter().write(path)
    assert "no pages" in document_error(path)


@pytest.mark.parametrize("name", ["empty.txt", "empty.pdf", "empty.docx", "empty.md"])
def test_empty_files_are_errors(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(b"")
    assert "is empty" in document_error(path)


@pytest.mark.parametrize("name", ["blank.txt", "blank.md", "blank.html", "blank.csv"])
def test_files_with_only_blank_content_are_empty(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_text("\n  \n\t\n" if name != "blank.html" else "<html><p> </p><script>x</script>")
    source = open_document(path)  # the error comes once the whole text has been seen
    assert "is empty" in document_error(source.path)


def test_corrupt_docx_files_are_errors(tmp_path: Path) -> None:
    zipped = make_zip_not_docx(tmp_path / "archive.docx")
    assert "not a Word document" in document_error(zipped)
    text = tmp_path / "plain.docx"
    text.write_text("just text")
    document_error(text)
    good = make_docx(tmp_path / "good.docx", [("p", "hello " * 500)])
    document_error(truncated_copy(good, tmp_path / "cut.docx", keep=0.5))


def test_docx_without_any_text_is_empty(tmp_path: Path) -> None:
    path = make_docx(tmp_path / "blank.docx", [("p", ""), ("p", "   ")])
    assert "is empty" in document_error(path)


@pytest.mark.parametrize("name", ["photo.txt", "data.csv", "page.html", "script.py"])
def test_binary_file_with_a_text_name_is_not_text(tmp_path: Path, name: str) -> None:
    path = make_binary_file(tmp_path / name)
    with pytest.raises(DocumentError, match=rf"^{name} is not a text file"):
        open_document(path)


def test_control_characters_without_nul_are_not_text(tmp_path: Path) -> None:
    path = tmp_path / "dump.txt"
    path.write_bytes(bytes(range(1, 32)) * 200)
    document_error(path)


def test_files_over_the_size_limit_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "huge.txt"
    path.write_text("x" * 2000)
    with pytest.raises(DocumentError, match=r"^huge\.txt is too large \(2\.0 KB"):
        open_document(path, max_bytes=1000)
    assert read(path) == [Section("x" * 2000)]


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads everything")
def test_unreadable_file_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "private.txt"
    path.write_text("secret")
    path.chmod(0)
    assert "could not be read" in document_error(path)


# --------------------------------------------------- parsers of outside input


@settings(max_examples=200)
@given(st.binary(max_size=600))
def test_decode_text_returns_text_or_a_document_error(data: bytes) -> None:
    try:
        text = decode_text(data, "x.txt")
    except DocumentError as exc:
        assert str(exc).startswith("x.txt ")
    else:
        assert "\r" not in text


@settings(max_examples=200)
@given(st.text(alphabet=st.sampled_from("#=-`~ \t\nab>*1.|"), max_size=300))
def test_markdown_parser_never_crashes_and_keeps_every_line(text: str) -> None:
    sections = markdown_sections(text)
    assert [line for s in sections for line in s.text.split("\n") if line.strip()] == [
        line for line in text.split("\n") if line.strip()
    ]
    for section in sections:
        assert section.text.strip()
        assert section.heading is None or section.heading.strip() == section.heading


@given(st.text(max_size=300))
def test_markdown_and_html_parsers_take_any_text(text: str) -> None:
    for section in markdown_sections(text) + html_sections(text):
        assert section.text.strip()


@given(st.text(alphabet=st.sampled_from('ab,;\t"\n '), max_size=300))
def test_csv_parser_takes_any_text(text: str) -> None:
    for section in csv_sections(text):
        assert section.text.strip()


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_a_damaged_pdf_or_docx_reads_or_fails_in_words(data: st.DataObject) -> None:
    """Bytes flipped or cut anywhere in a real PDF or DOCX: either text comes out, or a
    DocumentError naming the file; never another exception."""
    with tempfile.TemporaryDirectory() as folder:
        kind = data.draw(st.sampled_from(["pdf", "docx"]))
        path = Path(folder) / f"damaged.{kind}"
        if kind == "pdf":
            make_pdf(path, ["First page of text.", "Second page of text."])
        else:
            make_docx(path, [("h1", "Title"), ("p", "A paragraph of text.")])
        raw = bytearray(path.read_bytes())
        for _ in range(data.draw(st.integers(min_value=1, max_value=8))):
            raw[data.draw(st.integers(min_value=0, max_value=len(raw) - 1))] = data.draw(
                st.integers(min_value=0, max_value=255)
            )
        cut = data.draw(st.integers(min_value=1, max_value=len(raw)))
        path.write_bytes(bytes(raw[:cut]))
        try:
            sections = list(open_document(path).sections())
        except DocumentError as exc:
            assert str(exc).startswith(f"damaged.{kind}")
        else:
            assert all(isinstance(s.text, str) for s in sections)


# ------------------------------------------------------- real documentation pages
PAGES = Path(__file__).resolve().parents[2] / "support" / "html"
CHROME = ("Previous topic", "Next topic", "This Page", "Show Source", "Report a Bug",
          "Navigation", "Copyright", "Table of Contents", "Skip to content",
          "Made with Material", "Previous Getting started", "Getting started")  # fmt: skip


def page_sections(name: str) -> list[Section]:
    return html_sections((PAGES / name).read_text(encoding="utf-8"))


def test_a_sphinx_page_keeps_its_content_and_drops_the_navigation() -> None:
    sections = page_sections("sphinx-shelve.html")
    assert [s.heading for s in sections] == [
        "shelve — Python object persistence",
        "shelve — Python object persistence > Restrictions",
        "shelve — Python object persistence > Example",
    ]
    text = "\n".join(s.text for s in sections)
    assert "A “shelf” is a persistent, dictionary-like object." in text
    assert "d = shelve.open(filename)" in text  # code kept, with its lines
    assert "¶" not in text
    for chrome in CHROME:
        assert chrome not in text, chrome


def test_an_mkdocs_page_keeps_headings_tables_as_rows_and_code() -> None:
    sections = page_sections("mkdocs-material.html")
    assert [s.heading for s in sections] == [
        "Configuration",
        "Configuration > Retention",
        "Configuration > Schedule",
    ]
    retention = sections[1].text
    assert "Option | Default | Meaning" in retention.split("\n")
    assert (
        "keep_daily | 7 | Daily snapshots kept. Older ones are merged into weekly ones."
        in retention.split("\n")
    )
    assert 'start_at = "03:30"' in sections[2].text
    text = "\n".join(s.text for s in sections)
    assert "¶" not in text and "Search" not in text
    for chrome in CHROME:
        assert chrome not in text, chrome


def test_a_page_without_content_markup_is_read_by_readability_and_named_by_its_title() -> None:
    sections = page_sections("sqlite-autoinc.html")
    assert [s.heading for s in sections] == [
        "SQLite Autoincrement > 1. Summary",
        "SQLite Autoincrement > 2. Background",
        "SQLite Autoincrement > 3. The AUTOINCREMENT Keyword",
    ]
    text = "\n".join(s.text for s in sections)
    assert "The AUTOINCREMENT keyword imposes extra CPU, memory, disk space" in text
    for menu in ("Download", "License", "Support", "Purchase"):
        assert menu not in text, menu
