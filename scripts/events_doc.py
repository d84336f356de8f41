"""Regenerate the catalogue table of docs/events.md from the code's catalogue:

    .venv/bin/python scripts/events_doc.py
"""
from pathlib import Path
from modelsteward.events.service import catalogue_entries
lines = ["| event | about | meaning | payload |", "| --- | --- | --- | --- |"]
for e in catalogue_entries():
    props = e["payload"].get("properties", {})
    req = set(e["payload"].get("required", []))
    fields = ", ".join(f"`{k}`" + ("" if k in req else "?") for k in props) or "(none)"
    lines.append(f"| `{e['name']}` | {e['object_type']} | {e['meaning']} | {fields} |")
doc = Path("docs/events.md")
head, _, rest = doc.read_text().partition("| event | about | meaning | payload |")
doc.write_text(head + "\n".join(lines) + "\n")
