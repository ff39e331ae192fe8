#!/usr/bin/env python3
"""Reads the expected values of the CAMT files in this folder from their
XML elements, independently of finseg's parser, and writes expected.json:
per file the number of statements (Stmt, Rpt or Ntfctn), the number of
entries (Ntry) and their sum in minor units per currency (Ntry/Amt, signed
by Ntry/CdtDbtInd). Python's standard library only; run it again after
adding a file.
"""
import decimal
import json
import pathlib
import xml.etree.ElementTree as ET

HERE = pathlib.Path(__file__).parent


def local(tag):
    return tag.rsplit("}", 1)[-1]


def child(node, name):
    return next((c for c in node if local(c.tag) == name), None)


def read(path):
    root = ET.parse(path).getroot()
    statements = [n for n in root.iter() if local(n.tag) in ("Stmt", "Rpt", "Ntfctn")]
    entries, sums = 0, {}
    for st in statements:
        for ntry in (c for c in st if local(c.tag) == "Ntry"):
            amt = child(ntry, "Amt")
            value = decimal.Decimal(amt.text.strip())
            if child(ntry, "CdtDbtInd").text.strip() == "DBIT":
                value = -value
            cents = value * 100
            assert cents == cents.to_integral_value(), (path, value)
            ccy = amt.get("Ccy")
            sums[ccy] = sums.get(ccy, 0) + int(cents)
            entries += 1
    return {"statements": len(statements), "entries": entries, "sumMinorUnits": sums}


expected = {p.name: read(p) for p in sorted(HERE.glob("*.xml"))}
(HERE / "expected.json").write_text(json.dumps(expected, indent=1, sort_keys=True) + "\n")
