"""Reads and writes safetensors files and lamina model files, with the standard library and numpy.

A safetensors file (https://github.com/huggingface/safetensors) is an 8-byte little-endian header
length N, N bytes of UTF-8 JSON header, then the tensors' raw little-endian, row-major bytes. The
header maps each tensor name to {"dtype", "shape", "data_offsets": [begin, end]} (offsets into the
data section, which the tensors tile with no gap or overlap) and may hold "__metadata__", a
string-to-string map. A lamina model file is such a file whose __metadata__ says
"format": "lamina" and holds the model's architecture as JSON in "model_config" (see
include/lamina/models/model_file.hpp).

    from lamina_format import read_safetensors, write_safetensors, read_lamina, write_lamina

Every malformed file raises FormatError naming the file and the problem; nothing is allocated
from a size read from the file before that size is checked against the file's length.
"""
import json
import os
import struct
import tempfile

import numpy as np

# The reference implementation's header limit, as lamina's reader.
MAX_HEADER_BYTES = 100_000_000
# The lamina model-file format version this code reads and writes.
FORMAT_VERSION = 1

# safetensors dtype name <-> numpy dtype (little-endian).
DTYPES = {
    "F64": np.dtype("<f8"), "F32": np.dtype("<f4"), "F16": np.dtype("<f2"),
    "I64": np.dtype("<i8"), "I32": np.dtype("<i4"), "I16": np.dtype("<i2"), "I8": np.dtype("i1"),
    "U64": np.dtype("<u8"), "U32": np.dtype("<u4"), "U16": np.dtype("<u2"), "U8": np.dtype("u1"),
    "BOOL": np.dtype("?"),
}
_NAME_OF = {d: name for name, d in DTYPES.items()}


class FormatError(ValueError):
    """A file that is not a valid safetensors or lamina file."""


def _no_duplicates(pairs):
    seen = {}
    for key, value in pairs:
        if key in seen:
            raise FormatError(f"the header names '{key}' twice")
        seen[key] = value
    return seen


def parse_safetensors(data, label="<bytes>"):
    """(tensors, metadata) of a safetensors file's bytes: tensors is a dict name -> numpy array
    (native byte order, in the order of the data section), metadata a dict of strings."""
    def fail(what):
        raise FormatError(f"{label}: not a valid safetensors file: {what}")

    if len(data) < 8:
        fail(f"it has {len(data)} bytes, fewer than the 8 of the header length")
    (n,) = struct.unpack("<Q", data[:8])
    if n > MAX_HEADER_BYTES:
        fail(f"the header length {n} exceeds the limit of {MAX_HEADER_BYTES}")
    if n > len(data) - 8:
        fail(f"the header length {n} runs past the end of the file ({len(data) - 8} bytes follow)")
    try:
        header = json.loads(bytes(data[8:8 + n]).decode("utf-8"), object_pairs_hook=_no_duplicates)
    except UnicodeDecodeError as e:
        fail(f"the header is not valid UTF-8 ({e})")
    except FormatError as e:
        fail(str(e))
    except json.JSONDecodeError as e:
        fail(f"the header is not valid JSON ({e})")
    if not isinstance(header, dict):
        fail("the header is not a JSON object")

    metadata = header.pop("__metadata__", {})
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        fail("__metadata__ is not an object of strings")

    data_start = 8 + n
    data_size = len(data) - data_start
    entries = []
    for name, e in header.items():
        if not name:
            fail("a tensor has an empty name")
        if not isinstance(e, dict) or set(e) != {"dtype", "shape", "data_offsets"}:
            fail(f"the entry of tensor '{name}' is not {{dtype, shape, data_offsets}}: {e!r}")
        if e["dtype"] not in DTYPES:
            fail(f"tensor '{name}' has an unknown dtype {e['dtype']!r}")
        dtype = DTYPES[e["dtype"]]
        shape = e["shape"]
        if not isinstance(shape, list) or not all(
                isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape):
            fail(f"tensor '{name}' has a shape {shape!r} that is not a list of sizes")
        offsets = e["data_offsets"]
        if not (isinstance(offsets, list) and len(offsets) == 2 and all(
                isinstance(o, int) and not isinstance(o, bool) and o >= 0 for o in offsets)):
            fail(f"tensor '{name}' has no data_offsets [begin, end]")
        begin, end = offsets
        if begin > end:
            fail(f"tensor '{name}' has data_offsets [{begin}, {end}] with begin after end")
        if end > data_size:
            fail(f"tensor '{name}' has data_offsets [{begin}, {end}] running past the data "
                 f"({data_size} bytes)")
        count = 1
        for d in shape:
            count *= d  # Python integers do not overflow
        if end - begin != count * dtype.itemsize:
            fail(f"tensor '{name}' holds {end - begin} bytes but {e['dtype']} {shape} needs "
                 f"{count} x {dtype.itemsize}")
        entries.append((begin, end, name, dtype, shape))

    entries.sort(key=lambda t: (t[0], t[1]))
    at = 0
    for begin, end, name, _, _ in entries:
        if begin < at:
            fail(f"tensor '{name}' overlaps the tensor before it (data_offsets [{begin}, {end}])")
        if begin > at:
            fail(f"there is a gap of {begin - at} bytes before tensor '{name}'")
        at = end
    if at != data_size:
        fail(f"{data_size - at} bytes after the last tensor belong to none")

    tensors = {}
    for begin, end, name, dtype, shape in entries:
        raw = data[data_start + begin:data_start + end]
        tensors[name] = np.frombuffer(raw, dtype=dtype).reshape(shape).astype(
            dtype.newbyteorder("="), copy=True)
    return tensors, dict(metadata)


def read_safetensors(path):
    """(tensors, metadata) of the safetensors file at `path` (see parse_safetensors)."""
    with open(path, "rb") as f:
        data = f.read()
    return parse_safetensors(data, path)


def _atomic_write(path, parts):
    """Writes the byte strings `parts` to `path` through a temporary file in the same directory,
    flushed to disk and renamed over `path`: a crash leaves the old file or the new one."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=os.path.basename(path) + ".", suffix=".tmp", dir=directory)
    try:
        # mkstemp makes the file private (0600): give it the old file's mode, or the umask's.
        try:
            mode = os.stat(path).st_mode & 0o777
        except FileNotFoundError:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as f:
            for p in parts:
                f.write(p)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def serialize_safetensors(tensors, metadata=None, alignment=8, indent=None, sort_keys=False):
    """The bytes of a safetensors file holding `tensors` (a dict name -> numpy array, written in
    the dict's order) and `metadata` (a dict of strings, optional). The JSON header is padded with
    spaces to a multiple of `alignment` bytes (8, as the reference writer; any positive value is
    valid); `indent` and `sort_keys` are json.dumps's, to write headers laid out differently."""
    header = {}
    if metadata:
        for k, v in metadata.items():
            if not isinstance(k, str) or not isinstance(v, str):
                raise ValueError(f"metadata must map strings to strings, got {k!r}: {v!r}")
        header["__metadata__"] = dict(metadata)
    blobs = []
    at = 0
    for name, value in tensors.items():
        if not isinstance(name, str) or not name or name == "__metadata__":
            raise ValueError(f"invalid tensor name {name!r}")
        a = np.asarray(value)
        little = a.dtype.newbyteorder("<") if a.dtype.itemsize > 1 else a.dtype
        if little not in _NAME_OF:
            raise ValueError(f"tensor '{name}': dtype {a.dtype} has no safetensors name")
        blob = np.ascontiguousarray(a, dtype=little).tobytes()
        header[name] = {"dtype": _NAME_OF[little], "shape": list(a.shape),
                        "data_offsets": [at, at + len(blob)]}
        blobs.append(blob)
        at += len(blob)
    text = json.dumps(header, indent=indent, sort_keys=sort_keys, ensure_ascii=False).encode()
    text += b" " * ((-len(text)) % alignment)
    return b"".join([struct.pack("<Q", len(text)), text] + blobs)


def write_safetensors(path, tensors, metadata=None, **layout):
    """Writes a safetensors file atomically (see serialize_safetensors for the arguments)."""
    _atomic_write(path, [serialize_safetensors(tensors, metadata, **layout)])


def read_lamina(path):
    """(tensors, metadata, model_config) of a lamina model file, checked as lamina's load_model
    checks it: format "lamina", a format_version this code reads, and model_config as JSON (None
    for a file written by save_weights). FormatError otherwise."""
    tensors, metadata = read_safetensors(path)
    if metadata.get("format") != "lamina":
        raise FormatError(f'{path}: not a lamina model file (its __metadata__ has no '
                          f'"format": "lamina")')
    version = metadata.get("format_version")
    if version is None:
        raise FormatError(f"{path}: the lamina file has no format_version")
    if not version.isdigit() or not 1 <= int(version) <= FORMAT_VERSION:
        raise FormatError(f"{path}: format_version '{version}' is not one this reader reads "
                          f"(1 to {FORMAT_VERSION})")
    config = None
    if "model_config" in metadata:
        try:
            config = json.loads(metadata["model_config"])
        except json.JSONDecodeError as e:
            raise FormatError(f"{path}: __metadata__ entry 'model_config' is not valid JSON "
                              f"({e})") from None
    return tensors, metadata, config


def lamina_metadata(model_config, dtype, lamina_version="0.0.0"):
    """The __metadata__ of a lamina model file holding `model_config` (a dict) with weights of
    numpy dtype `dtype` (float32 or float64), as Model::save writes it."""
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise ValueError(f"lamina model files hold float32 or float64 weights, not {dtype}")
    return {
        "format": "lamina",
        "format_version": str(FORMAT_VERSION),
        "lamina_version": lamina_version,
        "content": "model",
        "dtype": "float32" if dtype == np.float32 else "float64",
        "model_config": json.dumps(model_config, separators=(",", ":")),
    }


def repository_version():
    """lamina's version from include/lamina/version.hpp of the tree this file is in ("0.0.0"
    when it is not there)."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "include",
                        "lamina", "version.hpp")
    parts = {}
    try:
        with open(path) as f:
            for line in f:
                words = line.split()
                if len(words) == 3 and words[0] == "#define" and words[1].startswith(
                        "LAMINA_VERSION_") and words[2].isdigit():
                    parts[words[1][len("LAMINA_VERSION_"):]] = words[2]
    except OSError:
        return "0.0.0"
    return ".".join(parts.get(k, "0") for k in ("MAJOR", "MINOR", "PATCH"))
