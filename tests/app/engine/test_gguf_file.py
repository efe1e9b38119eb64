"""Reading GGUF headers: real models, broken files, hostile bytes and prefixes of files."""

from __future__ import annotations

import os
import struct
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import gguf
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.engine.gguf_file import (
    FILE_TYPES,
    GGML_TYPES,
    MAX_HEADER_BYTES,
    ArraySummary,
    GGUFError,
    GGUFHeader,
    GGUFIncomplete,
    parse_header,
    read_header,
    validate_file,
)
from app.errors import HearthError
from tests.conftest import GgufFiles
from tests.support.gguf_builder import CHATML_TEMPLATE, VOCAB_SIZE

# ------------------------------------------------- hand-made headers
# Value type ids of the GGUF format.
U8, U32, STRING, ARRAY, F64 = 0, 4, 8, 9, 12


def _str(text: str | bytes) -> bytes:
    raw = text.encode() if isinstance(text, str) else text
    return struct.pack("<Q", len(raw)) + raw


def kv(key: str | bytes, vtype: int, payload: bytes) -> bytes:
    return _str(key) + struct.pack("<I", vtype) + payload


def kv_u32(key: str, value: int) -> bytes:
    return kv(key, U32, struct.pack("<I", value))


def kv_str(key: str, value: str | bytes) -> bytes:
    return kv(key, STRING, _str(value))


def array(item_type: int, length: int, items: bytes = b"") -> bytes:
    return struct.pack("<IQ", item_type, length) + items


def tensor(name: str | bytes, shape: tuple[int, ...], ggml_type: int = 0, offset: int = 0) -> bytes:
    dims = struct.pack(f"<I{len(shape)}Q", len(shape), *shape)
    return _str(name) + dims + struct.pack("<IQ", ggml_type, offset)


def header(
    kvs: Sequence[bytes] = (),
    tensors: Sequence[bytes] = (),
    *,
    version: int = 3,
    n_kv: int | None = None,
    n_tensors: int | None = None,
) -> bytes:
    counts = struct.pack(
        "<QQ",
        len(tensors) if n_tensors is None else n_tensors,
        len(kvs) if n_kv is None else n_kv,
    )
    return b"GGUF" + struct.pack("<I", version) + counts + b"".join(kvs) + b"".join(tensors)


def refused(data: bytes, source: str = "model.gguf") -> str:
    """The message parse_header refuses ``data`` with (and never an incomplete-prefix signal)."""
    with pytest.raises(GGUFError) as caught:
        parse_header(data, source=source)
    assert not isinstance(caught.value, GGUFIncomplete), caught.value
    return str(caught.value)


def refused_file(path: Path) -> str:
    """The message validate_file refuses the file at ``path`` with."""
    with pytest.raises(GGUFError) as caught:
        validate_file(path)
    assert not isinstance(caught.value, GGUFIncomplete)
    return str(caught.value)


def write_with_gguf(path: Path, fill: Callable[[gguf.GGUFWriter], None]) -> Path:
    """A GGUF written by the reference writer, with whatever ``fill`` adds to it."""
    writer = gguf.GGUFWriter(str(path), "llama")
    fill(writer)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


@pytest.fixture(scope="module")
def tiny_bytes(tiny_model: Path) -> bytes:
    return tiny_model.read_bytes()


@pytest.fixture(scope="module")
def tiny_header(tiny_model: Path) -> GGUFHeader:
    return read_header(tiny_model)


# ------------------------------------------------------ the tiny model
def test_tiny_model_header_gives_architecture_shape_template_and_vocabulary(
    tiny_header: GGUFHeader,
) -> None:
    h = tiny_header
    assert h.version == 3
    assert h.architecture == "llama"
    assert h.name == "tiny-llama"
    assert h.block_count == 2
    assert h.embedding_length == 64
    assert h.head_count == 4
    assert h.head_count_kv == 4
    assert h.context_length == 2048
    assert h.arch_value("feed_forward_length") == 128
    assert h.arch_value("no_such_key") is None
    assert h.chat_template == CHATML_TEMPLATE
    assert h.vocab_size == VOCAB_SIZE == 260
    assert h.file_type_name == "F32"
    assert h.alignment == 32
    assert h.data_offset % 32 == 0
    assert h.header_bytes <= h.data_offset < h.header_bytes + 32


def test_tiny_model_tensors_and_offsets_match_the_reference_reader(
    tiny_model: Path, tiny_header: GGUFHeader
) -> None:
    reader = gguf.GGUFReader(str(tiny_model))
    h = tiny_header
    assert h.data_offset == reader.data_offset
    assert [t.name for t in h.tensors] == [t.name for t in reader.tensors]
    assert [h.data_offset + t.offset for t in h.tensors] == [t.data_offset for t in reader.tensors]
    assert [t.n_bytes for t in h.tensors] == [t.n_bytes for t in reader.tensors]
    assert [t.shape for t in h.tensors] == [tuple(int(d) for d in t.shape) for t in reader.tensors]
    assert [t.ggml_type for t in h.tensors] == [int(t.tensor_type) for t in reader.tensors]
    assert h.parameter_count == sum(int(np.size(t.data)) for t in reader.tensors)
    assert h.tensor_data_bytes == tiny_model.stat().st_size - h.data_offset


def test_tiny_model_metadata_values_match_the_reference_reader(
    tiny_model: Path, tiny_header: GGUFHeader
) -> None:
    reader = gguf.GGUFReader(str(tiny_model))
    expected = {k: f.contents() for k, f in reader.fields.items() if not k.startswith("GGUF.")}
    assert tiny_header.metadata == expected


def test_model_without_template_has_no_chat_template(gguf_files: GgufFiles) -> None:
    assert read_header(gguf_files.without_template()).chat_template is None


def test_chat_template_of_20_kb_is_kept_whole(gguf_files: GgufFiles) -> None:
    template = "{{ messages }}" + "x" * 20_000
    assert read_header(gguf_files.tiny(chat_template=template)).chat_template == template


def test_grouped_query_model_reports_fewer_kv_heads(gguf_files: GgufFiles) -> None:
    h = read_header(gguf_files.tiny(heads=8, kv_heads=2, context_length=512))
    assert (h.head_count, h.head_count_kv, h.context_length) == (8, 2, 512)


def test_per_layer_head_counts_give_the_largest_and_kv_defaults_to_heads(tmp_path: Path) -> None:
    path = write_with_gguf(tmp_path / "layers.gguf", lambda w: w.add_head_count([4, 8, 4]))
    h = validate_file(path)
    assert h.arch_value("attention.head_count") == [4, 8, 4]
    assert (h.head_count, h.head_count_kv) == (8, 8)


def test_header_without_tensors_has_no_weights(tmp_path: Path) -> None:
    h = validate_file(write_with_gguf(tmp_path / "vocab-only.gguf", lambda w: None))
    assert h.tensors == ()
    assert (h.parameter_count, h.tensor_data_bytes, h.file_type_name) == (0, 0, None)
    assert h.architecture == "llama"
    assert (h.context_length, h.vocab_size, h.chat_template) == (None, None, None)


def test_long_arrays_are_summarised_and_short_and_nested_ones_kept(tmp_path: Path) -> None:
    def fill(w: gguf.GGUFWriter) -> None:
        w.add_array("test.short", list(range(1024)))
        w.add_array("test.long", list(range(1025)))
        w.add_array("test.words", [f"w{i}" for i in range(5000)])
        w.add_array("test.nested", [[1, 2], [3]])
        w.add_array("test.many_nested", [[i] for i in range(2000)])
        w.add_array("test.flags", [True, False])
        w.add_float64("test.pi", 3.141592653589793)
        w.add_uint64("test.big", 2**63 + 1)

    h = read_header(write_with_gguf(tmp_path / "arrays.gguf", fill))
    assert h.metadata["test.short"] == list(range(1024))
    assert h.metadata["test.long"] == ArraySummary("int32", 1025)
    assert h.metadata["test.words"] == ArraySummary("string", 5000)
    assert h.metadata["test.nested"] == [[1, 2], [3]]
    assert h.metadata["test.many_nested"] == ArraySummary("array", 2000)
    assert h.metadata["test.flags"] == [True, False]
    assert h.metadata["test.pi"] == 3.141592653589793
    assert h.metadata["test.big"] == 2**63 + 1


def test_large_vocabulary_is_counted_without_being_kept(tmp_path: Path) -> None:
    tokens = [f"token-{i}".encode() for i in range(150_000)]
    path = write_with_gguf(tmp_path / "vocab.gguf", lambda w: w.add_token_list(tokens))
    h = validate_file(path)
    assert h.header_bytes > 2 * (1 << 20)  # past the first read, so the reader had to grow
    assert h.vocab_size == 150_000
    assert h.metadata["tokenizer.ggml.tokens"] == ArraySummary("string", 150_000)


def test_custom_alignment_places_the_data_where_the_reference_reader_does(
    tmp_path: Path,
) -> None:
    def fill(w: gguf.GGUFWriter) -> None:
        w.add_custom_alignment(256)
        w.add_tensor("a", np.ones(3, np.float32))
        w.add_tensor("b", np.ones((2, 5), np.float16))

    path = write_with_gguf(tmp_path / "aligned.gguf", fill)
    h = validate_file(path)
    reader = gguf.GGUFReader(str(path))
    assert h.alignment == 256
    assert h.data_offset == reader.data_offset
    assert h.data_offset % 256 == 0
    assert [h.data_offset + t.offset for t in h.tensors] == [t.data_offset for t in reader.tensors]
    assert [(t.type_name, t.n_elements, t.n_bytes) for t in h.tensors] == [
        ("F32", 3, 12),
        ("F16", 10, 20),
    ]
    assert h.file_type_name == "F16"  # no general.file_type: the type holding the most bytes


# ------------------------------------------------------ broken files
BROKEN_FILES = [
    ("wrong_magic", ["wrong-magic.gguf is not a GGUF model file", "b'PK\\x03\\x04'", "ZIP"]),
    ("absurd_metadata", ["absurd.gguf has a damaged tensor list", "4611686018427387904 tensors"]),
    (
        "huge_string",
        ["huge-string.gguf has damaged metadata", "key #1 claims a length of 1152921504606846976"],
    ),
    ("future_version", ["future.gguf uses GGUF version 99", "cannot read"]),
    ("truncated", ["truncated.gguf is truncated", "50% missing", "Download it again"]),
]


@pytest.mark.parametrize(("kind", "words"), BROKEN_FILES, ids=[k for k, _ in BROKEN_FILES])
def test_broken_file_is_refused_in_plain_words(
    gguf_files: GgufFiles, kind: str, words: list[str]
) -> None:
    path: Path = getattr(gguf_files, kind)()
    with pytest.raises(GGUFError) as caught:
        validate_file(path)
    assert isinstance(caught.value, HearthError)
    assert not isinstance(caught.value, GGUFIncomplete)
    for word in words:
        assert word in str(caught.value)


def test_truncated_model_has_a_readable_header_but_fails_validation(gguf_files: GgufFiles) -> None:
    path = gguf_files.truncated()
    h = read_header(path)
    assert h.architecture == "llama"
    message = refused_file(path)
    assert "the header says the weights need 4" in message  # ~470 KB
    assert "but the file has 2" in message  # ~235 KB


def test_file_cut_inside_its_header_is_truncated(tmp_path: Path, tiny_bytes: bytes) -> None:
    path = tmp_path / "cut.gguf"
    path.write_bytes(tiny_bytes[:300])
    message = refused_file(path)
    assert "cut.gguf is truncated" in message
    assert "inside its header" in message


def test_large_header_cut_short_is_truncated(tmp_path: Path) -> None:
    tokens = [f"token-{i}".encode() for i in range(150_000)]
    path = write_with_gguf(tmp_path / "vocab.gguf", lambda w: w.add_token_list(tokens))
    header_bytes = read_header(path).header_bytes
    assert header_bytes > 2 * (1 << 20)
    path.write_bytes(path.read_bytes()[: header_bytes - 1000])
    assert "inside its header" in refused_file(path)


def test_empty_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "empty.gguf").write_bytes(b"")
    assert "empty.gguf is empty" in refused_file(tmp_path / "empty.gguf")


def test_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "folder.gguf").mkdir()
    assert "folder.gguf is a folder" in refused_file(tmp_path / "folder.gguf")


def test_missing_file_is_refused(tmp_path: Path) -> None:
    assert "gone.gguf does not exist" in refused_file(tmp_path / "gone.gguf")


def test_unreadable_file_is_refused(
    tmp_path: Path, tiny_bytes: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "locked.gguf"
    path.write_bytes(tiny_bytes)
    path.chmod(0)

    def forbidden(self: Path, *args: Any, **kwargs: Any) -> Any:
        raise PermissionError(13, "Permission denied", str(self))

    if os.access(path, os.R_OK):  # running as root: permissions do not stop reading
        monkeypatch.setattr(Path, "open", forbidden)
    assert "not allowed to read locked.gguf" in refused_file(path)


# ------------------------------------------------- not GGUF at all
LOOKALIKES = [
    (b"PK\x03\x04" + bytes(60), "a ZIP archive"),
    (b"<!DOCTYPE html><html><body>404 Not Found</body></html>", "an HTML page"),
    (b"\n  <html>", "perhaps a download saved an error page"),
    (struct.pack("<Q", 30) + b'{"__metadata__":{"a":"b"}}    ', "safetensors"),
    (b"\x80\x02}q\x00(X\x05\x00\x00\x00", "PyTorch"),
    (b"version https://git-lfs.github.com/spec/v1\noid sha256:", "Git LFS pointer"),
    (b'{"error": "Repository not found"}', "JSON"),
]


@pytest.mark.parametrize(("data", "hint"), LOOKALIKES, ids=lambda v: repr(v)[:12])
def test_other_formats_are_named_in_the_refusal(data: bytes, hint: str) -> None:
    message = refused(data, source="qwen.gguf")
    assert message.startswith("qwen.gguf is not a GGUF model file (it starts with ")
    assert hint in message


@pytest.mark.parametrize("magic", [b"lmgg", b"tjgg", b"fmgg", b"GGML", b"GGJT"])
def test_pre_gguf_model_is_called_old_and_in_need_of_conversion(magic: bytes) -> None:
    message = refused(magic + bytes(100))
    assert "old GGML model format" in message
    assert "converted" in message


def test_gguf_version_1_is_too_old() -> None:
    assert "version 1, which is too old" in refused(header(version=1))


def test_big_endian_gguf_is_named() -> None:
    data = b"GGUF" + struct.pack(">IQQ", 3, 0, 0)
    assert "big-endian" in refused(data)


def test_gguf_version_2_is_read() -> None:
    h = parse_header(header([kv_str("general.architecture", "llama")], version=2))
    assert (h.version, h.architecture) == (2, "llama")


# ---------------------------------------------- bounds on hostile headers
DAMAGED = [
    ("too many entries", header(n_kv=100_001), "damaged metadata: it claims 100001 entries"),
    ("too many tensors", header(n_tensors=1_000_001), "damaged tensor list: it claims 1000001"),
    (
        "long key",
        header([struct.pack("<Q", 65_537) + b"k" * 65_537]),
        "key #1 claims a length of 65537 bytes",
    ),
    (
        "long string",
        header([kv_str("general.name", "n"), kv_str("general.description", "x" * (1 << 20 | 1))]),
        "damaged metadata: the value of general.description claims a length of 1048577",
    ),
    (
        "long tokenizer string",
        header([kv_str("tokenizer.chat_template", "x" * (8 << 20 | 1))]),
        "the value of tokenizer.chat_template claims a length of 8388609",
    ),
    (
        "long string in a long array",
        header([kv("tokenizer.ggml.tokens", ARRAY, array(STRING, 2000, _str(b"x" * (9 << 20))))]),
        "item #1 of tokenizer.ggml.tokens claims a length of 9437184",
    ),
    ("unknown value type", header([kv("a.b", 13, b"")]), "the value of a.b has an unknown type"),
    (
        "unknown item type",
        header([kv("a.b", ARRAY, array(99, 1))]),
        "the array a.b has an unknown item type (99)",
    ),
    (
        "long array",
        header([kv("a.b", ARRAY, array(U8, 10_000_001))]),
        "the array a.b claims 10000001 items",
    ),
    (
        "deep arrays",
        header([kv("a.b", ARRAY, array(ARRAY, 1, array(ARRAY, 1, array(U8, 0))))]),
        "arrays nested too deeply",
    ),
    ("bad key text", header([kv(b"\xff\xfe", U8, b"\0")]), "key #1 is not valid text"),
    (
        "duplicate key",
        header([kv_u32("a.b", 1), kv_u32("a.b", 2)]),
        "the key 'a.b' appears twice",
    ),
    (
        "alignment not a power of two",
        header([kv_u32("general.alignment", 48)]),
        "general.alignment is 48",
    ),
    (
        "alignment too large",
        header([kv_u32("general.alignment", 1 << 21)]),
        "general.alignment is 2097152",
    ),
    (
        "alignment not a number",
        header([kv_str("general.alignment", "32")]),
        "general.alignment is '32'",
    ),
    ("no dimensions", header(tensors=[tensor("w", ())]), "tensor 'w' claims 0 dimensions"),
    ("nine dimensions", header(tensors=[tensor("w", (1,) * 9)]), "tensor 'w' claims 9 dimensions"),
    (
        "huge dimension",
        header(tensors=[tensor("w", (2**40 + 1,))]),
        "tensor 'w' claims a dimension of 1099511627777",
    ),
    (
        "too many elements",
        header(tensors=[tensor("w", (2**30, 2**21))]),
        "tensor 'w' claims 2251799813685248 elements",
    ),
    (
        "misaligned offset",
        header(tensors=[tensor("w", (4,), offset=16)]),
        "tensor 'w' claims an offset of 16, which is not a multiple of the alignment 32",
    ),
    (
        "absurd offset",
        header(tensors=[tensor("w", (4,), offset=2**60)]),
        "tensor 'w' claims an offset of 1152921504606846976 bytes",
    ),
    (
        "row not whole blocks",
        header(tensors=[tensor("w", (33, 2), ggml_type=2)]),
        "tensor 'w' has rows of 33 values",
    ),
    (
        "duplicate tensor",
        header(tensors=[tensor("w", (4,)), tensor("w", (4,), offset=32)]),
        "the tensor 'w' appears twice",
    ),
    (
        "bad tensor name",
        header(tensors=[tensor(b"\xc3", (4,))]),
        "the name of tensor #1 is not valid text",
    ),
]


@pytest.mark.parametrize(("data", "words"), [d[1:] for d in DAMAGED], ids=[d[0] for d in DAMAGED])
def test_damaged_header_is_refused_naming_the_problem(data: bytes, words: str) -> None:
    message = refused(data)
    assert message.startswith("model.gguf has ")
    assert "damaged" in message
    assert words in message


def test_unknown_tensor_type_names_the_tensor() -> None:
    message = refused(header(tensors=[tensor("blk.0.attn_q.weight", (32,), ggml_type=99)]))
    assert "tensor type this version of Hearth does not know" in message
    assert "type 99 in tensor 'blk.0.attn_q.weight'" in message


def test_header_larger_than_the_cap_is_refused_even_from_a_short_prefix() -> None:
    big = header([kv("a.b", ARRAY, array(F64, 10_000_000))])  # 80 MB of values
    assert MAX_HEADER_BYTES < 10_000_000 * 8
    assert "damaged header" in refused(big[:200])


# ----------------------------------------------------------- prefixes
def test_prefix_shorter_than_the_header_asks_for_more(
    tiny_bytes: bytes, tiny_header: GGUFHeader
) -> None:
    for size in (0, 3, 4, 20, 100, tiny_header.header_bytes - 1):
        with pytest.raises(GGUFIncomplete) as caught:
            parse_header(tiny_bytes[:size])
        assert size < caught.value.needed <= tiny_header.header_bytes


def test_prefix_as_long_as_the_header_is_enough(tiny_bytes: bytes, tiny_header: GGUFHeader) -> None:
    h = parse_header(tiny_bytes[: tiny_header.header_bytes], source="remote.gguf")
    assert h == tiny_header


def test_remote_reader_reaches_the_header_by_following_needed(
    tiny_bytes: bytes, tiny_header: GGUFHeader
) -> None:
    size, rounds = 0, 0
    while True:
        try:
            h = parse_header(tiny_bytes[:size])
            break
        except GGUFIncomplete as incomplete:
            assert incomplete.needed > size
            size = incomplete.needed
            rounds += 1
    assert h == tiny_header
    assert size == tiny_header.header_bytes
    assert rounds < 2_000


# -------------------------------------------------------- type tables
BRIEF_TYPES = (  # noqa: SIM905 (a word list reads better as words)
    "F32 F16 Q4_0 Q4_1 Q5_0 Q5_1 Q8_0 Q8_1 Q2_K Q3_K Q4_K Q5_K Q6_K Q8_K IQ2_XXS IQ2_XS IQ3_XXS "
    "IQ1_S IQ4_NL IQ3_S IQ2_S IQ4_XS I8 I16 I32 I64 F64 IQ1_M BF16 TQ1_0 TQ2_0 MXFP4"
).split()


def test_ggml_type_table_matches_the_gguf_package() -> None:
    known = {int(t): t for t in gguf.GGMLQuantizationType}
    shared = GGML_TYPES.keys() & known.keys()
    assert {name for name, _, _ in GGML_TYPES.values()} >= set(BRIEF_TYPES)
    assert len(shared) >= len(BRIEF_TYPES)
    for type_id in shared:
        name, block_size, block_bytes = GGML_TYPES[type_id]
        assert name == known[type_id].name
        assert (block_size, block_bytes) == gguf.GGML_QUANT_SIZES[known[type_id]]


def test_file_type_table_matches_the_gguf_package() -> None:
    known = {
        int(t): t.name.removeprefix("MOSTLY_").removeprefix("ALL_") for t in gguf.LlamaFileType
    }
    shared = FILE_TYPES.keys() & known.keys()
    assert len(shared) == len(FILE_TYPES)
    for file_type in shared:
        assert FILE_TYPES[file_type] == known[file_type]
    assert FILE_TYPES[15] == "Q4_K_M"


# ------------------------------------------------------------- gemma
@pytest.mark.slow
def test_gemma_header_is_read(gemma_model: Path) -> None:
    h = validate_file(gemma_model)
    assert h.architecture == "gemma3"
    assert h.block_count == 18
    assert h.context_length == 32768
    assert h.chat_template is None
    assert h.vocab_size == 262_144
    assert 2.5e8 < h.parameter_count < 3e8
    assert h.file_type_name == "Q4_K_M"
    assert h.data_offset + h.tensor_data_bytes == gemma_model.stat().st_size


# ----------------------------------------------------- hostile bytes
FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def parses_or_refuses(data: bytes) -> None:
    """parse_header returns a header or raises GGUFError: never any other exception."""
    try:
        parse_header(data)
    except GGUFError as error:
        assert str(error)


@FUZZ
@given(st.binary(max_size=512))
def test_random_bytes_never_raise_anything_but_gguf_error(data: bytes) -> None:
    parses_or_refuses(data)


@FUZZ
@given(
    st.integers(0, 8),
    st.integers(0, 8),
    st.binary(max_size=1024),
)
def test_random_bytes_after_a_valid_start_never_raise_anything_but_gguf_error(
    n_tensors: int, n_kv: int, rest: bytes
) -> None:
    parses_or_refuses(b"GGUF" + struct.pack("<I", 3) + rest)
    parses_or_refuses(header(n_tensors=n_tensors, n_kv=n_kv) + rest)


@FUZZ
@given(data=st.data())
def test_damaged_tiny_model_never_raises_anything_but_gguf_error(
    tiny_bytes: bytes, tiny_header: GGUFHeader, data: st.DataObject
) -> None:
    damaged = bytearray(tiny_bytes)
    last = tiny_header.header_bytes + 64
    for _ in range(data.draw(st.integers(1, 8), label="changes")):
        where = data.draw(st.integers(0, last), label="where")
        damaged[where] = data.draw(st.integers(0, 255), label="byte")
    keep = data.draw(st.one_of(st.none(), st.integers(0, len(damaged))), label="keep")
    parses_or_refuses(bytes(damaged[:keep]))


@FUZZ
@given(data=st.data())
def test_any_prefix_shorter_than_the_header_is_incomplete(
    tiny_bytes: bytes, tiny_header: GGUFHeader, data: st.DataObject
) -> None:
    size = data.draw(st.integers(0, tiny_header.header_bytes - 1), label="size")
    with pytest.raises(GGUFIncomplete) as caught:
        parse_header(tiny_bytes[:size])
    assert size < caught.value.needed <= tiny_header.header_bytes
