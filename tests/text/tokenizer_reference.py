#!/usr/bin/env python3
"""Differential check of `tensorgraph tokenize` against HuggingFace's slow BertTokenizer.

A developer tool, not part of ctest. It re-states the algorithm of transformers 4.38
`BertTokenizer` (do_lower_case=True; tokenize(): lower-case all but the special tokens one
character at a time, cut the special tokens out, BasicTokenizer, WordPiece), which reproduces
all 350 cases of ../shared/fixtures/tokenizer_cases.jsonl, then compares the CLI's ids with it
on random texts built from the characters the tokenizer rules care about.

Run it with Python 3.11 (Unicode 14.0, the tables the fixtures were made with; another Python
version differs on characters assigned since):

  python3 tests/text/tokenizer_reference.py --cli build/tensorgraph \
      --vocab ../shared/fixtures/bert-base-uncased/vocab.txt --random 20000 --seed 1
  python3 tests/text/tokenizer_reference.py ... --file ../shared/data/sst2/train.tsv
"""
import argparse
import collections
import json
import random
import re
import subprocess
import sys
import tempfile
import unicodedata

SPECIALS = ["[UNK]", "[SEP]", "[PAD]", "[CLS]", "[MASK]"]
SPECIAL_RE = "(" + "|".join(re.escape(s) for s in SPECIALS) + ")"


def load_vocab(path):
    vocab = collections.OrderedDict()
    with open(path, "r", encoding="utf-8") as reader:
        for index, token in enumerate(reader.readlines()):
            vocab[token.rstrip("\n")] = index
    return vocab


def whitespace_tokenize(text):
    text = text.strip()
    return text.split() if text else []


def is_whitespace(ch):
    return ch in " \t\n\r" or unicodedata.category(ch) == "Zs"


def is_control(ch):
    return ch not in "\t\n\r" and unicodedata.category(ch).startswith("C")


def is_punctuation(ch):
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def is_chinese_char(cp):
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF
            or 0x2A700 <= cp <= 0x2B73F or 0x2B740 <= cp <= 0x2B81F or 0x2B820 <= cp <= 0x2CEAF
            or 0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F)


class ReferenceTokenizer:
    def __init__(self, vocab_path):
        self.vocab = load_vocab(vocab_path)

    def basic(self, text):
        text = "".join(" " if is_whitespace(ch) else ch for ch in text
                       if not (ord(ch) in (0, 0xFFFD) or is_control(ch)))
        text = "".join(f" {ch} " if is_chinese_char(ord(ch)) else ch for ch in text)
        text = unicodedata.normalize("NFC", text)
        out = []
        for token in whitespace_tokenize(text):
            if token not in SPECIALS:
                token = token.lower()
                token = "".join(c for c in unicodedata.normalize("NFD", token)
                                if unicodedata.category(c) != "Mn")
            if token in SPECIALS:
                out.append(token)
                continue
            words, new = [], True
            for ch in token:
                if is_punctuation(ch):
                    words.append([ch])
                    new = True
                else:
                    if new:
                        words.append([])
                    new = False
                    words[-1].append(ch)
            out.extend("".join(w) for w in words)
        return whitespace_tokenize(" ".join(out))

    def wordpiece(self, token):
        if len(token) > 100:
            return ["[UNK]"]
        start, pieces = 0, []
        while start < len(token):
            end, piece = len(token), None
            while start < end:
                sub = ("##" if start > 0 else "") + token[start:end]
                if sub in self.vocab:
                    piece = sub
                    break
                end -= 1
            if piece is None:
                return ["[UNK]"]
            pieces.append(piece)
            start = end
        return pieces

    def encode(self, text, max_length=None):
        text = re.sub(SPECIAL_RE + r"|(.+?)", lambda m: m.groups()[0] or m.groups()[1].lower(), text)
        tokens = []
        for part in re.split(SPECIAL_RE, text):
            if part in SPECIALS:
                tokens.append(part)
            elif part:
                for word in self.basic(part):
                    tokens.extend(self.wordpiece(word))
        ids = [self.vocab.get(t, self.vocab["[UNK]"]) for t in tokens]
        if max_length is not None and len(ids) + 2 > max_length:
            ids = ids[:max_length - 2]
        return [self.vocab["[CLS]"]] + ids + [self.vocab["[SEP]"]]


POOLS = [
    "abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "0123456789",
    "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~",
    " \t\n\r\x0b\x0c\x1c\x1f\x85\xa0\u2028\u2029\u3000\u200b\ufeff\u00ad\u180e\u2000\u202f\x00\x7f\ufffd",
    "\u0300\u0301\u0308\u0327\u0345\u0591\u064b\u093f\u0947\u094d\u20dd\ufe0f\u200d\u0f71\u0f72\u3099",
    "àáâäãåæçèéêëìíîïñòóôöõøœùúûüýÿßẞİıΣσςΩΩµμﬁﬂＦｔ１ĲǄǅǆⅫ",
    "ΟΔΣαβγδεζηθ", "ёлкайогуртЙЁЖ", "中文日本語汉字𠀀𠀁豈兩丽丸", "안녕하세요각가각", "がぎぐガビブカギ゚ー",
    "नमस्तेदुनियाकि", "مرحبابالعالمَُِ", "😀😃👏💯❤👨‍👩‍👧‍👦🇺🇸",
    "\U0001FAE8\U0002B739\U00031350\U00011F00\ue000\U000F0000\u0378\u0cf3",
    "£€¥₹₩°²³⁴−×÷§¶©®™…—–«»¿¡‘’“”",
]
EXTRAS = ["[UNK]", "[SEP]", "[PAD]", "[CLS]", "[MASK]", "[SEP", "[sep]", "[\u200bSEP]", "##",
          "hello", "café", "naïve", "straße", "ΟΔΟΣ", "x" * 99, "y" * 101, "é" * 100, "e\u0301" * 60]


def random_text(rng):
    parts = []
    for _ in range(rng.randint(0, 40)):
        r = rng.random()
        if r < 0.15:
            parts.append(rng.choice(EXTRAS))
        elif r < 0.2:
            cp = rng.choice([c for c in (rng.randint(0, 0x10FFFF) for _ in range(4))
                             if not 0xD800 <= c <= 0xDFFF] or [0x41])
            parts.append(chr(cp))
        else:
            pool = rng.choice(POOLS)
            parts.append("".join(rng.choice(pool) for _ in range(rng.randint(1, 6))))
        if rng.random() < 0.4:
            parts.append(" ")
    return "".join(parts)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cli", required=True, help="the tensorgraph executable")
    parser.add_argument("--vocab", required=True, help="bert-base-uncased vocab.txt")
    parser.add_argument("--random", type=int, default=0, help="number of random texts")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--file", help="also check the texts of this .tsv/.txt file")
    args = parser.parse_args()
    if unicodedata.unidata_version != "14.0.0":
        print(f"warning: Unicode {unicodedata.unidata_version}, the reference used 14.0.0",
              file=sys.stderr)

    reference = ReferenceTokenizer(args.vocab)
    rng = random.Random(args.seed)
    texts = [random_text(rng) for _ in range(args.random)]
    if args.file:
        with open(args.file, encoding="utf-8") as f:
            lines = f.read().split("\n")
        rows = [line.rsplit("\t", 1)[0].rstrip() if "\t" in line else line.rstrip()
                for line in lines if line.strip()]
        texts += rows[1:] if lines and lines[0].endswith("\tlabel") else rows
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", encoding="utf-8") as f:
        for text in texts:
            f.write(json.dumps({"text": text}, ensure_ascii=False) + "\n")
        f.flush()
        run = subprocess.run([args.cli, "tokenize", "--vocab", args.vocab, "--json", "--file",
                              f.name], capture_output=True, text=True, check=True)
    outputs = [json.loads(line) for line in run.stdout.split("\n") if line]
    assert len(outputs) == len(texts), (len(outputs), len(texts))
    bad = 0
    for text, out in zip(texts, outputs):
        expected = reference.encode(text)
        if out["text"] != text or out["ids"] != expected:
            bad += 1
            if bad <= 5:
                print(f"MISMATCH {text!r}\n  got      {out['ids']}\n  expected {expected}")
    print(f"{len(texts)} texts, {bad} mismatches")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
