"""The book's plotly theme and the offline HTML renderer.

Inside a notebook kernel plotly emits only its JSON mimetype, which the book's HTML builder drops.
:func:`setup_plotly` registers ``book_html``, a renderer that emits a plain ``text/html`` div with
no embedded plotly.js and no MathJax CDN tag (the book loads a local ``plotly.min.js`` once), and
keeps the JSON mimetype beside it so figures stay interactive in JupyterLab.
"""

from __future__ import annotations

import plotly.graph_objects as go
import plotly.io as pio
from plotly.io._base_renderers import MimetypeRenderer

__all__ = ["setup_plotly", "BookHtmlRenderer", "PALETTE", "TEMPLATE_NAME", "fit_title"]

TEMPLATE_NAME = "reprobook"
# Okabe-Ito: distinguishable with the common colour-vision deficiencies
#: characters per title line: leaves the top-right corner to plotly's toolbar at the book's column width
TITLE_WIDTH = 60
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]


class BookHtmlRenderer(MimetypeRenderer):
    """A ``text/html`` renderer for static sites that load plotly.js themselves."""

    def __init__(self, default_height: int = 480):
        self.default_height = default_height

    def to_mimebundle(self, fig_dict):
        html = pio.to_html(
            fit_title(fig_dict),
            include_plotlyjs=False,
            include_mathjax=False,
            full_html=False,
            default_width="100%",
            default_height=self.default_height,
            validate=False,
            config={"responsive": True, "displaylogo": False},
        )
        from reprobook import downloads

        name = downloads.save_figure(fig_dict)
        slug = downloads.current_chapter()
        if name and slug:
            html += (f'<div class="figure-data"><a href="{downloads.site_href(slug, name)}" download>'
                     "this figure's data (plotly JSON)</a></div>")
        return {"text/html": html}


def _wrap(text: str, width: int) -> list[str]:
    lines: list[str] = []
    for paragraph in text.split("<br>"):
        line = ""
        for word in paragraph.split():
            if line and len(line) + 1 + len(word) > width:
                lines.append(line)
                line = word
            else:
                line = f"{line} {word}".strip()
        lines.append(line)
    return lines


def fit_title(fig_dict: dict, width: int = TITLE_WIDTH) -> dict:
    """Left-align the title and wrap it at ``width`` characters, so plotly's toolbar (top right)
    never covers it; the top margin grows with the number of lines.

    >>> fit_title({"layout": {"title": {"text": "a " * 40}}}, width=30)["layout"]["title"]["text"].count("<br>")
    2
    """
    layout = fig_dict.get("layout") or {}
    title = layout.get("title")
    text = title.get("text") if isinstance(title, dict) else title
    if not text:
        return fig_dict
    lines = _wrap(str(text), width)
    fitted = {**fig_dict, "layout": {**layout}}
    fitted["layout"]["title"] = {**(title if isinstance(title, dict) else {}), "text": "<br>".join(lines),
                                 "x": 0.0, "xanchor": "left", "xref": "container", "pad": {"l": 10}}
    margin = {**(layout.get("margin") or {})}
    margin["t"] = max(margin.get("t", 50), 30 + 22 * len(lines))
    fitted["layout"]["margin"] = margin
    return fitted


def _template() -> go.layout.Template:
    template = go.layout.Template(pio.templates["plotly_white"])
    template.layout.colorway = PALETTE
    template.layout.font = {"family": "Helvetica, Arial, sans-serif", "size": 13}
    template.layout.margin = {"l": 60, "r": 20, "t": 50, "b": 50}
    template.layout.hoverlabel = {"namelength": -1}
    return template


def setup_plotly() -> None:
    """Register the book theme and renderer; call once in a chapter's first code cell."""
    pio.templates[TEMPLATE_NAME] = _template()
    pio.templates.default = TEMPLATE_NAME
    pio.renderers["book_html"] = BookHtmlRenderer()
    pio.renderers.default = "plotly_mimetype+book_html"
