"""What a function's binary is made of, from the linker's map: bytes per crate (Rust code, by the
symbol its section is named after), aws-lc's C and assembly objects, and the linker's own
sections (relocations, unwind tables).

    scripts/size_breakdown.sh FUNCTION     relinks FUNCTION with a map file, then runs this
    python3 bench/size_breakdown.py MAP [TOP]

The map is rust-lld's (`-Wl,-Map`): one line per input section, `VMA LMA SIZE ALIGN file:(section)`.
Sections are attributed to the first crate named in their (mangled) symbol that is not core,
alloc or std; anonymous constants (`.Lanon…`) are listed as such, with the largest shown.
"""

import collections
import re
import sys

INPUT = re.compile(r"^\s*[0-9a-f]+\s+[0-9a-f]+\s+([0-9a-f]+)\s+\d+\s{9}(\S.*?):\((\S+)\)\s*$")
OUTPUT = re.compile(r"^\s*[0-9a-f]+\s+[0-9a-f]+\s+([0-9a-f]+)\s+\d+\s(\.\S+)\s*$")
GENERIC = {"core", "alloc", "std"}


def legacy_segments(symbol: str) -> list[str]:
    """The path segments of a legacy-mangled Rust symbol (`_ZN4core3ptr13drop_in_place…E`)."""
    segments, rest = [], symbol.split("_ZN", 1)[1] if "_ZN" in symbol else ""
    while (m := re.match(r"(\d+)", rest)) and int(m.group(1)) > 0:
        n, rest = int(m.group(1)), rest[len(m.group(1)):]
        segments.append(rest[:n])
        rest = rest[n:]
    return segments


def owner(path: str, section: str) -> str:
    if "aws_lc" in path or "aws-lc" in path:
        return "aws-lc (C and assembly)"
    if path.startswith("<internal>"):
        return f"linker: {section}"
    if ".rcgu.o" not in path:
        return "other objects (libc start files, std)"
    if section.startswith(".eh_frame") or section.startswith(".gcc_except_table"):
        return "unwind tables (.eh_frame)"
    if ".Lanon." in section:
        return "anonymous constants"
    segments = legacy_segments(section)
    if not segments:
        # v0 mangling (`_R…`, std's prebuilt code): the crate name follows its disambiguator.
        m = re.search(r"_R\w*?Cs\w+?_(\d+)([a-z_][a-z0-9_]*)", section)
        return m.group(2)[: int(m.group(1))] if m else "unnamed " + section.split(".")[1]
    if segments[0] not in GENERIC:
        return segments[0]
    # core::ptr::drop_in_place<aws_smithy_runtime::…>: the type's crate owns the code.
    for crate in re.findall(r"([a-z_][a-z0-9_]*)\.\.", "".join(segments[1:])):
        if crate not in GENERIC:
            return crate
    return segments[0]


def main() -> None:
    path = sys.argv[1]
    top = int(sys.argv[2]) if len(sys.argv) > 2 else 25
    owners, outputs, anonymous = collections.Counter(), collections.Counter(), []
    for line in open(path, errors="replace"):
        if m := OUTPUT.match(line):
            outputs[m.group(2)] += int(m.group(1), 16)
        elif m := INPUT.match(line):
            size, file, section = int(m.group(1), 16), m.group(2), m.group(3)
            if size == 0 or section.startswith((".bss", ".tbss")):
                continue
            who = owner(file, section)
            owners[who] += size
            if who == "anonymous constants":
                anonymous.append(size)
    total = sum(owners.values())
    print(f"{total / 1e6:.2f} MB in the file's sections")
    print("by output section: " + ", ".join(f"{k} {v / 1e6:.2f} MB" for k, v in outputs.most_common(6)))
    for who, size in owners.most_common(top):
        print(f"{size / 1e6:7.3f} MB  {size / total:5.1%}  {who}")
    if anonymous:
        print("largest anonymous constants: " + ", ".join(f"{s / 1e3:.0f} KB" for s in sorted(anonymous)[-3:][::-1]))


if __name__ == "__main__":
    main()
