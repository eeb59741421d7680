"""A small Sphinx extension that keeps the built pages offline and free of console errors.

jupyter-book 1 registers sphinx-thebe's inline configuration script twice (a redeclared ``const``
is a console error) and that script names a CDN address even though live code is off. Both go.
"""

from __future__ import annotations

from typing import Any


def _clean_scripts(app: Any, pagename: str, templatename: str, context: dict, doctree: Any) -> None:
    scripts = context.get("script_files")
    if not scripts:
        return
    kept, seen = [], set()
    for script in scripts:
        body = getattr(script, "attributes", {}).get("body", "") if hasattr(script, "attributes") else ""
        if "THEBE_JS_URL" in body or "sphinx-thebe.js" in str(script):
            continue
        key = (str(script), body)
        if key in seen:
            continue
        seen.add(key)
        kept.append(script)
    context["script_files"] = kept


def setup(app: Any) -> dict[str, Any]:
    app.connect("html-page-context", _clean_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
