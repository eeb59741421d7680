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

__all__ = ["setup_plotly", "BookHtmlRenderer", "PALETTE", "TEMPLATE_NAME"]

TEMPLATE_NAME = "reprobook"
# Okabe-Ito: distinguishable with the common colour-vision deficiencies
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]


class BookHtmlRenderer(MimetypeRenderer):
    """A ``text/html`` renderer for static sites that load plotly.js themselves."""

    def __init__(self, default_height: int = 480):
        self.default_height = default_height

    def to_mimebundle(self, fig_dict):
        html = pio.to_html(
            fig_dict,
            include_plotlyjs=False,
            include_mathjax=False,
            full_html=False,
            default_width="100%",
            default_height=self.default_height,
            validate=False,
            config={"responsive": True, "displaylogo": False},
        )
        return {"text/html": html}


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
