#!/usr/bin/env python3
"""Draft packsim's Mesos v1 .proto files from the field table ../shared/mesos/v1-fields.tsv.

Used once to write proto/proto/mesos/v1/{mesos,scheduler/scheduler}.proto; those files are the
source from then on (edit them, not this). The test `proto/tests/it/fields.rs` checks the compiled
descriptors against the table field by field, whoever edits the files.

Only what a scheduler reaches is written: the transitive closure of scheduler.Call and
scheduler.Event (message fields, map values and enclosing messages).
Usage: python3 proto/tools/draft_protos.py ../shared/mesos/v1-fields.tsv proto/proto
"""
import csv
import sys
from collections import OrderedDict

tsv, out = sys.argv[1], sys.argv[2]
rows = list(csv.DictReader(open(tsv), delimiter="\t"))
messages, enums, files = OrderedDict(), OrderedDict(), {}
for r in rows:
    if r["kind"] == "message":
        messages.setdefault(r["parent"], [])
        files[r["parent"]] = r["file"]
    elif r["kind"] == "enum":
        enums.setdefault(r["parent"], [])
        files[r["parent"]] = r["file"]
    elif r["kind"] == "field":
        messages.setdefault(r["parent"], []).append(r)
    elif r["kind"] == "enum_value":
        enums.setdefault(r["parent"], []).append(r)


def referenced(f):
    t = f["type_name"]
    if t.startswith("map<"):
        t = t[4:-1].split(",", 1)[1]
    return t


keep, stack = set(), ["mesos.v1.scheduler.Call", "mesos.v1.scheduler.Event"]
while stack:
    name = stack.pop()
    if name in keep or (name not in messages and name not in enums):
        continue
    keep.add(name)
    parent = name.rsplit(".", 1)[0]
    if parent in messages:
        stack.append(parent)
    for f in messages.get(name, []):
        stack.append(referenced(f))
    # Enums nested in a kept message are kept with it (they are part of its text).
    for e in enums:
        if e.rsplit(".", 1)[0] == name:
            keep.add(e)

SCALARS = {"string", "bytes", "bool", "double", "float", "int32", "int64", "uint32", "uint64"}


def ftype(f):
    if f["type"] == "map":
        k, v = f["type_name"][4:-1].split(",", 1)
        v = v if v in SCALARS else "." + v
        return f"map<{k}, {v}>"
    if f["type"] in ("message", "enum"):
        return "." + f["type_name"]
    return f["type"]


def options(f):
    opts = []
    if f["default"] != "":
        d = f["default"]
        if f["type"] == "string":
            d = '"' + d + '"'
        opts.append(f"default = {d}")
    if f["deprecated"]:
        opts.append("deprecated = true")
    return f" [{', '.join(opts)}]" if opts else ""


def emit_enum(name, ind, lines):
    lines.append(f"{ind}enum {name.rsplit('.', 1)[1]} {{")
    for v in enums[name]:
        dep = " [deprecated = true]" if v["deprecated"] else ""
        lines.append(f"{ind}  {v['name']} = {v['number']}{dep};")
    lines.append(f"{ind}}}")


def emit_message(name, ind, lines):
    lines.append(f"{ind}message {name.rsplit('.', 1)[1]} {{")
    fields = messages[name]
    done_oneofs = set()
    for f in fields:
        if f["oneof"]:
            if f["oneof"] in done_oneofs:
                continue
            done_oneofs.add(f["oneof"])
            lines.append(f"{ind}  oneof {f['oneof']} {{")
            for g in fields:
                if g["oneof"] == f["oneof"]:
                    lines.append(f"{ind}    {ftype(g)} {g['name']} = {g['number']}{options(g)};")
            lines.append(f"{ind}  }}")
            continue
        label = "" if f["type"] == "map" else f["label"] + " "
        lines.append(f"{ind}  {label}{ftype(f)} {f['name']} = {f['number']}{options(f)};")
    for child in list(enums) + list(messages):
        if child in keep and child.rsplit(".", 1)[0] == name:
            lines.append("")
            (emit_enum if child in enums else emit_message)(child, ind + "  ", lines)
    lines.append(f"{ind}}}")


def write(file, package, imports, header):
    lines = [header, 'syntax = "proto2";', "", f"package {package};", ""]
    lines += [f'import "{i}";' for i in imports]
    if imports:
        lines.append("")
    top = [n for n in list(enums) + list(messages)
           if n in keep and files[n] == file and n.rsplit(".", 1)[0] == package]
    for n in top:
        (emit_enum if n in enums else emit_message)(n, "", lines)
        lines.append("")
    with open(f"{out}/{file}", "w") as fh:
        fh.write("\n".join(lines).rstrip() + "\n")
    return len(top)


HEADER = """// packsim's own description of the Mesos v1 {what} (Apache Mesos 1.11.0 wire format).
// Only the messages a scheduler reaches from scheduler.Call and scheduler.Event are here. Field
// numbers, types, labels and defaults must equal the official ones: proto/tests/it/fields.rs checks
// every field against ../shared/mesos/v1-fields.tsv. Drafted by proto/tools/draft_protos.py."""
write("mesos/v1/mesos.proto", "mesos.v1", [], HEADER.format(what="messages"))
write("mesos/v1/scheduler/scheduler.proto", "mesos.v1.scheduler", ["mesos/v1/mesos.proto"],
      HEADER.format(what="scheduler API"))
print(f"{len([k for k in keep if k in messages])} messages, {len([k for k in keep if k in enums])} enums")
