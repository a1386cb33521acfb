"""Start the app's server: ``python launch.py [streamlit run options]`` (what ``make run`` does).

The same as ``streamlit run app.py``, except that the heavy libraries the pages use are imported
on a side thread while the server starts and the browser loads its scripts. The first page a
visitor opens then finds them loaded instead of importing them (about a second on a laptop) before
it can draw anything.

Only third-party libraries are warmed: they never import Journeymap, so the side thread and the
first page's own imports cannot wait on each other. Nothing of Journeymap is imported here: a page
module imported outside a page run would miss Streamlit's registration of its components.
"""

from __future__ import annotations

import importlib
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from streamlit.web import cli

APP = Path(__file__).resolve().parent / "app.py"

WARM_MODULES = (
    "numpy",
    "pandas",
    "polars",
    "pyarrow",
    "networkx",
    "sqlalchemy",
    "sqlmodel",
    "plotly.graph_objects",
)


def _warm() -> None:
    for name in WARM_MODULES:
        importlib.import_module(name)


def main(argv: Sequence[str] | None = None) -> None:
    """Warm the libraries on a daemon thread, then run ``streamlit run app.py`` with ``argv``."""
    threading.Thread(target=_warm, name="warm-imports", daemon=True).start()
    args = list(sys.argv[1:] if argv is None else argv)
    cli.main(["run", str(APP), *args], prog_name="streamlit")


if __name__ == "__main__":
    main()
