"""Writes real document files for tests and benchmarks: PDFs with a text layer (fpdf2),
encrypted and image-only PDFs, Word documents (python-docx), and deliberately broken files."""

from __future__ import annotations

import random
import zipfile
from pathlib import Path

import docx
from fpdf import FPDF
from pypdf import PdfReader, PdfWriter

# fpdf2's core fonts (Helvetica) write Windows-1252 text; these common characters outside it
# become their nearest plain equivalent, anything else becomes "?".
_PLAIN = str.maketrans(
    {
        "\u2010": "-",
        "\u2011": "-",
        "\u2212": "-",
        "\u00a0": " ",
        "\u2009": " ",
        "\u200b": "",
        "\u2192": "->",
        "\u2190": "<-",
        "\u2264": "<=",
        "\u2265": ">=",
        "\t": "    ",
    }
)

_WORDS = " ".join(
    (
        "the a of and to in is that for it as with was on be by this are from at or which an",
        "lamp river stone garden window letter market winter harbor engine signal library",
        "measure careful quiet bright narrow gentle sudden honest distant patient ordinary",
        "builds carries follows writes reads opens keeps turns finds holds",
    )
).split()


def pdf_safe(text: str) -> str:
    """``text`` as fpdf2's core fonts can write it (Windows-1252; others become "?")."""
    return text.translate(_PLAIN).encode("cp1252", errors="replace").decode("cp1252")


def make_pdf(path: Path, pages: list[str], *, title: str | None = None) -> Path:
    """Write a PDF with a real text layer: exactly one PDF page per string in ``pages``.

    Long text wraps at the margins; "\\n" starts a new line. Text that does not fit on the
    page runs past its bottom edge rather than onto another page, so page numbers stay
    exact (text extraction still finds it). An empty string makes a blank page.
    """
    pdf = FPDF(format="A4")
    pdf.core_fonts_encoding = "cp1252"  # the core fonts' WinAnsiEncoding
    pdf.set_auto_page_break(False)
    pdf.set_creator("Hearth tests")
    if title is not None:
        pdf.set_title(pdf_safe(title))
    for text in pages:
        pdf.add_page()
        pdf.set_font("Helvetica", size=10)
        if text:
            pdf.multi_cell(0, 5, pdf_safe(text), new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))
    return path


def make_encrypted_pdf(path: Path, pages: list[str], password: str = "secret") -> Path:
    """A PDF that needs ``password`` to open (RC4-128: pypdf reads and writes it with no
    extra cryptography package)."""
    make_pdf(path, pages)
    writer = PdfWriter(clone_from=PdfReader(path))  # the reader holds the file in memory
    writer.encrypt(user_password=password, owner_password=password + "-owner", algorithm="RC4-128")
    writer.write(path)
    return path


def make_image_only_pdf(path: Path, pages: int = 2) -> Path:
    """A valid PDF whose pages hold only drawn shapes, as a scan does: no text layer."""
    pdf = FPDF(format="A4")
    for number in range(pages):
        pdf.add_page()
        pdf.set_fill_color(40 + 30 * number, 90, 160)
        pdf.rect(20, 20, 170, 60, style="F")
        pdf.ellipse(40, 100, 120, 80, style="D")
        pdf.line(20, 200, 190, 260)
    pdf.output(str(path))
    return path


def make_docx(path: Path, blocks: list[tuple[str, str]]) -> Path:
    """Write a Word document from ("title" | "h1".."h9" | "p" | "table", text) blocks.

    For "table", rows are split by "\\n" and cells by "|".
    """
    document = docx.Document()
    for kind, text in blocks:
        if kind == "title":
            document.add_heading(text, level=0)
        elif kind.startswith("h") and kind[1:].isdigit():
            document.add_heading(text, level=int(kind[1:]))
        elif kind == "p":
            document.add_paragraph(text)
        elif kind == "table":
            rows = [[cell.strip() for cell in row.split("|")] for row in text.split("\n")]
            table = document.add_table(rows=len(rows), cols=max(len(row) for row in rows))
            for row_cells, row in zip(table.rows, rows, strict=True):
                for cell, value in zip(row_cells.cells, row, strict=False):
                    cell.text = value
        else:
            raise ValueError(f"unknown block kind {kind!r}")
    document.save(str(path))
    return path


def sample_pages(count: int, *, words: int = 350, seed: int = 0) -> list[str]:
    """``count`` pages of made-up prose in paragraphs; page N starts "Page N." and holds
    the marker word ``pageNmark`` so a test can tell which page a passage came from."""
    rng = random.Random(seed)
    pages: list[str] = []
    for number in range(1, count + 1):
        sentences: list[str] = [f"Page {number}. This page holds the marker page{number}mark."]
        total = 0
        while total < words:
            length = rng.randint(6, 18)
            sentence = " ".join(rng.choice(_WORDS) for _ in range(length))
            sentences.append(sentence[0].upper() + sentence[1:] + ".")
            total += length
        paragraphs = [" ".join(sentences[i : i + 5]) for i in range(0, len(sentences), 5)]
        pages.append("\n\n".join(paragraphs))
    return pages


# ------------------------------------------------------------ broken files


def truncated_copy(path: Path, dest: Path, *, keep: float = 0.5) -> Path:
    """The first ``keep`` fraction of ``path`` written to ``dest`` (a download cut short)."""
    data = path.read_bytes()
    dest.write_bytes(data[: int(len(data) * keep)])
    return dest


def make_broken_pdf(path: Path) -> Path:
    """A file that starts like a PDF and then holds nothing a PDF reader can use."""
    path.write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R\n")
    return path


def make_zip_not_docx(path: Path) -> Path:
    """A valid zip archive with no Word document inside, named as given (e.g. ``x.docx``)."""
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("notes.txt", "this is a zip, not a Word document\n")
    return path


def make_binary_file(path: Path, size: int = 4096, *, seed: int = 0) -> Path:
    """Bytes that are no text (NULs and all), e.g. an image renamed to ``photo.txt``."""
    rng = random.Random(seed)
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + rng.randbytes(size))
    return path
