"""End to end: `cicasim explore` on a free port, driven through Playwright in the system
Chromium (Debian's `chromium` package, never a downloaded browser).

Reads P(consensus) off the Overview, moves a slider and sees it change, ticks an observer and
sees the member count and ΔP, steps the negotiation, downloads the scenario TOML and checks
that `cicasim run` on it prints the page's numbers; saves screenshots (into the directory
named by CICASIM_SCREENSHOTS, docs/img/explorer for the docs; a temporary one otherwise).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("solara", reason="the explorer needs the explore extra (cicasim[explore])")
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")

ROOT = Path(__file__).resolve().parents[1]
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
CICASIM = str(Path(sys.executable).with_name("cicasim"))
REPLICATIONS = 1000
TIMEOUT = 60_000  # ms: the first run compiles the kernel


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    port = _free_port()
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    proc = subprocess.Popen(
        [CICASIM, "explore", "--no-browser", "--port", str(port)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    url = None
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        line = proc.stdout.readline()
        if "serving on" in line:
            url = line.split("serving on ", 1)[1].split()[0]
            break
    if url is None:
        proc.kill()
        pytest.fail(f"cicasim explore did not start: {proc.stdout.read()}")
    yield url
    proc.terminate()
    proc.wait(timeout=20)
    proc.stdout.close()


def _p_values(page) -> dict[str, float]:
    cells = page.locator(".cicasim-overview td.p-consensus")
    return {c.get_attribute("data-proposal"): float(c.inner_text()) for c in cells.all()}


def _wait_fresh(page) -> None:
    page.locator(".cicasim-status-done").first.wait_for(timeout=TIMEOUT)


@pytest.mark.slow
def test_explorer_in_chromium(server, tmp_path):
    chromium = _chromium()
    if chromium is None:
        pytest.skip("no Chromium: install Debian's chromium package (apt-get install chromium)")
    shots = Path(os.environ.get("CICASIM_SCREENSHOTS") or tmp_path / "shots")
    shots.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
        page.set_default_timeout(TIMEOUT)
        page.goto(server)
        _wait_fresh(page)  # the page is live (its first run is shown) before anything is typed
        # fewer replications, so the suite stays quick
        box = page.get_by_label("replications")
        box.fill(str(REPLICATIONS))
        box.press("Enter")
        page.wait_for_function(
            "document.body.innerText.includes('1,000 replications per proposal')",
            timeout=TIMEOUT)
        _wait_fresh(page)
        before = _p_values(page)
        assert before and all(0 <= p <= 1 for p in before.values())
        page.screenshot(path=str(shots / "overview.png"), full_page=True)

        # a slider: stubbornness down to about 0.15 changes P(consensus)
        slider = page.locator(".slider-stubbornness .v-slider").first
        box_ = slider.bounding_box()
        started = time.perf_counter()
        page.mouse.click(box_["x"] + box_["width"] * 0.15, box_["y"] + box_["height"] / 2)
        page.wait_for_function(
            """(before) => {
                 const c = [...document.querySelectorAll('.cicasim-overview td.p-consensus')];
                 return c.length && c.some(e => e.innerText !== before[e.dataset.proposal]); }""",
            arg={k: f"{v:.3f}" for k, v in before.items()}, timeout=TIMEOUT)
        print(f"re-run after a slider move: {time.perf_counter() - started:.2f} s "
              f"({REPLICATIONS} replications x {len(before)} proposals, in the browser)")
        _wait_fresh(page)
        after = _p_values(page)
        assert after != before

        # membership: tick Japan, see the member count and ΔP
        page.get_by_role("tab", name="Membership").click()
        page.locator(".join-JPN label").first.click()
        page.locator(".cicasim-membership td.delta-p").first.wait_for(timeout=TIMEOUT)
        assert page.locator(".cicasim-members").first.inner_text() == "members: 28 → 29"
        page.screenshot(path=str(shots / "membership.png"), full_page=True)

        # one negotiation: Mesa's SolaraViz, stepped with its own Step button (in the sidebar)
        page.get_by_role("tab", name="One negotiation").click()
        page.locator(".cicasim-round").first.wait_for(timeout=TIMEOUT)
        assert page.locator(".cicasim-round").first.inner_text() == "0"
        page.get_by_role("button", name="Step").click()
        page.wait_for_function(
            "document.querySelector('.cicasim-round') && "
            "document.querySelector('.cicasim-round').innerText === '1'", timeout=TIMEOUT)
        page.screenshot(path=str(shots / "negotiation.png"), full_page=True)

        # downloads: the scenario file reproduces the page's numbers
        page.get_by_role("tab", name="Downloads").click()
        with page.expect_download() as dl:
            page.locator(".cicasim-download-toml").first.click()
        saved = tmp_path / "explored.toml"
        dl.value.save_as(saved)
        page.screenshot(path=str(shots / "downloads.png"), full_page=True)
        browser.close()
    out = subprocess.run(
        [CICASIM, "run", str(saved), "--seed", "1", "-n",
         str(REPLICATIONS), "--json"], capture_output=True, text=True, check=True, cwd=ROOT)
    printed = {p["id"]: p["p_consensus"] for p in json.loads(out.stdout)["proposals"]}
    assert {k: f"{v:.3f}" for k, v in printed.items()} == {
        k: f"{v:.3f}" for k, v in after.items()}
