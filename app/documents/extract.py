"""Reads a document file (PDF, Word, Markdown, HTML, CSV, text, code) into sections of plain
text that keep their page number or heading path.

Every way a file can fail to be read ends in a `DocumentError` whose message starts with the
file's name and says what is wrong in plain words.
"""

from __future__ import annotations

import codecs
import csv
import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from app.errors import DocumentError as DocumentError  # also importable from here
from app.units import format_bytes

log = logging.getLogger(__name__)

# One line per family of languages and configuration formats.
_CODE_SUFFIXES = " ".join(
    (
        ".py .pyi .pyw .ipynb .js .mjs .cjs .ts .tsx .jsx .vue .svelte",
        ".c .h .cpp .hpp .cc .hh .cxx .hxx .m .mm .java .kt .kts .groovy .gradle .scala .clj",
        ".go .rs .rb .php .pl .pm .cs .fs .vb .swift .dart .lua .r .jl .hs .ml .mli",
        ".ex .exs .erl .elm .zig .nim .d .pas .f .f90 .asm .s",
        ".sh .bash .zsh .fish .ps1 .bat .cmd .sql .graphql .proto",
        ".json .jsonl .yaml .yml .toml .ini .cfg .conf .env .properties .xml .xsd",
        ".css .scss .sass .less .tex .bib .cmake .mk .make .dockerfile .tf .hcl .nix",
    )
).split()

# Lower-case suffix -> kind of document.
KINDS: dict[str, str] = {
    ".pdf": "pdf",
    ".docx": "docx",
    ".md": "markdown",
    ".markdown": "markdown",
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
    ".txt": "text",
    ".text": "text",
    ".rst": "text",
    ".log": "text",
    ".csv": "csv",
    ".tsv": "csv",
    **dict.fromkeys(_CODE_SUFFIXES, "code"),
}

MAX_BYTES = 256 * 1024 * 1024  # larger files are refused before anything is read
DOCX_MAX_UNPACKED = 250_000_000  # a .docx unpacking to more is refused unread
TEXT_SNIFF_BYTES = 64 * 1024  # how much of a text file decides whether it is text at all
CSV_ROWS_PER_SECTION = 40
HEADING_SEPARATOR = " > "


def kind_for(path: Path) -> str | None:
    """The kind of document a file name says it holds, or None when Hearth can't read it."""
    return KINDS.get(path.suffix.lower())


@dataclass(frozen=True)
class Section:
    """A run of a document's text from one place: one PDF page, or the text under one heading."""

    text: str
    page: int | None = None  # 1-based page for PDF, else None
    heading: str | None = None  # heading path "Install > On Linux" (Markdown, DOCX, HTML)


class Source:
    """An opened document; `sections()` reads its text lazily, in document order."""

    def __init__(
        self,
        path: Path,
        kind: str,
        read: Callable[[], Iterator[Section]],
        *,
        pages: int | None = None,
    ) -> None:
        self.path = path
        self.kind = kind
        self.pages = pages  # PDF page count, else None
        self._read = read

    @property
    def name(self) -> str:
        return self.path.name

    def sections(self) -> Iterator[Section]:
        """Yield the sections that hold text; raise DocumentError at the end if none did."""
        produced = False
        for section in self._read():
            if section.text.strip():
                produced = True
                yield section
        if not produced:
            if self.kind == "pdf":
                raise DocumentError(
                    f"{self.name} has no text layer (it looks like scanned images? "
                    "Hearth does not read text in images yet)."
                )
            raise DocumentError(f"{self.name} is empty.")

    def __repr__(self) -> str:
        return f"Source({self.name!r}, kind={self.kind!r}, pages={self.pages!r})"


def open_document(path: Path, *, max_bytes: int = MAX_BYTES) -> Source:
    """Open a document for reading; raise DocumentError naming the file when it can't be read."""
    path = Path(path)
    name = path.name
    kind = kind_for(path)
    if kind is None:
        suffix = path.suffix.lower()
        what = f"{suffix} files" if suffix else "files without an extension"
        raise DocumentError(f"{name}: Hearth can't read {what}.")
    try:
        info = path.stat()
    except FileNotFoundError:
        raise DocumentError(f"{name} does not exist (was it moved or deleted?).") from None
    except OSError as exc:
        raise DocumentError(f"{name} could not be opened: {exc.strerror or exc}.") from None
    if not path.is_file():
        raise DocumentError(f"{name} is not a file.")
    if info.st_size == 0:
        raise DocumentError(f"{name} is empty.")
    if info.st_size > max_bytes:
        raise DocumentError(
            f"{name} is too large ({format_bytes(info.st_size)}; "
            f"Hearth reads documents up to {format_bytes(max_bytes)})."
        )
    if kind == "pdf":
        return _open_pdf(path)
    if kind == "docx":
        return _open_docx(path)
    text = decode_text(_read_bytes(path), name)
    if kind == "markdown":
        return Source(path, kind, lambda: iter(markdown_sections(text)))
    if kind == "html":
        return Source(path, kind, lambda: iter(html_sections(text)))
    if kind == "csv":
        delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
        return Source(path, kind, lambda: csv_sections(text, default_delimiter=delimiter))
    return Source(path, kind, lambda: iter([Section(text)]))


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise DocumentError(f"{path.name} could not be read: {exc.strerror or exc}.") from None


# ------------------------------------------------------------------ text


_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE: its BOM starts the same way
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# C0 controls that never appear in text (tab, newlines, form feed and escape do).
_BINARY_CONTROLS = re.compile("[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f]")


def decode_text(data: bytes, name: str) -> str:
    """Bytes of a text file -> str with "\\n" newlines.

    A BOM decides the encoding; otherwise UTF-8, then Windows-1252. A file whose first 64 KiB
    hold NUL bytes, control characters or bytes neither encoding reads is not text.
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            text = data[len(bom) :].decode(encoding, errors="replace")
            return _normalise_newlines(text)
    head = data[:TEXT_SNIFF_BYTES]
    not_text = DocumentError(f"{name} is not a text file (it holds binary data).")
    if b"\x00" in head:
        raise not_text
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError:
            # Neither reads the whole file: accept it only if its start is clean UTF-8.
            try:
                codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
            except UnicodeDecodeError:
                raise not_text from None
            text = data.decode("utf-8", errors="replace")
    sample = text[: len(head)]
    if len(_BINARY_CONTROLS.findall(sample)) > max(8, len(sample) // 100):
        raise not_text
    return _normalise_newlines(text)


def _normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


# -------------------------------------------------------------- headings


class _HeadingPath:
    """The chain of headings above the current point: a new heading drops those at its level
    and below, so an h2 under an h1 reads "H1 > H2"."""

    def __init__(self) -> None:
        self._stack: list[tuple[int, str]] = []

    def enter(self, level: int, title: str) -> str | None:
        title = " ".join(title.split())
        while self._stack and self._stack[-1][0] >= level:
            self._stack.pop()
        if title:
            self._stack.append((level, title))
        return self.current

    @property
    def current(self) -> str | None:
        return HEADING_SEPARATOR.join(t for _, t in self._stack) or None


def _section_from_lines(lines: list[str], heading: str | None) -> Section | None:
    text = "\n".join(lines).strip("\n")
    return Section(text, heading=heading) if text.strip() else None


# -------------------------------------------------------------- markdown


_ATX = re.compile(r" {0,3}(#{1,6})(?:[ \t]+(.*?))?[ \t]*$")
_ATX_CLOSING = re.compile(r"(?:^|[ \t]+)#+$")
_SETEXT = re.compile(r" {0,3}(=+|-+)[ \t]*$")
_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})(.*)$")
# Lines that cannot be the text of a setext heading: list items, quotes, indented code, tables.
_NOT_SETEXT_TEXT = re.compile(r"(?: {4}|\t| {0,3}(?:[-+*>|]|\d{1,9}[.)])(?:[ \t]|$))")


def markdown_sections(text: str) -> list[Section]:
    """Split Markdown source at its ATX (`## Title`) and setext (underlined) headings.

    Each section keeps its Markdown source, heading line included; `#` lines inside fenced
    code blocks are code, not headings.
    """
    sections: list[Section] = []
    path = _HeadingPath()
    heading: str | None = None
    lines: list[str] = []
    fence: str | None = None  # the opening fence while inside a fenced code block
    prev_is_text = False  # the previous line could be the text of a setext heading

    def flush(upto: int) -> None:
        section = _section_from_lines(lines[:upto], heading)
        if section is not None:
            sections.append(section)
        del lines[:upto]

    for line in text.split("\n"):
        if fence is not None:
            lines.append(line)
            stripped = line.strip()
            if set(stripped) == {fence[0]} and len(stripped) >= len(fence):
                fence = None
            continue
        opened = _FENCE.match(line)
        if opened and not (opened.group(1)[0] == "`" and "`" in opened.group(2)):
            fence = opened.group(1)
            lines.append(line)
            prev_is_text = False
            continue
        atx = _ATX.match(line)
        if atx:
            flush(len(lines))
            title = _ATX_CLOSING.sub("", atx.group(2) or "").strip()
            heading = path.enter(len(atx.group(1)), title)
            lines.append(line)
            prev_is_text = False
            continue
        underline = _SETEXT.match(line)
        if underline and prev_is_text and lines:
            title = lines[-1]
            flush(len(lines) - 1)
            heading = path.enter(1 if underline.group(1)[0] == "=" else 2, title)
            lines.append(line)
            prev_is_text = False
            continue
        lines.append(line)
        prev_is_text = bool(line.strip()) and not _NOT_SETEXT_TEXT.match(line)
    flush(len(lines))
    return sections


# ------------------------------------------------------------------ html


_SKIPPED_TAGS = frozenset({"script", "style", "noscript", "template", "head", "svg", "iframe"})
# Blocks that end a paragraph (a blank line) and those that only end a line.
_PARAGRAPH_TAGS = frozenset(
    " ".join(
        (
            "address article aside blockquote body caption details div dl fieldset figure",
            "footer form h1 h2 h3 h4 h5 h6 header hr html main nav ol p pre section table ul",
        )
    ).split()
)
_LINE_TAGS = frozenset(["br", "dd", "dt", "figcaption", "legend", "li", "summary", "tr"])
_CELL_TAGS = frozenset({"td", "th"})
_HEADING_TAGS = {f"h{n}": n for n in range(1, 7)}


class _HtmlText(HTMLParser):
    """Collects the visible text of an HTML page as lines, split into sections at h1..h6."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.sections: list[Section] = []
        self._path = _HeadingPath()
        self._heading: str | None = None
        self._lines: list[str] = []
        self._line: list[str] = []
        self._skip: list[str] = []  # open elements whose content is dropped
        self._pre = 0
        self._title: list[str] | None = None  # text of the heading being read
        self._title_level = 0
        self._cells_in_row = 0
        self._in_cell = 0  # inside a td/th: its paragraphs and line breaks become spaces

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "body" and "head" in self._skip:  # a <head> that was never closed
            self._skip.clear()
        if tag in _SKIPPED_TAGS:
            self._skip.append(tag)
            return
        if self._skip:
            return
        if tag in _HEADING_TAGS and not self._in_cell:
            self._end_paragraph()
            self._flush()
            self._title = []
            self._title_level = _HEADING_TAGS[tag]
        elif tag in _CELL_TAGS:
            if self._cells_in_row:
                self._line.append(" | ")
            self._cells_in_row += 1
            self._in_cell += 1
        elif self._in_cell and (tag in _PARAGRAPH_TAGS or tag in _LINE_TAGS) and tag != "tr":
            self._line.append(" ")  # a cell's paragraphs stay on its row's line
        elif tag in _PARAGRAPH_TAGS:
            self._end_paragraph()
        elif tag in _LINE_TAGS:
            self._end_line()
        if tag == "tr":
            self._cells_in_row = 0
        elif tag == "pre":
            self._pre += 1
        elif tag == "img":
            alt = dict(attrs).get("alt")
            if alt:
                self.handle_data(f" {alt} ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _SKIPPED_TAGS:  # <script/> opens nothing
            self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED_TAGS:
            if tag in self._skip:
                while self._skip and self._skip.pop() != tag:
                    pass
            return
        if self._skip:
            return
        if tag in _CELL_TAGS:
            self._in_cell = max(0, self._in_cell - 1)
            return
        if tag == "table":
            self._in_cell = 0
        if tag in _HEADING_TAGS and self._title is not None:
            title = "".join(self._title).strip().rstrip("¶#").strip()  # permalink marks
            self._heading = self._path.enter(self._title_level, title)
            self._title = None
            self._end_paragraph()
        elif self._in_cell and (tag in _PARAGRAPH_TAGS or tag in _LINE_TAGS) and tag != "tr":
            self._line.append(" ")
        elif tag in _PARAGRAPH_TAGS:
            self._end_paragraph()
        elif tag in _LINE_TAGS:
            self._end_line()
        if tag == "pre" and self._pre:
            self._pre -= 1

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        if self._title is not None:
            self._title.append(data)
        if self._pre:
            first, *rest = data.split("\n")
            self._line.append(first)
            for line in rest:
                self._lines.append("".join(self._line).rstrip())
                self._line = [line]
        else:
            self._line.append(data)

    def _end_line(self) -> None:
        line = "".join(self._line)
        self._line = []
        line = line.rstrip() if self._pre else " ".join(line.split())
        if line:
            self._lines.append(line)

    def _end_paragraph(self) -> None:
        self._end_line()
        if self._lines and self._lines[-1]:
            self._lines.append("")

    def _flush(self) -> None:
        section = _section_from_lines(self._lines, self._heading)
        if section is not None:
            self.sections.append(section)
        self._lines = []

    def finish(self) -> list[Section]:
        self.close()
        self._end_line()
        self._flush()
        return self.sections


def html_sections(text: str) -> list[Section]:
    """The main content of an HTML page (no navigation, sidebars, footers, scripts or
    styles), split at its headings; entities decoded, paragraphs separated by one blank
    line, a table row on one line."""
    content, title = _page_content(text)
    parser = _HtmlText()
    parser.feed(content)
    sections = parser.finish()
    # A page whose headings never name it ("1. Summary", "2. Background") is named by its
    # <title>, which then leads every heading path: searches and citations need the name.
    titles = {_words(s.heading.split(" > ")[0]) for s in sections if s.heading}
    named = title is not None and any(t and _words(title).startswith(t) for t in titles)
    root = None if named or title is None else title
    return [
        Section(
            re.sub(r"\n{3,}", "\n\n", section.text),
            heading=" > ".join(p for p in (root, section.heading) if p) or None,
        )
        for section in sections
    ]


def _words(text: str) -> str:
    return " ".join(text.lower().split())


# Page chrome that documentation generators (Sphinx, MkDocs, Read the Docs, Docusaurus,
# Javadoc, SQLite's and Git's own) put around the content: dropped before reading.
_CHROME_TAGS = frozenset({"nav", "aside", "footer", "form"})
_CHROME_ROLES = frozenset({"navigation", "search", "contentinfo", "complementary", "banner"})
_CHROME_CLASSES = frozenset({
    "headerlink", "sphinxsidebar", "sphinxsidebarwrapper", "related", "footer", "breadcrumb",
    "breadcrumbs", "wy-breadcrumbs", "wy-nav-side", "rst-footer-buttons", "prev-next",
    "md-sidebar", "md-header", "md-footer", "md-nav", "md-source", "md-search", "navbar",
    "sidebar", "skip-link", "toc-drawer", "related-pages", "pagination-nav",
    "theme-doc-toc-desktop", "theme-doc-sidebar-container", "mainmenu", "submenu",
    "searchmenu", "tagline",
})  # fmt: skip


def _is_chrome(element: Any) -> bool:
    tag = element.tag
    if not isinstance(tag, str):  # a comment or processing instruction
        return False
    if tag in _CHROME_TAGS or element.get("role") in _CHROME_ROLES:
        return True
    classes = element.get("class")
    return bool(classes) and not _CHROME_CLASSES.isdisjoint(classes.split())


def main_content(text: str) -> str:
    """The part of an HTML page that is its content, as HTML: the page's ``<main>`` (or
    ``role="main"``, or its largest ``<article>``) with the chrome inside it dropped; for a
    page that marks none, what readability-lxml finds to be the article, unless that
    leaves out most of the page's text. A page lxml can't read is returned as it is."""
    return _page_content(text)[0]


def _page_content(text: str) -> tuple[str, str | None]:
    """The page's content as HTML (see ``main_content``) and its <title>."""
    try:
        import lxml.html
        from lxml import etree
    except ImportError:  # pragma: no cover - lxml comes with python-docx
        return text, None
    try:
        parser = lxml.html.HTMLParser(encoding="utf-8")
        root = lxml.html.document_fromstring(text.encode("utf-8", "replace"), parser=parser)
    except (etree.ParserError, ValueError):  # empty, or not a page at all
        return text, None
    title_element = root.find(".//title")
    title = " ".join((title_element.text_content() if title_element is not None else "").split())
    chrome = [element for element in root.iter() if _is_chrome(element)]
    for element in chrome:
        if element.getparent() is not None:  # not inside chrome already dropped
            element.drop_tree()  # its tail text stays
    for header in root.xpath("//header[not(ancestor::main) and not(ancestor::article)]"):
        header.drop_tree()  # a site's top bar; an article's own header holds its title
    candidates = root.xpath("//main | //*[@role='main']")
    if not candidates:
        articles = root.xpath("//article")
        candidates = sorted(articles, key=lambda a: -len(a.text_content()))[:1]
    body = root.find("body")
    whole = root if body is None else body
    if candidates and candidates[0].text_content().strip():
        chosen = candidates[0]
    else:
        chosen = _article(whole)
    return str(lxml.html.tostring(chosen, encoding="unicode")), title or None


def _article(whole: Any) -> Any:
    """readability-lxml's guess at the content of a page without markup for it; the whole
    page when the guess keeps less than half of its text (a reference page of short
    entries is all content)."""
    import lxml.html

    total = len(" ".join(whole.text_content().split()))
    if total < 200:
        return whole
    try:
        from readability import Document

        summary = Document(lxml.html.tostring(whole, encoding="unicode")).summary(html_partial=True)
        guess = lxml.html.fragment_fromstring(summary, create_parent="div")
    except Exception:  # readability gives up on odd pages in its own ways
        return whole
    kept = len(" ".join(guess.text_content().split()))
    return guess if kept >= total // 2 else whole


# ------------------------------------------------------------------- csv


def csv_sections(text: str, *, default_delimiter: str = ",") -> Iterator[Section]:
    """Blocks of about 40 rows, each starting with the header row, so that any part of a table
    still says which column is which. The rows keep their source text."""
    lines = text.split("\n")
    try:
        dialect: Any = csv.Sniffer().sniff(text[:8192], delimiters=",;\t|")
    except csv.Error:
        dialect = None
    reader = (
        csv.reader(lines, dialect) if dialect else csv.reader(lines, delimiter=default_delimiter)
    )
    rows: list[str] = []
    consumed = 0
    try:
        for cells in reader:
            source = "\n".join(lines[consumed : reader.line_num])
            consumed = reader.line_num
            if any(cell.strip() for cell in cells):
                rows.append(source)
    except csv.Error:  # not really a table (a stray quote, a huge field): keep it as text
        yield Section(text)
        return
    if not rows:
        return
    header, body = rows[0], rows[1:]
    if not body:
        yield Section(header)
        return
    for start in range(0, len(body), CSV_ROWS_PER_SECTION):
        yield Section("\n".join([header, *body[start : start + CSV_ROWS_PER_SECTION]]))


# ------------------------------------------------------------------- pdf


def _open_pdf(path: Path) -> Source:
    from pypdf import PasswordType, PdfReader
    from pypdf.errors import DependencyError, EmptyFileError

    name = path.name
    try:
        reader = PdfReader(path)
        if reader.is_encrypted:
            try:
                unlocked = reader.decrypt("") != PasswordType.NOT_DECRYPTED
            except (DependencyError, NotImplementedError):
                unlocked = False
            if not unlocked:
                raise DocumentError(
                    f"{name} is password protected; Hearth can't read encrypted PDFs. "
                    "Save a copy without a password and add that instead."
                )
        pages = len(reader.pages)
    except DocumentError:
        raise
    except EmptyFileError:
        raise DocumentError(f"{name} is empty.") from None
    except Exception as exc:  # pypdf raises many kinds of errors on damaged files
        log.info("cannot open PDF %s: %r", path, exc)
        raise DocumentError(f"{name} is damaged or not a PDF and can't be read.") from None
    if pages == 0:
        raise DocumentError(f"{name} has no pages.")

    def read() -> Iterator[Section]:
        failed = 0
        for number in range(1, pages + 1):
            try:
                text = reader.pages[number - 1].extract_text()
            except Exception as exc:  # one bad page must not lose the others
                failed += 1
                log.warning("%s: page %d could not be read: %r", path, number, exc)
                continue
            text = _normalise_newlines(text).replace("\x00", "").strip()
            if text:
                yield Section(text, page=number)
        if failed == pages:
            raise DocumentError(f"{name} is damaged: none of its {pages} pages could be read.")

    return Source(path, "pdf", read, pages=pages)


# ------------------------------------------------------------------ docx


_HEADING_STYLE = re.compile(r"heading\s*(\d)", re.IGNORECASE)


def _open_docx(path: Path) -> Source:
    import docx
    from docx.table import Table

    name = path.name
    _check_unpacked_size(path)
    try:
        document = docx.Document(str(path))
    except Exception as exc:  # a bad zip, a missing part, broken XML: all the same to the user
        log.info("cannot open DOCX %s: %r", path, exc)
        raise DocumentError(
            f"{name} is damaged or not a Word document and can't be read."
        ) from None

    def read() -> Iterator[Section]:
        heading_path = _HeadingPath()
        heading: str | None = None
        blocks: list[str] = []
        for item in document.iter_inner_content():
            if isinstance(item, Table):
                table = _docx_table_text(item)
                if table:
                    blocks.append(table)
                continue
            text = item.text.strip()
            level = _docx_heading_level(item)
            if level is not None and text:
                section = _section_from_lines(["\n\n".join(blocks)], heading)
                if section is not None:
                    yield section
                blocks = []
                heading = heading_path.enter(level, text)
            if text:
                blocks.append(text)
        section = _section_from_lines(["\n\n".join(blocks)], heading)
        if section is not None:
            yield section

    return Source(path, "docx", read)


def _check_unpacked_size(path: Path) -> None:
    """Refuse a .docx that would unpack to more than DOCX_MAX_UNPACKED (a zip bomb) before
    anything is inflated. The sizes a zip declares are a real bound: Python's zipfile
    stops each member at its declared size."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise DocumentError(
            f"{path.name} is damaged or not a Word document and can't be read."
        ) from None
    unpacked = sum(member.file_size for member in members)
    if unpacked > DOCX_MAX_UNPACKED or len(members) > 10_000:
        raise DocumentError(
            f"{path.name} is refused: it unpacks to {format_bytes(unpacked)} in "
            f"{len(members):,} parts, more than a Word document holds (Hearth reads up to "
            f"{format_bytes(DOCX_MAX_UNPACKED)}). It may be a zip bomb."
        )


def _docx_heading_level(paragraph: Any) -> int | None:
    """0 for a Title, 1..9 for headings (by style name or outline level), None for body text."""
    style = paragraph.style
    name = style.name if style is not None else ""
    if name == "Title":
        return 0
    match = _HEADING_STYLE.fullmatch(name or "")
    if match:
        return int(match.group(1))
    levels = paragraph._p.xpath("./w:pPr/w:outlineLvl/@w:val")
    while not levels and style is not None:
        levels = style.element.xpath("./w:pPr/w:outlineLvl/@w:val")
        style = style.base_style
    if levels and str(levels[0]).isdigit() and int(levels[0]) < 9:
        return int(levels[0]) + 1
    return None


def _docx_table_text(table: Any) -> str:
    rows: list[str] = []
    for row in table.rows:
        cells: list[str] = []
        seen: set[int] = set()
        for cell in row.cells:
            if id(cell._tc) in seen:  # a merged cell is listed once per grid column
                continue
            seen.add(id(cell._tc))
            cells.append(" ".join(cell.text.split()))
        if any(cells):
            rows.append(" | ".join(cells))
    return "\n".join(rows)
