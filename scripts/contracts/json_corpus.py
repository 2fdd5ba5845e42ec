#!/usr/bin/env python3
"""A seeded corpus of JSON documents, valid and not, each with Python's verdict on it, for
JSONDifferentialTests (Tests/CascadeDomainTests), which parses the same bytes with JSONParser.

    python3 scripts/contracts/json_corpus.py --seed N --count M

One line per case on stdout: {"doc": base64 of the bytes, "accept": bool, "value": canonical
text or null, "kind": category}. The same seed and count give the same lines.

The verdict is `json.loads(doc.decode("utf-8"), ...)`, catching ValueError:
- The bytes are decoded strictly first. `json.loads(bytes)` would guess UTF-16/32, skip a UTF-8
  BOM and pass encoded surrogates ('surrogatepass'); a UTF-8 parser should do none of that.
- `parse_constant` refuses NaN and Infinity, which the json module otherwise accepts.
- `parse_int` and `parse_float` keep the literal, so neither float rounding (1e400 is not inf)
  nor Python's 4300-digit limit on int() decides anything: JSONValue keeps the literal too.
- `object_pairs_hook` keeps every member in document order, duplicates included.

The canonical text is compact JSON with members in document order, strings escaped as
json.dumps does (ASCII only, by UTF-16 code unit, so a lone surrogate shows as \\udXXX), and
each number by its exact decimal value: digits without leading or trailing zeros and a base-ten
exponent ("-1.50e3" is "-15e2", "0.0" and "-0" are "0"). Integers and fractions are not told
apart: 1, 1.0 and 10e-1 are all "1".

An accepted document that has duplicate keys, canonically equivalent keys, a lone surrogate or
more than MAXIMUM_DEPTH levels is labelled with that kind whatever made it, so the test can hold
those to the differences it declares.
"""
import argparse
import base64
import json
import random
import unicodedata

MAXIMUM_DEPTH = 64  # JSONParser.maximumDepth, "at most 64 levels deep" in docs/CONTRACTS.md


class Number(str):
    """A number's literal, as the json module matched it."""


class Members(list):
    """An object's (key, value) pairs in document order."""


def refuse_constant(name):
    raise ValueError(f"{name} is not JSON")


def verdict(doc):
    try:
        return True, json.loads(doc.decode("utf-8"), parse_constant=refuse_constant,
                                parse_int=Number, parse_float=Number, object_pairs_hook=Members)
    except ValueError:  # UnicodeDecodeError and JSONDecodeError included
        return False, None


def canonical_number(literal):
    negative = literal.startswith("-")
    mantissa, _, exponent = literal.lstrip("-").replace("E", "e").partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = (whole + fraction).lstrip("0")
    if not digits:
        return "0"
    power = int(exponent or "0") - len(fraction)
    stripped = digits.rstrip("0")
    power += len(digits) - len(stripped)
    return ("-" if negative else "") + stripped + (f"e{power}" if power else "")


def canonical(value):
    if value is None:
        return "null"
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, Number):
        return canonical_number(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, Members):
        return "{" + ",".join(json.dumps(k) + ":" + canonical(v) for k, v in value) + "}"
    return "[" + ",".join(canonical(item) for item in value) + "]"


def depth(value):
    if isinstance(value, Members):
        return 1 + max((depth(v) for _, v in value), default=0)
    if isinstance(value, list):
        return 1 + max((depth(v) for v in value), default=0)
    return 0


def strings(value):
    if isinstance(value, Members):
        for k, v in value:
            yield k
            yield from strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from strings(v)
    elif isinstance(value, str) and not isinstance(value, Number):
        yield value


def objects(value):
    if isinstance(value, Members):
        yield value
    if isinstance(value, list):
        for v in (v for _, v in value) if isinstance(value, Members) else value:
            yield from objects(v)


def feature(value):
    """The kind an accepted value belongs to whatever generated it, or None."""
    for members in objects(value):
        keys = [k for k, _ in members]
        if len(set(keys)) < len(keys):
            return "duplicate_keys"
        if len({unicodedata.normalize("NFC", k) for k in keys}) < len(keys):
            return "equivalent_keys"
    if any(0xD800 <= ord(c) <= 0xDFFF for s in strings(value) for c in s):
        return "lone_surrogate"
    if depth(value) > MAXIMUM_DEPTH:
        return "too_deep"
    return None


# Random documents, written with random whitespace, escapes and number spellings.

CHARS = ["a", "b", "z", "Z", "0", " ", "/", '"', "\\", "\n", "\t", "\b", "\f", "\r", "\x00", "\x1f", "\x7f",
         "é", "ß", "\u00a0", "\u0301", "模", "\u2028", "\ufeff", "\ufffd", "\uffff", "😀", "\U0010ffff"]
SHORT_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\b": "\\b", "\f": "\\f", "\r": "\\r", "/": "\\/"}
WHITESPACE = ["", "", "", " ", "\n", "\t", "\r\n  "]


def unicode_escape(c, rng):
    code = ord(c)
    units = [code] if code < 0x10000 else [0xD800 + ((code - 0x10000) >> 10), 0xDC00 + ((code - 0x10000) & 0x3FF)]
    return "".join(("\\u%04X" if rng.random() < 0.3 else "\\u%04x") % u for u in units)


def write_string(s, rng):
    out = []
    for c in s:
        if c in SHORT_ESCAPES and (c != "/" or rng.random() < 0.5) and rng.random() < 0.8:
            out.append(SHORT_ESCAPES[c])
        elif c in '"\\' or ord(c) < 0x20 or rng.random() < 0.2:
            out.append(unicode_escape(c, rng))
        else:
            out.append(c)
    return '"' + "".join(out) + '"'


def random_digits(rng, low, high):
    return "".join(rng.choice("0123456789") for _ in range(rng.randint(low, high)))


def random_number(rng):
    whole = rng.choice(["0", str(rng.randrange(1, 10)), str(rng.randrange(10 ** 18)), str(rng.getrandbits(200))])
    fraction = rng.choice(["", "", "." + random_digits(rng, 1, 25)])
    exponent = rng.choice(["", "", rng.choice("eE") + rng.choice(["", "+", "-"]) + random_digits(rng, 1, 4)])
    return rng.choice(["", "", "-"]) + whole + fraction + exponent


def random_text(rng, length):
    return "".join(rng.choice(CHARS) for _ in range(rng.randint(0, length)))


def random_value(rng, levels, top=False):
    roll = rng.random() * (0.6 if top else 1) + (0.36 if top else 0)  # a document is mostly a container
    if levels == 0 or roll < 0.4:
        return rng.choice([lambda: "null", lambda: "true", lambda: "false",
                           lambda: random_number(rng), lambda: write_string(random_text(rng, 8), rng)])()
    ws = lambda: rng.choice(WHITESPACE)  # noqa: E731
    if roll < 0.7:
        items = [ws() + random_value(rng, levels - 1) + ws() for _ in range(rng.randint(0, 5))]
        return "[" + (",".join(items) if items else ws()) + "]"
    keys = list(dict.fromkeys(random_text(rng, 6) for _ in range(rng.randint(0, 5))))
    members = [ws() + write_string(k, rng) + ws() + ":" + ws() + random_value(rng, levels - 1) + ws() for k in keys]
    return "{" + (",".join(members) if members else ws()) + "}"


def random_document(rng):
    return (rng.choice(WHITESPACE) + random_value(rng, rng.randint(1, 6), top=True) + rng.choice(WHITESPACE)).encode()


NOISE = list(b'{}[],:"\\ -+.0123456789eEtrufalsnu') + [0x00, 0x0B, 0x0C, 0x1F, 0x7F, 0x80, 0xBF, 0xC0, 0xC3, 0xE0, 0xED, 0xEF,
                                                      0xF0, 0xF4, 0xFF]


def mutate(doc, rng):
    doc = bytearray(doc)
    for _ in range(rng.randint(1, 3)):
        at = rng.randint(0, len(doc))
        action = rng.choice(["insert", "delete", "replace", "repeat"])
        if action == "insert" or not doc:
            doc.insert(at, rng.choice(NOISE))
        elif action == "delete":
            del doc[min(at, len(doc) - 1)]
        elif action == "replace":
            doc[min(at, len(doc) - 1)] = rng.choice(NOISE)
        else:
            doc[at:at] = doc[at:at + rng.randint(1, 8)]
    return bytes(doc)


def nested(levels, inner, rng):
    opens, closes = [], []
    for _ in range(levels):
        if rng.random() < 0.5:
            opens.append("[" + rng.choice(WHITESPACE))
            closes.append("]")
        else:
            opens.append('{"k":')
            closes.append("}")
    return ("".join(opens) + inner + "".join(reversed(closes))).encode()


# Hand-picked edges, each kind a few ways; random documents, whole and mutated, fill the count.

def edges(rng):
    cases = []

    def add(kind, *docs):
        cases.extend((kind, d if isinstance(d, bytes) else d.encode()) for d in docs)

    def quoted(*texts):
        return ['"' + t + '"' for t in texts]

    add("keys", '{"a":1,"A":2}', '{"a":1,"a ":2}', '{"":1,"\\u0000":2}', '{"é":1,"e":2}', '{"a":{"a":{"a":1}}}',
        '[{"a":1},{"a":2}]')
    wide = ['"k%d":%d' % (i, i) for i in range(40)]  # past JSONParser.linearScanLimit, where a set finds duplicates
    add("duplicate_keys", '{"a":1,"a":2}', '{"a":1,"a":1}', '{"a":1,"\\u0061":2}', '{"a\\/b":1,"a/b":2}', '{"":1,"":2}',
        '{"x":{"a":[],"b":0,"a":null}}', '[1,{"k":{"d":1,"d":2}}]', '{"😀":1,"\\ud83d\\ude00":2}',
        "{" + ",".join(wide + ['"k0":0']) + "}", "{" + ",".join(wide + ['"k39":0']) + "}",
        "{" + ",".join(wide[:15] + ['"k14":0']) + "}", "{" + ",".join(wide[:16] + ['"k0":0']) + "}")
    # Distinct code points that Unicode calls the same text (NFC): Swift's String == does.
    add("equivalent_keys", '{"é":1,"e\u0301":2}', '{"K":1,"\u212a":2}', '{"\\u212a":1,"K":2}', '{";":1,"\u037e":2}',
        '{"\u00c5":1,"\u212b":2}', '{"\u1e69":1,"s\u0323\u0307":2}', "{" + ",".join(wide + ['"K":0', '"\\u212a":1']) + "}")
    for levels in [1, 2, MAXIMUM_DEPTH - 1, MAXIMUM_DEPTH, MAXIMUM_DEPTH + 1, MAXIMUM_DEPTH + 2, 100, 200]:
        add("nesting", "[" * levels + "]" * levels, '{"k":' * levels + "1" + "}" * levels,
            nested(levels, "[]", rng), nested(levels, "{}", rng))
    add("nesting", "[" * 10 + "]" * 9, "[" * 9 + "]" * 10, "[" * 100, "]" * 3, '{"k":' * 70, "[{]}", "{[}]")
    add("surrogates", *quoted("\\ud83d\\ude00", "\\uD83D\\uDE00", "\\ud800\\udc00", "\\udbff\\udfff", "a\\ud83d\\ude00b",
                              "\\ud800\\u", "\\ud800\\u00", "\\ud800\\uzzzz", "\\ud800\\", "\\ud800", "\\udc00", "\\udfff",
                              "\\ud800\\ud800", "\\udc00\\ud800", "\\ud800\\u0041", "\\ud800a", "\\ud800\\n", "\\ud83dx\\ude00",
                              "\\ude00\\ud83d", "\\uDBFF"), '{"\\ud800":1}', '["\\udc00",1]')
    add("utf8", *quoted("é", "模型", "😀", "\U0010ffff", "\uffff", "\ufffe", "\ufdd0", "\u0301", "e\u0301", "\u2028\u2029",
                        "\ufeff", "\ufffd"), '{"模":"型"}')
    bad = [b"\xc0\x80", b"\xc1\xbf", b"\xe0\x80\x80", b"\xe0\x9f\xbf", b"\xf0\x80\x80\x80", b"\xf0\x8f\xbf\xbf",  # overlong
           b"\xed\xa0\x80", b"\xed\xbf\xbf", b"\xed\xa0\xbd\xed\xb8\x80",  # surrogates, CESU-8
           b"\xf4\x90\x80\x80", b"\xf5\x80\x80\x80", b"\xf8\x88\x80\x80\x80", b"\xfe", b"\xff",  # past U+10FFFF
           b"\x80", b"\xbf", b"\xc3", b"\xe2\x82", b"\xf0\x9f\x98", b"\xc3a", b"\xe2\x82a", b"a\x80b", b"\xc3\xa9\xa9"]
    add("invalid_utf8", *[b'"' + s + b'"' for s in bad], *[b'"\\n' + s + b'"' for s in bad[:8]],
        *[b'["\\u00e9' + s + b'"]' for s in bad[16:20]], *[b'{"' + s + b'":1}' for s in bad[:4]],
        *[b"[1," + s + b"2]" for s in bad[:4]], *bad[:4], b"[1]\x80")
    add("bom", b"\xef\xbb\xbf{}", b"\xef\xbb\xbf1", b'\xef\xbb\xbf"a"', b"{}\xef\xbb\xbf", b"[\xef\xbb\xbf1]", b"\xef\xbb\xbf",
        b'"\xef\xbb\xbf"', b"\xfe\xff\x00[\x00]", b"\xff\xfe[\x00]\x00", b"\xef\xbb{}")
    add("numbers", "0", "-0", "0.0", "-0.0", "0e0", "-0E+0", "0.000e-5", "1", "-1", "10", "100", "1.5", "1.50", "-1.50e3",
        "1e400", "1E400", "1E-400", "-1e-400", "1e+400", "1e0000000000000000000000005", "1.0e-0000", "123.456e-789",
        "9007199254740993", "18446744073709551616", "-9223372036854775809", "1." + "0" * 30 + "1", "0." + "0" * 400 + "1",
        "1e999999999", "1e-999999999", "2e-99999999999999999999999", "1" + "0" * 5000, "-" + "9" * 5000, "4.9e-324",
        "1.7976931348623157e308", "[-0,0,-0.0]", '{"n":1e400}',
        "01", "-01", "00", "0x10", "1.", "-1.", ".1", "-.1", "+1", "+0", "-", "--1", "- 1", "1e", "1E+", "1e-", "1.e5", "1e5.5",
        "1_000", "1,000", "1.5e", "0.e1", "1ee5", "1e+-5", "[01]", '{"a":1.}', "[.5]", "[+1]", "\u0661", "\uff11", "1\u0661",
        "[1 2]")
    add("non_finite", "NaN", "Infinity", "-Infinity", "[NaN]", '{"a":Infinity}', "[-Infinity,1]", "nan", "inf", "-inf", "-NaN")
    add("literals", "true", "false", "null", "[true,false,null]", "True", "FALSE", "Null", "tru", "nul", "nulll", "truefalse",
        "tRue", "[true false]", "undefined", "none", "t", "n\x00ull")
    add("control_chars", *quoted(*map(chr, range(0x20)), "a\x7fb", "\x7f", "a\tb"), '{"a\n":1}',
        *quoted(*("\\u%04x" % c for c in range(0, 0x20, 3))),
        *quoted("\\b\\f\\n\\r\\t\\\"\\\\\\/", "\\x41", "\\'", "\\a", "\\v", "\\0", "\\U0041", "\\u12", "\\u123", "\\u12g4",
                "\\u+123", "\\u-123", "\\u 123", "\\", "\\\\\\", "\\uD83D\\uDE00\\"), '"abc', '"\\"', '"\\u00', '"a\\')
    add("trailing_commas", "[1,]", '{"a":1,}', "[1,,2]", "[,]", "{,}", "[,1]", '{,"a":1}', "[1,2,]", '{"a":[1,],"b":2}',
        "[[],]", '[{"a":1},]', "1,", '"a",', "[1],")
    bad_ws = ["\v", "\f", "\x00", "\u00a0", "\u2028", "\u3000", "\ufeff", "\u0085", "\u200b", "\x1c"]
    good_ws = [" ", "\t", "\n", "\r", "\r\n", " \t\n\r "]
    add("whitespace", *(w.join(["", "{", '"a"', ":", "[", "1", ",", "2", "]", "}", ""]) for w in good_ws),
        *(w + "[1]" for w in bad_ws), *("[1" + w + "]" for w in bad_ws), *('{"a"' + w + ":1}" for w in bad_ws),
        *("[1]" + w for w in bad_ws))
    add("trailing_garbage", "[1]x", "{}}", "[]]", "1 2", '"a""b"', "{}{}", "[][]", "null null", "1\x00", "[1]//c", "[1]/**/",
        "[1] ,", "0x", "truex", '"a" :', "[1]\u00a0", "1 ]")
    add("empty", "", " ", "\n", "\t\r\n ", "\x00", b"\xef\xbb\xbf ")
    add("top_level_scalars", "1", "-0.5e3", '"s"', '""', "true", "false", "null", " 7 ", '"\\u0000"', "0")
    add("structure", "{'a':1}", "{a:1}", '{"a" 1}', '{"a"::1}', '{"a":}', "{:1}", "{1:2}", '{"a",1}', "[1:2]", '{"a":1 "b":2}',
        '["a" "b"]', "{", "[", '{"a"', '{"a":', "]", "}", ":", ",", "[}", "{]", "(1)", "<1>", "'a'", "`a`", '{"a":1}/*x*/', "#1",
        '{"a":1;"b":2}')
    return cases


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--count", type=int, required=True, help="cases in all: the hand-picked edges, then random ones")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    cases = edges(rng)
    while len(cases) < args.count:
        cases.append(("random", random_document(rng)) if rng.random() < 0.6 else ("mutated", mutate(random_document(rng), rng)))
    for kind, doc in cases:
        accept, value = verdict(doc)
        line = {"doc": base64.b64encode(doc).decode(), "accept": accept, "value": canonical(value) if accept else None,
                "kind": (accept and feature(value)) or kind}
        print(json.dumps(line))


if __name__ == "__main__":
    main()
