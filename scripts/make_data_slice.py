#!/usr/bin/env python3
"""Cuts data/fashion-mnist-slice/ from Debian's dataset-fashion-mnist: the first 2,000 training
and the first 500 test images and labels, as gzip-compressed IDX files with the standard names.

    /usr/bin/python3 scripts/make_data_slice.py [--source DIR] [--out DIR]

Python standard library only. The output is byte-for-byte reproducible (gzip mtime 0, no name).
"""
import argparse
import gzip
import os
import struct
import sys

# file name -> number of items to keep
SLICE = {
    "train-images-idx3-ubyte.gz": 2000,
    "train-labels-idx1-ubyte.gz": 2000,
    "t10k-images-idx3-ubyte.gz": 500,
    "t10k-labels-idx1-ubyte.gz": 500,
}


def cut(src, dst, count):
    with gzip.open(src, "rb") as f:
        raw = f.read()
    zero, dtype, rank = struct.unpack(">HBB", raw[:4])
    if zero != 0 or dtype != 0x08:
        sys.exit(f"{src}: not an unsigned-byte IDX file (magic {raw[:4].hex()})")
    dims = list(struct.unpack(f">{rank}I", raw[4:4 + 4 * rank]))
    if dims[0] < count:
        sys.exit(f"{src}: holds {dims[0]} items, fewer than the {count} wanted")
    item = 1
    for d in dims[1:]:
        item *= d
    start = 4 + 4 * rank
    data = raw[start:start + count * item]
    dims[0] = count
    header = struct.pack(">HBB", 0, dtype, rank) + struct.pack(f">{rank}I", *dims)
    # GzipFile with an empty file name and mtime 0, so that reruns give identical files.
    with open(dst, "wb") as out, gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0) as gz:
        gz.write(header + data)
    print(f"{dst}: {dims} ({os.path.getsize(dst)} bytes)")


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", default="/usr/share/datasets/fashion-mnist",
                        help="directory of the full data set (Debian's dataset-fashion-mnist)")
    parser.add_argument("--out", default=os.path.join(root, "data", "fashion-mnist-slice"))
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    for name, count in SLICE.items():
        cut(os.path.join(args.source, name), os.path.join(args.out, name), count)


if __name__ == "__main__":
    main()
