"""Checks bench/corpus_html/questions.json against the installed SQLite HTML docs.

Every question must have an id, a kind ("terms" or "plain"), a question, a gold page (a
file name relative to the corpus root, inside the subset of bench/corpus_html/corpus.json)
and an evidence phrase that occurs in the gold page's visible text: tags stripped with the
stdlib html.parser (script, style, head and svg content dropped, entities decoded),
whitespace collapsed, compared case-insensitively. Ids must be unique and the two kinds
equally many. Independent of Hearth's own HTML extraction on purpose.

Usage:  .venv/bin/python bench/check_html_questions.py
Exits 1 and lists every problem if any question fails.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent / "corpus_html"
CORPUS = json.loads((HERE / "corpus.json").read_text(encoding="utf-8"))
ROOT = Path(CORPUS["root"])
KINDS = ("terms", "plain")
_INVISIBLE = frozenset({"script", "style", "head", "svg", "title", "noscript", "template"})


class _Visible(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _INVISIBLE:
            self.hidden += 1
        else:
            self.parts.append(" ")  # a tag boundary separates words

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _INVISIBLE and self.hidden:
            self.hidden -= 1
        else:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


def normalise(text: str) -> str:
    """Whitespace collapsed to single spaces, lower case."""
    return " ".join(text.split()).lower()


def visible_text(path: Path) -> str:
    """The page's visible text, normalised."""
    parser = _Visible()
    parser.feed(path.read_text(encoding="utf-8", errors="replace"))
    parser.close()
    return normalise("".join(parser.parts))


def subset_pages() -> list[str]:
    """The corpus subset, as paths relative to the root, sorted."""
    found: set[str] = set()
    for pattern in CORPUS["include"]:
        matches = sorted(ROOT.glob(pattern))
        if not matches:
            raise SystemExit(f"{pattern!r} matches nothing under {ROOT}")
        found.update(str(p.relative_to(ROOT)) for p in matches if p.is_file())
    return sorted(found)


def load_questions() -> list[dict[str, Any]]:
    questions: list[dict[str, Any]] = json.loads(
        (HERE / "questions.json").read_text(encoding="utf-8")
    )
    return questions


def problems(questions: list[dict[str, Any]], pages: list[str]) -> list[str]:
    out: list[str] = []
    in_subset = set(pages)
    texts: dict[str, str] = {}
    for n, ids in Counter(q.get("id") for q in questions).items():
        if ids > 1:
            out.append(f"id {n!r} used {ids} times")
    for q in questions:
        qid = q.get("id", "?")
        missing = [k for k in ("id", "kind", "question", "gold", "evidence") if not q.get(k)]
        if missing:
            out.append(f"{qid}: missing {', '.join(missing)}")
            continue
        if q["kind"] not in KINDS:
            out.append(f"{qid}: kind {q['kind']!r} is not one of {KINDS}")
        if q["gold"] not in in_subset:
            out.append(f"{qid}: gold page {q['gold']!r} is not in the corpus subset")
            continue
        if q["gold"] not in texts:
            texts[q["gold"]] = visible_text(ROOT / q["gold"])
        if normalise(q["evidence"]) not in texts[q["gold"]]:
            out.append(f"{qid}: evidence {q['evidence']!r} not in the visible text of {q['gold']}")
    kinds = Counter(q.get("kind") for q in questions)
    if kinds["terms"] != kinds["plain"]:
        out.append(f"unbalanced kinds: {dict(kinds)}")
    return out


def main() -> None:
    if not ROOT.is_dir():
        raise SystemExit(f"{ROOT} is missing: sudo apt-get install -y {CORPUS['package']}")
    pages = subset_pages()
    questions = load_questions()
    found = problems(questions, pages)
    if found:
        print(f"FAILED: {len(found)} problem(s) in {len(questions)} questions", file=sys.stderr)
        for line in found:
            print(f"  {line}", file=sys.stderr)
        raise SystemExit(1)
    kinds = Counter(q["kind"] for q in questions)
    print(
        f"ok: {len(questions)} questions ({kinds['terms']} terms, {kinds['plain']} plain) over "
        f"{len({q['gold'] for q in questions})} gold pages; subset of {len(pages)} pages"
    )


if __name__ == "__main__":
    main()
