"""Serving the explorer: Solara's Starlette app under uvicorn, on 127.0.0.1 by default.

The scenario file is handed to :mod:`cicasim.explore.app` through an environment variable set
here, before the app is imported; the browser never names a file.
"""

from __future__ import annotations

import os
import socket
import threading
import webbrowser
from pathlib import Path

__all__ = ["free_port", "serve"]


def free_port(host: str = "127.0.0.1") -> int:
    """A port the operating system reports free on ``host``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _warm_up() -> None:
    """Compile the kernel (numba) before the first page asks for a run."""
    from cicasim.explore.settings import initial_settings, load, overview

    try:
        scenario, _ = load(os.environ.get("CICASIM_EXPLORE_SCENARIO") or None)
        overview(scenario, initial_settings(scenario, replications=64))
    except Exception:  # the page shows any error in its own panel
        pass


def serve(scenario: str | Path | None, *, host: str = "127.0.0.1", port: int = 8765,
          browser: bool = True) -> None:
    """Serve the explorer of ``scenario`` (None: the bundled CICA 2022) until interrupted;
    prints the address (and opens it in a browser unless ``browser`` is False)."""
    import uvicorn

    from cicasim.explore.app import SCENARIO_ENV

    if scenario is not None:
        os.environ[SCENARIO_ENV] = str(Path(scenario).resolve())
    else:
        os.environ.pop(SCENARIO_ENV, None)
    os.environ["SOLARA_APP"] = "cicasim.explore.app"
    if port == 0:
        port = free_port(host)
    _warm_up()
    url = f"http://{host}:{port}/"
    config = uvicorn.Config("solara.server.starlette:app", host=host, port=port,
                            log_level="warning", lifespan="on")
    server = uvicorn.Server(config)

    def announce() -> None:
        while not server.started:
            if server.should_exit:
                return
            threading.Event().wait(0.1)
        print(f"cicasim explore: serving on {url} (Ctrl-C stops it)", flush=True)
        if browser:
            webbrowser.open(url)

    threading.Thread(target=announce, daemon=True).start()
    server.run()
