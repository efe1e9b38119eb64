"""Reads the header of a GGUF model file (v2/v3, little-endian) strictly and within fixed bounds.

Works on a local file or on a prefix of its bytes (such as the first megabytes fetched over HTTP).
"""

from __future__ import annotations

import os
import struct
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TypeAlias

from app.errors import HearthError

# ggml type id -> (name, elements per block, bytes per block), as in gguf-py's
# GGMLQuantizationType and GGML_QUANT_SIZES.
GGML_TYPES: dict[int, tuple[str, int, int]] = {
    0: ("F32", 1, 4),
    1: ("F16", 1, 2),
    2: ("Q4_0", 32, 18),
    3: ("Q4_1", 32, 20),
    6: ("Q5_0", 32, 22),
    7: ("Q5_1", 32, 24),
    8: ("Q8_0", 32, 34),
    9: ("Q8_1", 32, 40),
    10: ("Q2_K", 256, 84),
    11: ("Q3_K", 256, 110),
    12: ("Q4_K", 256, 144),
    13: ("Q5_K", 256, 176),
    14: ("Q6_K", 256, 210),
    15: ("Q8_K", 256, 292),
    16: ("IQ2_XXS", 256, 66),
    17: ("IQ2_XS", 256, 74),
    18: ("IQ3_XXS", 256, 98),
    19: ("IQ1_S", 256, 50),
    20: ("IQ4_NL", 32, 18),
    21: ("IQ3_S", 256, 110),
    22: ("IQ2_S", 256, 82),
    23: ("IQ4_XS", 256, 136),
    24: ("I8", 1, 1),
    25: ("I16", 1, 2),
    26: ("I32", 1, 4),
    27: ("I64", 1, 8),
    28: ("F64", 1, 8),
    29: ("IQ1_M", 256, 56),
    30: ("BF16", 1, 2),
    34: ("TQ1_0", 256, 54),
    35: ("TQ2_0", 256, 66),
    39: ("MXFP4", 32, 17),
    40: ("NVFP4", 64, 36),
    41: ("Q1_0", 128, 18),
}

# general.file_type (llama_ftype, gguf-py's LlamaFileType) -> name.
FILE_TYPES: dict[int, str] = {
    0: "F32",
    1: "F16",
    2: "Q4_0",
    3: "Q4_1",
    7: "Q8_0",
    8: "Q5_0",
    9: "Q5_1",
    10: "Q2_K",
    11: "Q3_K_S",
    12: "Q3_K_M",
    13: "Q3_K_L",
    14: "Q4_K_S",
    15: "Q4_K_M",
    16: "Q5_K_S",
    17: "Q5_K_M",
    18: "Q6_K",
    19: "IQ2_XXS",
    20: "IQ2_XS",
    21: "Q2_K_S",
    22: "IQ3_XS",
    23: "IQ3_XXS",
    24: "IQ1_S",
    25: "IQ4_NL",
    26: "IQ3_S",
    27: "IQ3_M",
    28: "IQ2_S",
    29: "IQ2_M",
    30: "IQ4_XS",
    31: "IQ1_M",
    32: "BF16",
    36: "TQ1_0",
    37: "TQ2_0",
    38: "MXFP4_MOE",
    39: "NVFP4",
    40: "Q1_0",
}

# Bounds: anything past them is refused as damaged rather than read.
MAX_HEADER_BYTES = 64 << 20  # gemma-3 with its 262k-token vocabulary needs 6.5 MB
MAX_TENSORS = 1_000_000
MAX_KV = 100_000
MAX_KEY_BYTES = 65_536
MAX_STRING_BYTES = 1 << 20
MAX_TOKENIZER_STRING_BYTES = 8 << 20  # values under "tokenizer." (chat templates, ...)
MAX_ARRAY_LENGTH = 10_000_000
MAX_ARRAY_DEPTH = 2
KEPT_ARRAY_ITEMS = 1024
MAX_DIMS = 8
MAX_DIM = 2**40
MAX_ELEMENTS = 2**50
MAX_OFFSET = 2**54
MAX_ALIGNMENT = 1 << 20
DEFAULT_ALIGNMENT = 32

_MAGIC = b"GGUF"
_STRING = 8
_ARRAY = 9
_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")
_ARRAY_HEAD = struct.Struct("<IQ")  # item type, length

# metadata value type id -> (name, struct code); strings and arrays are handled apart.
_SCALARS: dict[int, tuple[str, str]] = {
    0: ("uint8", "B"),
    1: ("int8", "b"),
    2: ("uint16", "H"),
    3: ("int16", "h"),
    4: ("uint32", "I"),
    5: ("int32", "i"),
    6: ("float32", "f"),
    7: ("bool", "?"),
    10: ("uint64", "Q"),
    11: ("int64", "q"),
    12: ("float64", "d"),
}
_SCALAR_STRUCTS = {vtype: struct.Struct("<" + code) for vtype, (_, code) in _SCALARS.items()}
_VALUE_TYPE_NAMES = {vtype: name for vtype, (name, _) in _SCALARS.items()} | {
    _STRING: "string",
    _ARRAY: "array",
}

_TENSOR_LAYOUTS = {n: struct.Struct(f"<{n}QIQ") for n in range(1, MAX_DIMS + 1)}


class GGUFError(HearthError):
    """A file is not a GGUF model Hearth can read: another format, damaged or truncated."""


class GGUFIncomplete(GGUFError):
    """The bytes given end before the header does; ``needed`` is a lower bound on the prefix."""

    def __init__(self, message: str, needed: int) -> None:
        super().__init__(message)
        self.needed = needed


@dataclass(frozen=True)
class ArraySummary:
    """An array too long to keep (a 150k-token vocabulary): its item type and length."""

    item_type: str
    length: int


MetadataValue: TypeAlias = int | float | bool | str | list["MetadataValue"] | ArraySummary


@dataclass(frozen=True)
class TensorInfo:
    """One tensor as the header describes it; ``offset`` is relative to the data section."""

    name: str
    shape: tuple[int, ...]
    ggml_type: int
    type_name: str
    offset: int
    n_elements: int
    n_bytes: int


@dataclass(frozen=True)
class GGUFHeader:
    """Everything before the tensor data: metadata, tensor list and where the data starts."""

    version: int
    metadata: dict[str, MetadataValue]
    tensors: tuple[TensorInfo, ...]
    alignment: int
    data_offset: int
    header_bytes: int

    @property
    def architecture(self) -> str | None:
        value = self.metadata.get("general.architecture")
        return value if isinstance(value, str) else None

    @property
    def name(self) -> str | None:
        value = self.metadata.get("general.name")
        return value if isinstance(value, str) else None

    def arch_value(self, key: str) -> MetadataValue | None:
        """The architecture's own value for ``key``, e.g. ``arch_value("context_length")``."""
        architecture = self.architecture
        if architecture is None:
            return None
        return self.metadata.get(f"{architecture}.{key}")

    @property
    def context_length(self) -> int | None:
        return _whole(self.arch_value("context_length"))

    @property
    def block_count(self) -> int | None:
        return _whole(self.arch_value("block_count"))

    @property
    def embedding_length(self) -> int | None:
        return _whole(self.arch_value("embedding_length"))

    @property
    def head_count(self) -> int | None:
        return _largest(self.arch_value("attention.head_count"))

    @property
    def head_count_kv(self) -> int | None:
        count = _largest(self.arch_value("attention.head_count_kv"))
        return self.head_count if count is None else count

    @property
    def chat_template(self) -> str | None:
        value = self.metadata.get("tokenizer.chat_template")
        return value if isinstance(value, str) else None

    @property
    def parameter_count(self) -> int:
        return sum(t.n_elements for t in self.tensors)

    @property
    def tensor_data_bytes(self) -> int:
        return max((t.offset + t.n_bytes for t in self.tensors), default=0)

    @property
    def file_type_name(self) -> str | None:
        file_type = _whole(self.metadata.get("general.file_type"))
        if file_type is not None and file_type in FILE_TYPES:
            return FILE_TYPES[file_type]
        if not self.tensors:
            return None
        bytes_by_type: Counter[str] = Counter()
        for tensor in self.tensors:
            bytes_by_type[tensor.type_name] += tensor.n_bytes
        return bytes_by_type.most_common(1)[0][0]

    @property
    def vocab_size(self) -> int | None:
        tokens = self.metadata.get("tokenizer.ggml.tokens")
        if isinstance(tokens, list):
            return len(tokens)
        if isinstance(tokens, ArraySummary):
            return tokens.length
        return None


def _whole(value: MetadataValue | None) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _largest(value: MetadataValue | None) -> int | None:
    """A whole number, or the largest of a per-layer list of them."""
    if isinstance(value, list):
        numbers = [n for n in (_whole(v) for v in value) if n is not None]
        return max(numbers) if numbers and len(numbers) == len(value) else None
    return _whole(value)


# ------------------------------------------------------------------ parsing
def parse_header(data: bytes, *, source: str = "file") -> GGUFHeader:
    """Parse the header from ``data``, a prefix of a GGUF file (or all of it).

    Raises GGUFIncomplete when ``data`` ends before the header does, GGUFError when
    the bytes are not a GGUF header Hearth can read.
    """
    return _Parser(data, source).header()


class _Parser:
    def __init__(self, data: bytes, source: str) -> None:
        self.data = data
        self.size = len(data)
        self.pos = 0
        self.source = source

    # ---------------------------------------------------------- primitives
    def incomplete(self, needed: int) -> GGUFError:
        if needed > MAX_HEADER_BYTES:
            return self.too_big()
        return GGUFIncomplete(
            f"{self.source} ends inside its header: {self.size} bytes given,"
            f" at least {needed} needed",
            needed=needed,
        )

    def too_big(self) -> GGUFError:
        return GGUFError(
            f"{self.source} has a damaged header: it runs past {MAX_HEADER_BYTES >> 20} MB,"
            " far more than any real model needs"
        )

    def take(self, n: int) -> int:
        """Advance past ``n`` bytes and return where they start."""
        start = self.pos
        end = start + n
        if end > self.size:
            raise self.incomplete(end)
        self.pos = end
        return start

    def u32(self) -> int:
        value: int = _U32.unpack_from(self.data, self.take(4))[0]
        return value

    def u64(self) -> int:
        value: int = _U64.unpack_from(self.data, self.take(8))[0]
        return value

    def raw_string(self, limit: int, what: str, damaged: str) -> bytes:
        length = self.u64()
        if length > limit:
            raise GGUFError(
                f"{self.source} has {damaged}: {what} claims a length of {length} bytes"
            )
        start = self.take(length)
        return self.data[start : start + length]

    def damaged_metadata(self, problem: str) -> GGUFError:
        return GGUFError(f"{self.source} has damaged metadata: {problem}")

    def damaged_tensors(self, problem: str) -> GGUFError:
        return GGUFError(f"{self.source} has a damaged tensor list: {problem}")

    # -------------------------------------------------------------- header
    def header(self) -> GGUFHeader:
        self.magic()
        version = self.u32()
        self.check_version(version)
        n_tensors = self.u64()
        n_kv = self.u64()
        if n_tensors > MAX_TENSORS:
            raise self.damaged_tensors(f"it claims {n_tensors} tensors")
        if n_kv > MAX_KV:
            raise self.damaged_metadata(f"it claims {n_kv} entries")

        metadata: dict[str, MetadataValue] = {}
        for index in range(1, n_kv + 1):
            raw = self.raw_string(MAX_KEY_BYTES, f"key #{index}", "damaged metadata")
            try:
                key = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise self.damaged_metadata(f"key #{index} is not valid text") from None
            if key in metadata:
                raise self.damaged_metadata(f"the key {key!r} appears twice")
            metadata[key] = self.value(self.u32(), key, depth=0)
            if self.pos > MAX_HEADER_BYTES:
                raise self.too_big()

        alignment = self.alignment(metadata)
        tensors: list[TensorInfo] = []
        names: set[str] = set()
        for index in range(1, n_tensors + 1):
            tensor = self.tensor(index, alignment)
            if tensor.name in names:
                raise self.damaged_tensors(f"the tensor {tensor.name!r} appears twice")
            names.add(tensor.name)
            tensors.append(tensor)
        header_bytes = self.pos
        return GGUFHeader(
            version=version,
            metadata=metadata,
            tensors=tuple(tensors),
            alignment=alignment,
            data_offset=-(-header_bytes // alignment) * alignment,
            header_bytes=header_bytes,
        )

    def magic(self) -> None:
        head = self.data[:4]
        if head == _MAGIC:
            self.pos = 4
            return
        if len(head) < 4 and _MAGIC.startswith(head):
            raise self.incomplete(4)
        if head in _OLD_MAGICS:
            raise GGUFError(
                f"{self.source} uses the old GGML model format from before GGUF;"
                " it must be converted to GGUF (or download a GGUF version of the model)"
            )
        hint = _looks_like(self.data)
        looks = f", which looks like {hint}" if hint else ""
        raise GGUFError(f"{self.source} is not a GGUF model file (it starts with {head!r}{looks})")

    def check_version(self, version: int) -> None:
        if version in (2, 3):
            return
        if version == 1:
            raise GGUFError(
                f"{self.source} uses GGUF version 1, which is too old for this version of"
                " Hearth; download a newer conversion of the model"
            )
        if int.from_bytes(version.to_bytes(4, "little"), "big") in (1, 2, 3):
            raise GGUFError(
                f"{self.source} is a big-endian GGUF file, which this version of Hearth cannot"
                " read; download the usual little-endian version"
            )
        raise GGUFError(
            f"{self.source} uses GGUF version {version}, which this version of Hearth cannot read"
        )

    # ------------------------------------------------------------ metadata
    def value(self, vtype: int, key: str, depth: int) -> MetadataValue:
        scalar = _SCALAR_STRUCTS.get(vtype)
        if scalar is not None:
            value: int | float | bool = scalar.unpack_from(self.data, self.take(scalar.size))[0]
            return value
        if vtype == _STRING:
            raw = self.raw_string(_string_limit(key), f"the value of {key}", "damaged metadata")
            return raw.decode("utf-8", errors="replace")
        if vtype == _ARRAY:
            return self.array(key, depth + 1)
        raise self.damaged_metadata(f"the value of {key} has an unknown type ({vtype})")

    def array(self, key: str, depth: int) -> list[MetadataValue] | ArraySummary:
        if depth > MAX_ARRAY_DEPTH:
            raise self.damaged_metadata(f"the value of {key} has arrays nested too deeply")
        item_type = self.u32()
        length = self.u64()
        type_name = _VALUE_TYPE_NAMES.get(item_type)
        if type_name is None:
            raise self.damaged_metadata(f"the array {key} has an unknown item type ({item_type})")
        if length > MAX_ARRAY_LENGTH:
            raise self.damaged_metadata(f"the array {key} claims {length} items")

        scalar = _SCALAR_STRUCTS.get(item_type)
        if scalar is not None:
            start = self.take(length * scalar.size)
            if length > KEPT_ARRAY_ITEMS:
                return ArraySummary(type_name, length)
            code = _SCALARS[item_type][1]
            return list(struct.unpack_from(f"<{length}{code}", self.data, start))
        if length > KEPT_ARRAY_ITEMS:
            if item_type == _STRING:
                self.skip_strings(length, _string_limit(key), key)
            else:
                self.skip_arrays(length, key, depth + 1)
            return ArraySummary(type_name, length)
        return [self.value(item_type, key, depth) for _ in range(length)]

    def skip_strings(self, count: int, limit: int, key: str) -> None:
        """Walk past ``count`` strings without decoding them (a vocabulary of 262k tokens)."""
        data, size, pos = self.data, self.size, self.pos
        unpack = _U64.unpack_from
        for index in range(count):
            if pos + 8 > size:
                raise self.incomplete(pos + 8)
            length: int = unpack(data, pos)[0]
            if length > limit:
                raise self.damaged_metadata(
                    f"item #{index + 1} of {key} claims a length of {length} bytes"
                )
            pos += 8 + length
        if pos > size:
            raise self.incomplete(pos)
        if pos > MAX_HEADER_BYTES:
            raise self.too_big()
        self.pos = pos

    def skip_arrays(self, count: int, key: str, depth: int) -> None:
        """Walk past ``count`` arrays, quickly where they hold numbers."""
        data, size, pos = self.data, self.size, self.pos
        for _ in range(count):
            if pos + 12 > size:
                raise self.incomplete(pos + 12)
            item_type, length = _ARRAY_HEAD.unpack_from(data, pos)
            scalar = _SCALAR_STRUCTS.get(item_type)
            if scalar is None or length > MAX_ARRAY_LENGTH or depth > MAX_ARRAY_DEPTH:
                self.pos = pos  # strings, or something to refuse: the general path
                self.array(key, depth)
                pos = self.pos
            else:
                pos += 12 + length * scalar.size
        if pos > size:
            raise self.incomplete(pos)
        if pos > MAX_HEADER_BYTES:
            raise self.too_big()
        self.pos = pos

    def alignment(self, metadata: dict[str, MetadataValue]) -> int:
        if "general.alignment" not in metadata:
            return DEFAULT_ALIGNMENT
        value = _whole(metadata["general.alignment"])
        if value is None or value < 1 or value > MAX_ALIGNMENT or value & (value - 1):
            raise self.damaged_metadata(
                f"general.alignment is {metadata['general.alignment']!r}"
                f" (it must be a power of two no larger than {MAX_ALIGNMENT})"
            )
        return value

    # -------------------------------------------------------------- tensors
    def tensor(self, index: int, alignment: int) -> TensorInfo:
        raw = self.raw_string(
            MAX_KEY_BYTES, f"the name of tensor #{index}", "a damaged tensor list"
        )
        try:
            name = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise self.damaged_tensors(f"the name of tensor #{index} is not valid text") from None
        n_dims = self.u32()
        if not 1 <= n_dims <= MAX_DIMS:
            raise self.damaged_tensors(f"tensor {name!r} claims {n_dims} dimensions")
        layout = _TENSOR_LAYOUTS[n_dims]  # dimensions, type, offset
        fields: tuple[int, ...] = layout.unpack_from(self.data, self.take(layout.size))
        shape, ggml_type, offset = fields[:n_dims], fields[n_dims], fields[n_dims + 1]
        n_elements = 1
        for dim in shape:
            if dim > MAX_DIM:
                raise self.damaged_tensors(f"tensor {name!r} claims a dimension of {dim}")
            n_elements *= dim
        if n_elements > MAX_ELEMENTS:
            raise self.damaged_tensors(f"tensor {name!r} claims {n_elements} elements")
        if ggml_type not in GGML_TYPES:
            raise GGUFError(
                f"{self.source} uses a tensor type this version of Hearth does not know"
                f" (type {ggml_type} in tensor {name!r})"
            )
        type_name, block_size, block_bytes = GGML_TYPES[ggml_type]
        if shape[0] % block_size:
            raise self.damaged_tensors(
                f"tensor {name!r} has rows of {shape[0]} values, not a whole number"
                f" of {type_name} blocks of {block_size}"
            )
        if offset % alignment:
            raise self.damaged_tensors(
                f"tensor {name!r} claims an offset of {offset}, which is not a multiple"
                f" of the alignment {alignment}"
            )
        if offset > MAX_OFFSET:
            raise self.damaged_tensors(f"tensor {name!r} claims an offset of {offset} bytes")
        if self.pos > MAX_HEADER_BYTES:
            raise self.too_big()
        return TensorInfo(
            name=name,
            shape=shape,
            ggml_type=ggml_type,
            type_name=type_name,
            offset=offset,
            n_elements=n_elements,
            n_bytes=n_elements // block_size * block_bytes,
        )


def _string_limit(key: str) -> int:
    return MAX_TOKENIZER_STRING_BYTES if key.startswith("tokenizer.") else MAX_STRING_BYTES


# Magic numbers of the formats before GGUF, as written (little-endian u32) and as named.
_OLD_MAGICS = {b"lmgg", b"fmgg", b"tjgg", b"GGML", b"GGMF", b"GGJT"}


def _looks_like(data: bytes) -> str | None:
    """What a file that is not GGUF seems to be, from its first bytes."""
    text = data[:64].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if data.startswith(b"PK\x03\x04"):
        return "a ZIP archive"
    if data.startswith(b"\x1f\x8b"):
        return "a gzip-compressed file"
    if data.startswith(b"\x80"):
        return "a PyTorch checkpoint (a Python pickle); Hearth needs the GGUF version of the model"
    if data[5:9] == b"\0\0\0{":  # a little-endian u64 JSON length, then the JSON
        return "a safetensors model; Hearth needs the GGUF version of the model"
    if text.startswith(b"version https://git-lfs"):
        return "a Git LFS pointer rather than the model itself"
    if text.startswith(b"<"):
        return "an HTML page — perhaps a download saved an error page"
    if text.startswith((b"{", b"[")):
        return "JSON text — perhaps a download saved an error message"
    return None


# ------------------------------------------------------------------- files
_FIRST_READ = 1 << 20


def read_header(path: Path) -> GGUFHeader:
    """Read the header of a local GGUF file, reading no more of it than the header needs."""
    return _read(path)[0]


def validate_file(path: Path) -> GGUFHeader:
    """Read the header and check that the file holds all the tensor data it describes."""
    header, size = _read(path)
    expected = header.data_offset + header.tensor_data_bytes if header.tensors else 0
    if expected > size:
        missing = (expected - size) * 100 / expected
        percent = "less than 1%" if missing < 1 else f"{min(round(missing), 99)}%"
        raise GGUFError(
            f"{path.name} is truncated: the header says the weights need"
            f" {_format_size(expected)} but the file has {_format_size(size)}"
            f" ({percent} missing). Download it again."
        )
    return header


def _read(path: Path) -> tuple[GGUFHeader, int]:
    source = path.name
    try:
        with path.open("rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size == 0:
                raise GGUFError(f"{source} is empty (0 bytes); the download may have failed")
            data = f.read(min(size, _FIRST_READ))
            while True:
                try:
                    return parse_header(data, source=source), size
                except GGUFIncomplete as incomplete:
                    target = min(size, max(min(2 * len(data), MAX_HEADER_BYTES), incomplete.needed))
                    more = f.read(target - len(data)) if target > len(data) else b""
                    if not more:
                        raise GGUFError(
                            f"{source} is truncated: it ends after {_format_size(len(data))},"
                            " inside its header. Download it again."
                        ) from None
                    data += more
    except IsADirectoryError:
        raise GGUFError(f"{source} is a folder, not a model file") from None
    except FileNotFoundError:
        raise GGUFError(f"{source} does not exist (looked for {path})") from None
    except PermissionError:
        if path.is_dir():
            raise GGUFError(f"{source} is a folder, not a model file") from None
        raise GGUFError(f"Hearth is not allowed to read {source} ({path})") from None
    except OSError as error:
        raise GGUFError(f"{source} cannot be read: {error.strerror or error}") from None


def _format_size(n: int) -> str:
    if n < 1000:
        return f"{n} bytes"
    size = float(n)
    for unit in ("KB", "MB", "GB", "TB", "PB", "EB"):
        size /= 1000
        if size < 1000 or unit == "EB":
            break
    return f"{size:.0f} {unit}" if size >= 100 else f"{size:.1f} {unit}"
