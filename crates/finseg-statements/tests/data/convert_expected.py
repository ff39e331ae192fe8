#!/usr/bin/env python3
"""Turns the expected values shipped beside the samples into plain JSON.

The MT940 `.yml` files are PyYAML dumps of python `mt940` objects and the
CAMT `.pydata` file is a Python literal; neither can be read from Rust as
they are. This script (PyYAML, no `mt940` package needed) writes
`<sample>.expected.json` next to each, keeping only plain values: decimals
as strings, dates as ISO strings. Run it again after adding a sample.
"""
import ast
import datetime
import json
import pathlib
import re
import yaml

HERE = pathlib.Path(__file__).parent


class Loader(yaml.SafeLoader):
    pass


def construct_object(loader, suffix, node):
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    return None


def construct_apply(loader, suffix, node):
    args = loader.construct_sequence(node, deep=True) if isinstance(node, yaml.SequenceNode) else []
    if suffix == "decimal.Decimal":
        return args[0]
    if suffix == "mt940.models.Date":
        raw = args[0]
        return datetime.date((raw[0] << 8) | raw[1], raw[2], raw[3]).isoformat()
    return None


Loader.add_multi_constructor("tag:yaml.org,2002:python/object:", construct_object)
Loader.add_multi_constructor("tag:yaml.org,2002:python/object/apply:", construct_apply)
# Processor functions named in some dumps are code, not values.
Loader.add_multi_constructor("tag:yaml.org,2002:python/name:", lambda l, suffix, n: None)
Loader.add_constructor("tag:yaml.org,2002:binary", lambda l, n: __import__("base64").b64decode(l.construct_scalar(n)))


def plain(value):
    if isinstance(value, dict):
        if set(value) == {"amount", "currency"}:
            return {"amount": value["amount"], "currency": value["currency"]}
        return {k: plain(v) for k, v in value.items() if k != "transactions" and v is not None}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


for yml in sorted(HERE.glob("mt940/*/*.yml")):
    # Each transaction points back at its parent (a recursive anchor); drop the back-reference.
    text = re.sub(r"(?m)^\s+transactions: \*id\d+\n", "", yml.read_text(encoding="utf-8"))
    doc = yaml.load(text, Loader=Loader)
    if not isinstance(doc, dict):
        continue  # not a parsed file (a fragment of a test)
    out = {
        "statement": plain(doc.get("data", {})),
        "transactions": [plain(t["data"]) for t in doc.get("transactions", [])],
    }
    yml.with_suffix(".expected.json").write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n")

for py in sorted(HERE.glob("camt/*.pydata")):
    currency, account, statements = ast.literal_eval(py.read_text(encoding="utf-8"))
    out = {"currency": currency, "account": account, "statements": statements}
    py.with_name(py.name.replace(".expected.pydata", ".expected.json")).write_text(
        json.dumps(out, indent=1, ensure_ascii=False) + "\n")
