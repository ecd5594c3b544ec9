#!/usr/bin/env python3
"""Regenerates the seed corpora fuzz/corpus/idx/ and fuzz/corpus/csv/ (the readers of training
data): valid files of every kind and one file per kind of corruption. Files found by fuzzing are
added beside them by hand and are not touched by this script. Standard library only:
    python3 fuzz/make_data_corpus.py
"""
import gzip
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def put(corpus, name, data):
    os.makedirs(os.path.join(HERE, "corpus", corpus), exist_ok=True)
    assert len(data) < 4096, name
    with open(os.path.join(HERE, "corpus", corpus, name), "wb") as f:
        f.write(data)


def idx(code, dims, body):
    return bytes([0, 0, code, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + body


def gz(data):
    return gzip.compress(data, mtime=0)


def idx_corpus():
    images = idx(0x08, [2, 4, 4], bytes(range(32)))
    put("idx", "valid_u8_images", images)
    put("idx", "valid_u8_images_gz", gz(images))
    put("idx", "valid_labels", idx(0x08, [5], bytes([5, 0, 4, 1, 9])))
    put("idx", "valid_i8", idx(0x09, [3], b"\xff\x00\x7f"))
    put("idx", "valid_i32", idx(0x0C, [2], struct.pack(">ii", 258, -2)))
    put("idx", "valid_f32", idx(0x0D, [1, 2], struct.pack(">ff", 1.5, -0.25)))
    put("idx", "valid_f64", idx(0x0E, [1], struct.pack(">d", 3.25)))
    put("idx", "valid_two_gzip_members", gz(idx(0x08, [4], b"ab")) + gz(b"cd"))
    put("idx", "valid_empty_dim", idx(0x08, [0, 28], b""))
    put("idx", "bad_empty", b"")
    put("idx", "bad_short_magic", b"\x00\x00\x08")
    put("idx", "bad_magic", b"\x01\x00\x08\x01\x00\x00\x00\x01a")
    put("idx", "bad_type_i16", idx(0x0B, [1], b"\x00\x01"))
    put("idx", "bad_type_unknown", idx(0x42, [1], b"a"))
    put("idx", "bad_rank_zero", idx(0x08, [], b""))
    put("idx", "bad_rank_nine", idx(0x08, [1] * 9, b"a"))
    put("idx", "bad_truncated_header", images[:9])
    put("idx", "bad_truncated_data", images[:-3])
    put("idx", "bad_trailing_data", images + b"xyz")
    put("idx", "bad_huge_dims", idx(0x08, [65536, 65536, 65536], b""))
    put("idx", "bad_overflow_dims", idx(0x0E, [0xFFFFFFFF] * 8, b""))
    z = gz(images)
    put("idx", "bad_gzip_truncated", z[: len(z) // 2])
    put("idx", "bad_gzip_corrupt", z[:12] + bytes([z[12] ^ 0x55]) + z[13:])
    put("idx", "bad_gzip_trailing_garbage", z + b"garbage")
    # A small gzip stream that inflates to 2 MiB of zeros: a valid-looking header announcing
    # fewer bytes, so the reader must stop at the size, not trust the stream.
    put("idx", "bad_gzip_bomb_trailing", gz(idx(0x08, [4], b"abcd") + bytes(2 << 20)))


def csv_corpus():
    # The first byte selects the options (see csv_fuzz.cpp): 0 = ',', auto header, any columns.
    put("csv", "valid_header", b"\x00a,b,c\n1,2,3\n4.5,-6e-1,+7\n")
    put("csv", "valid_cal_housing_rows",
        b"\x00-122.230000,37.880000,41.000000,880.000000,129.000000,322.000000,126.000000,"
        b"8.325200,452600.000000\n-122.220000,37.860000,21.000000,7099.000000,1106.000000,"
        b"2401.000000,1138.000000,8.301400,358500.000000\n")
    put("csv", "valid_crlf_blank_lines", b"\x00x,y\r\n\r\n1,2\r\n\r\n3,4")
    put("csv", "valid_semicolon", b"\x011;2\n3;4\n")
    put("csv", "valid_quoted_header", b'\x00"a","b"\n1,2\n')
    put("csv", "bad_ragged", b"\x001,2,3\n4,5\n")
    put("csv", "bad_text_field", b"\x001,2\n3,abc\n")
    put("csv", "bad_nan_inf", b"\x001,nan\n2,inf\n")
    put("csv", "bad_overflow", b"\x001,1e999\n")
    put("csv", "bad_empty_field", b"\x001,,3\n")
    put("csv", "bad_only_header", b"\x00a,b\n")
    put("csv", "bad_empty", b"\x00")
    put("csv", "bad_nul_bytes", b"\x001,2\x00\n3,4\n")
    put("csv", "bad_expected_columns", b"\x181,2\n")  # columns = 3


if __name__ == "__main__":
    idx_corpus()
    csv_corpus()
