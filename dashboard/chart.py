"""Plotly charts drawn by plotly.js that the browser loads once, not once per chart.

``solara.FigurePlotly`` makes a plotly ``FigureWidget``, an anywidget whose front-end code
(5 MB, plotly.js included) travels over the websocket with every new chart and is run again
in the browser; it then adds the traces and the layout in separate messages, each redrawn.
A page switch took 2.5-3.5 s, almost all of it there. ``Chart`` sends the figure's JSON
once; its front end draws it with ``Plotly.react`` and the one plotly.js that the browser
fetches when a session opens (``PlotlyLoader``): plotly.js's cartesian bundle in
``dashboard/assets``, served offline at ``/static/assets/``. Hover, zoom and the PNG
download of plotly's mode bar work as before.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anywidget
import plotly.graph_objects as go
import solara
import traitlets

# plotly.js's cartesian bundle (1.5 MB; the full plotly.js is 4.8 MB), in dashboard/assets;
# it must be the plotly.js version of the installed plotly package (see its README).
PLOTLY_JS_VERSION = "4.1.1"
ASSETS_DIR = Path(__file__).resolve().parent / "assets"
PLOTLY_JS_FILE = f"plotly-cartesian-{PLOTLY_JS_VERSION}.min.js"
PLOTLY_JS_URL = f"/static/assets/{PLOTLY_JS_FILE}"
# What the mode bar offers: the PNG download, zoom and reset; no link to plotly's cloud.
PLOT_CONFIG = {"displaylogo": False, "responsive": True, "toImageButtonOptions": {"scale": 2}}

_FRONT_END = """
function plotly(url) {
  if (!window.__osloregionPlotly) {
    window.__osloregionPlotly = window.Plotly
      ? Promise.resolve(window.Plotly)
      : new Promise((resolve, reject) => {
          const script = document.createElement("script");
          script.src = url;
          script.onload = () => resolve(window.Plotly);
          script.onerror = () => reject(new Error("plotly.js did not load from " + url));
          document.head.appendChild(script);
        });
  }
  return window.__osloregionPlotly;
}

export default {
  async render({ model, el }) {
    el.classList.add("osloregion-chart");
    el.style.width = "100%";
    const Plotly = await plotly(model.get("plotly_url"));
    const draw = () => {
      const figure = model.get("figure");
      el.style.display = figure.data ? "" : "none"; // no figure: only load plotly.js
      if (figure.data) Plotly.react(el, figure.data, figure.layout || {}, model.get("config"));
    };
    draw();
    model.on("change:figure", draw);
    return () => Plotly.purge(el);
  },
};
"""


class PlotlyChart(anywidget.AnyWidget):
    """A plotly figure (its JSON) drawn by the browser's one copy of plotly.js."""

    _esm = _FRONT_END
    figure = traitlets.Dict().tag(sync=True)
    config = traitlets.Dict().tag(sync=True)
    plotly_url = traitlets.Unicode(PLOTLY_JS_URL).tag(sync=True)


def figure_json(figure: go.Figure) -> dict[str, Any]:
    """The figure as JSON, as plotly.js takes it (numpy arrays as plotly's base64 typed arrays)."""
    return json.loads(figure.to_json())


@solara.component
def Chart(figure: go.Figure | Callable[[], go.Figure], dependencies: list | None = None):
    """Draw ``figure`` (a figure, or a function that builds one).

    With ``dependencies``, the figure is built only when they change: building it is the
    slow part of a re-render.
    """
    spec = solara.use_memo(
        lambda: figure_json(figure() if callable(figure) else figure),
        [object()] if dependencies is None else dependencies,  # None: every render
    )
    PlotlyChart.element(figure=spec, config=PLOT_CONFIG)


@solara.component
def PlotlyLoader():
    """Nothing to see: loads plotly.js when a session opens, so its first chart need not wait."""
    PlotlyChart.element(figure={}, config={})
