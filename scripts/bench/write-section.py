"""Replaces (or appends) one '## ' section of a Markdown file: write-section.py FILE HEADING TEXT"""
import sys
from pathlib import Path

path, heading, text = Path(sys.argv[1]), sys.argv[2], sys.argv[3].rstrip() + "\n"
doc = path.read_text() if path.exists() else "# Benchmarks\n\nEach section is written by its script in `scripts/bench/`; medians, side by side in one run.\n"
lines = doc.splitlines(keepends=True)
start = next((i for i, line in enumerate(lines) if line.strip() == heading), None)
if start is None:
    doc = doc.rstrip() + "\n\n" + text
else:
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    doc = "".join(lines[:start]) + text + ("\n" + "".join(lines[end:]) if end < len(lines) else "")
path.write_text(doc)
