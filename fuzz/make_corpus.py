#!/usr/bin/env python3
"""Regenerates the seed corpora fuzz/corpus/safetensors/, text_input/ and serve_request/.

Small hand-made inputs (each well under 4 KB): valid files of every dtype and one corrupt file per
kind of corruption the reader must reject. Files found by fuzzing (crashers, new coverage) are
added beside them by hand and are not touched by this script. Uses the standard library only:
    python3 fuzz/make_corpus.py
"""
import json
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def put(corpus, name, data):
    os.makedirs(os.path.join(HERE, "corpus", corpus), exist_ok=True)
    assert len(data) < 4096, name
    with open(os.path.join(HERE, "corpus", corpus, name), "wb") as f:
        f.write(data)


def st_image(header, data=b"", length=None, pad=True):
    h = header if isinstance(header, bytes) else json.dumps(header, separators=(",", ":")).encode()
    if pad:
        h += b" " * ((8 - len(h) % 8) % 8)
    return struct.pack("<Q", len(h) if length is None else length) + h + data


def st_valid(tensors, metadata=None):
    """tensors: list of (name, dtype, shape, raw bytes), laid out in order."""
    header, data = {}, b""
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    return st_image(header, data)


def ent(dtype, shape, begin, end):
    return {"dtype": dtype, "shape": shape, "data_offsets": [begin, end]}


def safetensors():
    c = "safetensors"
    every = [
        ("f32", "F32", [2, 2], struct.pack("<4f", 1.5, -2.0, 0.0, 3.25)),
        ("f16", "F16", [3], struct.pack("<3H", 0x3C00, 0xFBFF, 0x7E00)),
        ("bf16", "BF16", [2], struct.pack("<2H", 0x3F80, 0xFF80)),
        ("f64", "F64", [1], struct.pack("<d", 3.141592653589793)),
        ("i8", "I8", [3], struct.pack("<3b", -128, 0, 127)),
        ("u8", "U8", [1, 3], bytes([0, 7, 255])),
        ("i32", "I32", [2], struct.pack("<2i", -(2**31), 2**31 - 1)),
        ("i64", "I64", [1], struct.pack("<q", -(2**63))),
        ("bool", "BOOL", [2], bytes([1, 0])),
    ]
    put(c, "valid_every_dtype", st_valid(every, {"format": "pt"}))
    put(c, "valid_empty", st_image({}))
    put(c, "valid_scalar_and_empty_tensors",
        st_valid([("s", "F32", [], struct.pack("<f", 42.0)), ("e", "I64", [0, 3], b""),
                  ("z", "U8", [0], b"")], {}))
    put(c, "valid_misaligned_f32",
        st_valid([("h", "F16", [1], struct.pack("<H", 0x3C00)), ("f", "F32", [2], struct.pack("<2f", 1.25, -7.5))]))
    put(c, "valid_metadata_null", st_image(b'{"__metadata__":null,"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}', b"x"))
    put(c, "valid_unpadded_header", st_image(b'{"a":{"dtype":"I8","shape":[2],"data_offsets":[0,2]}}', b"\x01\x02", pad=False))
    put(c, "valid_extra_fields", st_image(b'{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1],"x":[1,{}]}}', b"x"))
    put(c, "valid_unicode_names",
        st_valid([("gr\u00fc\u00dfe.\u2713", "U8", [1], b"\x05")], {"note": "\u00fcnicode \u2603"}))

    # File and header length.
    put(c, "bad_empty_file", b"")
    put(c, "bad_short_file", b"\x10\x00\x00")
    put(c, "bad_header_length_past_file", struct.pack("<Q", 100) + b"{}")
    put(c, "bad_header_length_huge", struct.pack("<Q", 2**63 + 5) + b"{}")
    put(c, "bad_header_length_over_limit", struct.pack("<Q", 100_000_001) + b"{}")
    put(c, "bad_header_length_zero", struct.pack("<Q", 0) + b"abc")
    # JSON.
    put(c, "bad_json_truncated", st_image(b'{"a":{"dtype":"F32","shape":[1],', pad=False))
    put(c, "bad_json_utf8", st_image(b'{"a\xff":{}}', pad=False))
    put(c, "bad_json_number_overflow", st_image(b'{"a":{"dtype":"U8","shape":[1e400],"data_offsets":[0,0]}}'))
    put(c, "bad_json_deep_nesting", st_image(b"[" * 200 + b"]" * 200))
    put(c, "bad_json_nul_padding", st_image(b"{}\x00\x00\x00\x00\x00\x00", pad=False))
    put(c, "bad_header_not_object", st_image(b"[1,2,3]"))
    put(c, "bad_entry_not_object", st_image({"w": 5}))
    # Fields.
    put(c, "bad_missing_dtype", st_image({"w": {"shape": [1], "data_offsets": [0, 4]}}, b"abcd"))
    put(c, "bad_dtype_not_string", st_image({"w": {"dtype": 4, "shape": [1], "data_offsets": [0, 4]}}, b"abcd"))
    put(c, "bad_dtype_unknown", st_image({"w": ent("F12", [1], 0, 4)}, b"abcd"))
    put(c, "bad_dtype_unsupported_f8", st_image({"w": ent("F8_E4M3", [1], 0, 1)}, b"a"))
    put(c, "bad_dtype_unsupported_u16", st_image({"w": ent("U16", [1], 0, 2)}, b"ab"))
    put(c, "bad_missing_shape", st_image({"w": {"dtype": "F32", "data_offsets": [0, 4]}}, b"abcd"))
    put(c, "bad_shape_not_array", st_image({"w": ent("F32", "1", 0, 4)}, b"abcd"))
    put(c, "bad_shape_float", st_image({"w": ent("F32", [1.0], 0, 4)}, b"abcd"))
    put(c, "bad_shape_negative", st_image({"w": ent("F32", [-1, 2], 0, 8)}, b"12345678"))
    put(c, "bad_shape_too_large_dim", st_image({"w": ent("U8", [2**63], 0, 8)}, b"12345678"))
    put(c, "bad_shape_overflow", st_image({"w": ent("F32", [2**32, 2**32], 0, 8)}, b"12345678"))
    put(c, "bad_shape_bytes_overflow", st_image({"w": ent("F64", [2**62], 0, 8)}, b"12345678"))
    put(c, "bad_shape_rank_9", st_image({"w": ent("U8", [1] * 9, 0, 1)}, b"1"))
    put(c, "bad_shape_size_mismatch", st_image({"w": ent("F32", [2, 3], 0, 20)}, b"x" * 20))
    put(c, "bad_missing_offsets", st_image({"w": {"dtype": "F32", "shape": [1]}}, b"abcd"))
    put(c, "bad_offsets_three", st_image({"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4, 8]}}, b"abcd"))
    put(c, "bad_offsets_string", st_image({"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, "4"]}}, b"abcd"))
    put(c, "bad_offsets_negative", st_image({"w": ent("F32", [1], -4, 0)}, b"abcd"))
    put(c, "bad_offsets_past_end", st_image({"w": ent("U8", [16], 0, 16)}, b"12345678"))
    put(c, "bad_offsets_reversed", st_image({"w": ent("U8", [0], 8, 0)}, b"12345678"))
    put(c, "bad_offsets_overlap", st_image({"a": ent("U8", [8], 0, 8), "b": ent("U8", [8], 4, 12)}, b"123456789012"))
    put(c, "bad_offsets_same_range", st_image({"a": ent("U8", [4], 0, 4), "b": ent("U8", [4], 0, 4)}, b"1234"))
    put(c, "bad_offsets_gap", st_image({"a": ent("U8", [4], 0, 4), "b": ent("U8", [4], 8, 12)}, b"123456789012"))
    put(c, "bad_offsets_gap_at_start", st_image({"b": ent("U8", [4], 4, 8)}, b"12345678"))
    put(c, "bad_trailing_data", st_image({"a": ent("U8", [4], 0, 4)}, b"12345678"))
    put(c, "bad_duplicate_name",
        st_image(b'{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}', b"12"))
    put(c, "bad_duplicate_field", st_image(b'{"a":{"dtype":"U8","dtype":"I8","shape":[1],"data_offsets":[0,1]}}', b"1"))
    put(c, "bad_metadata_not_strings", st_image({"__metadata__": {"format": 1}}))
    put(c, "bad_metadata_array", st_image({"__metadata__": ["pt"]}))
    put(c, "bad_metadata_duplicate_key", st_image(b'{"__metadata__":{"k":"1","k":"2"}}'))
    put(c, "bad_bool_byte", st_image({"flags": ent("BOOL", [3], 0, 3)}, b"\x01\x00\x02"))


def text_input():
    c = "text_input"
    # First byte = options: format = b % 3 (auto, jsonl, tsv), skip_bad = b & 4,
    # require_label = b & 8, limit 2 when (b & 0x30) == 0x30.
    auto, jsonl, tsv, skip, label = 0x00, 0x01, 0x02, 0x04, 0x08
    put(c, "jsonl_labels", bytes([jsonl]) + b'{"text":"great movie","label":1}\n{"text":"bad","label":"NEGATIVE"}\n'
        b'{"text":"meh","label":null}\n{"text":"ok","label":true}\n')
    put(c, "jsonl_escapes", bytes([auto]) + '{"text":"line\\nbreak \\u00e9 \\ud83d\\ude00 tab\\t","label":0}\n'.encode())
    put(c, "jsonl_bad_lines", bytes([jsonl | skip]) + b'{"text":"ok"}\nnot json\n[1,2]\n{"label":1}\n{"text":5}\n'
        b'{"text":"x","label":[1]}\n{"text":"a","text":"b"}\n')
    put(c, "jsonl_require_label", bytes([jsonl | label]) + b'{"text":"x","label":1}\n{"text":"y"}\n')
    put(c, "jsonl_deep", bytes([jsonl]) + b"[" * 500 + b"]" * 500 + b"\n")
    put(c, "tsv_header", bytes([tsv]) + b"sentence\tlabel\nit was fine\t1\nawful\t0\n\n  \t \n")
    put(c, "tsv_no_header_labels", bytes([auto | label]) + b"good\tPOSITIVE\nbad\tneg\nplain line\n")
    put(c, "txt_crlf_and_nel", bytes([tsv]) + "caf\u00e9 \u0085 next\r\nsecond\u2028line  \r\n".encode())
    put(c, "txt_invalid_utf8", bytes([tsv]) + b"ok\n\xc3\x28 bad\n\xed\xa0\x80 surrogate\n")
    put(c, "txt_invalid_utf8_skip", bytes([tsv | skip]) + b"ok\n\xf4\x90\x80\x80 too big\nfine\n")
    put(c, "limit_two", bytes([0x30 | tsv]) + b"a\nb\nc\nd\n")
    put(c, "numbers_as_labels", bytes([tsv]) + b"x\t-1\ny\t+7\nz\t-\nw\t\n")
    put(c, "only_newlines", bytes([auto]) + b"\n\n\n")
    put(c, "empty", bytes([auto]))


def serve_request():
    c = "serve_request"
    # First byte = options: bit 0 tokenize (else predict), bit 1 small limits (3 inputs, 16
    # characters, depth 8).
    predict, tokenize, small = 0x00, 0x01, 0x02
    cases = {
        "predict_single": (predict, b'{"inputs": "I love it"}'),
        "predict_batch": (predict, b'{"inputs": ["I love it", "I hate it"], "raw_scores": true, "truncate": false}'),
        "predict_tei_batch": (predict, b'{"inputs": [["a"], "b", ["c"]], "truncation_direction": "Right"}'),
        "predict_pair": (predict, b'{"inputs": [["a", "b"]]}'),
        "predict_empty_list": (predict, b'{"inputs": []}'),
        "predict_empty_item": (predict, b'{"inputs": ["x", []]}'),
        "predict_escapes": (predict, '{"inputs": "caf\\u00e9 \\ud83d\\ude00 \\"q\\" \\n naïve"}'.encode()),
        "predict_lone_surrogate": (predict, b'{"inputs": "\\ud800 x"}'),
        "predict_invalid_utf8": (predict, b'{"inputs": "caf\xc3 \xed\xa0\x80 \xff"}'),
        "predict_unknown_nested": (predict, b'{"x": {"a": [1, {"b": [[], {}]}], "inputs": 3}, "inputs": "t", "n": null, "f": -1.5e3}'),
        "predict_duplicate": (predict, b'{"inputs": "a", "inputs": "b"}'),
        "predict_wrong_types": (predict, b'{"inputs": ["a", 1, true, null, {"k": 2}], "raw_scores": "yes"}'),
        "predict_not_object": (predict, b'["I love it"]'),
        "predict_missing_inputs": (predict, b'{"text": "x"}'),
        "predict_trailing": (predict, b'{"inputs": "x"} {"inputs": "y"}'),
        "predict_truncated": (predict, b'{"inputs": ["a", "b'),
        "predict_number_overflow": (predict, b'{"inputs": "x", "n": 1e999}'),
        "predict_deep": (predict, b'{"x": ' + b"[" * 300 + b"]" * 300 + b', "inputs": "x"}'),
        "predict_too_many_small": (predict | small, b'{"inputs": ["a", "b", "c", "d"]}'),
        "predict_too_long_small": (predict | small, b'{"inputs": "seventeen chars!!"}'),
        "predict_null_flags": (predict, b'{"inputs": "x", "raw_scores": null, "truncate": null}'),
        "predict_left": (predict, b'{"inputs": "x", "truncation_direction": "Left"}'),
        "empty_body": (predict, b""),
        "whitespace_body": (predict, b" \r\n\t"),
        "tokenize_single": (tokenize, b'{"inputs": "Hello, world!", "add_special_tokens": false}'),
        "tokenize_batch": (tokenize, b'{"inputs": ["a b", "c"], "raw_scores": 5, "truncate": "ignored"}'),
        "tokenize_bad_flag": (tokenize, b'{"inputs": "x", "add_special_tokens": 1}'),
    }
    for name, (mode, body) in cases.items():
        put(c, name, bytes([mode]) + body)


if __name__ == "__main__":
    safetensors()
    text_input()
    serve_request()
