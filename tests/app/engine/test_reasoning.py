"""Keeping a reasoning model's thinking apart from its answer while it streams."""

from __future__ import annotations

from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st

from app.engine.reasoning import ReasoningSplitter, partial_suffix_length

THINK = [("<think>", "</think>")]


def run(chunks: list[str], **kwargs: bool) -> list[tuple[str, str]]:
    splitter = ReasoningSplitter(THINK, **kwargs)
    parts = [p for c in chunks for p in splitter.feed(c)] + splitter.flush()
    merged: list[tuple[str, str]] = []
    for kind, text in parts:
        if merged and merged[-1][0] == kind:
            merged[-1] = (kind, merged[-1][1] + text)
        else:
            merged.append((kind, text))
    return merged


def test_thinking_is_separated_from_the_answer() -> None:
    assert run(["<think>Let me add 2 and 2.</think>It is 4."]) == [
        ("reasoning", "Let me add 2 and 2."),
        ("answer", "It is 4."),
    ]


def test_markers_split_across_tokens_are_still_recognised() -> None:
    chunks = ["<th", "ink>", "hm", "m</", "thi", "nk>", "Yes"]
    assert run(chunks) == [("reasoning", "hmm"), ("answer", "Yes")]


def test_prompt_that_opens_the_block_starts_in_reasoning() -> None:
    # Templates like DeepSeek-R1's end the prompt with "<think>\n".
    assert run(["pondering</think>Done"], start_in_reasoning=True) == [
        ("reasoning", "pondering"),
        ("answer", "Done"),
    ]


def test_text_that_only_looks_like_a_marker_start_is_not_lost() -> None:
    assert run(["a < b and <thin", "g>"]) == [("answer", "a < b and <thing>")]


def test_unfinished_thinking_is_kept_as_reasoning() -> None:
    assert run(["<think>still going"]) == [("reasoning", "still going")]


def test_partial_suffix_length() -> None:
    assert partial_suffix_length("hello </th", ["</think>"]) == 4
    assert partial_suffix_length("hello", ["</think>"]) == 0
    assert partial_suffix_length("x<", ["<think>", "<|im_end|>"]) == 1


@given(
    st.lists(st.sampled_from(["a", "b", " ", "<", ">", "/", "think", "<think>", "</think>"])),
    st.data(),
)
def test_any_chunking_of_a_stream_gives_the_same_parts(
    pieces: list[str], data: st.DataObject
) -> None:
    text = "".join(pieces)
    cuts = sorted(data.draw(st.sets(st.integers(0, len(text)))))
    bounds = [0, *cuts, len(text)]
    chunks = [text[a:b] for a, b in pairwise(bounds)]
    assert run(chunks) == run([text])
