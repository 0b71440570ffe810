"""End to end: `cicasim explore` on a free port, driven through Playwright in the system
Chromium (Debian's `chromium` package, never a downloaded browser).

Reads P(consensus) off the Overview (the command line's numbers for the bundled scenario), moves
a slider and sees it change, asks the mission's question (India cares more about corridors: its
salience on connectivity; Turkmenistan joins: the member count and ΔP appear), steps the
negotiation with SolaraViz's controls, computes pivotality, downloads the scenario TOML and
checks that `cicasim run` and `cicasim compare --enlarge` on it print the page's numbers; saves
screenshots (into the directory named by CICASIM_SCREENSHOTS, docs/img/explorer for the docs; a
temporary one otherwise).
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


def _cicasim_json(*args: str) -> dict:
    out = subprocess.run([CICASIM, *args, "--json"], capture_output=True, text=True, check=True,
                         cwd=ROOT)
    return json.loads(out.stdout)


def _choose(page, container: str, option: str) -> None:
    """Pick ``option`` in the (Vuetify) select inside ``container``."""
    page.locator(f"{container} .v-select").first.click()
    page.get_by_role("option", name=option, exact=True).click()


def _click_at(page, selector: str, share: float) -> None:
    """Click a slider at ``share`` of its width."""
    box = page.locator(selector).first.bounding_box()
    page.mouse.click(box["x"] + box["width"] * share, box["y"] + box["height"] / 2)


def _wait_changed(page, before: dict[str, float]) -> None:
    page.wait_for_function(
        """(before) => {
             const c = [...document.querySelectorAll('.cicasim-overview td.p-consensus')];
             return c.length && c.some(e => e.innerText !== before[e.dataset.proposal]); }""",
        arg={k: f"{v:.3f}" for k, v in before.items()}, timeout=TIMEOUT)


def _shoot(page, path: Path) -> None:
    """A screenshot of the page scrolled to its top (the app scrolls inside its own panes)."""
    page.evaluate("document.querySelectorAll('*').forEach(e => { e.scrollTop = 0; })")
    page.screenshot(path=str(path), full_page=True)


@pytest.mark.slow
def test_explorer_in_chromium(server, tmp_path):
    chromium = _chromium()
    if chromium is None:
        pytest.skip("no Chromium: install Debian's chromium package (apt-get install chromium)")
    shots = Path(os.environ.get("CICASIM_SCREENSHOTS") or tmp_path / "shots")
    shots.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1200}, accept_downloads=True)
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
        # the page opens on the scenario as it is: the command line's numbers
        bundled = _cicasim_json("run", "scenarios/cica-2022.toml", "--seed", "1", "-n",
                                str(REPLICATIONS))
        assert {p["id"]: f"{p['p_consensus']:.3f}" for p in bundled["proposals"]} == {
            k: f"{v:.3f}" for k, v in before.items()}
        _shoot(page, shots / "overview.png")

        # a slider: stubbornness down to about 0.15 changes P(consensus)
        started = time.perf_counter()
        _click_at(page, ".slider-stubbornness .v-slider", 0.15)
        _wait_changed(page, before)
        print(f"re-run after a slider move: {time.perf_counter() - started:.2f} s "
              f"({REPLICATIONS} replications x {len(before)} proposals, in the browser)")
        _wait_fresh(page)
        moved = _p_values(page)
        assert moved != before

        # the mission's question, first half: India cares more about corridors
        _choose(page, ".cicasim-stance", "India (IND)")
        page.locator(".cicasim-stance .v-select").nth(1).click()
        page.get_by_role("option", name="Transit and transport connectivity").click()
        _click_at(page, ".stance-salience .v-slider", 0.95)
        page.locator(".cicasim-stances").first.wait_for(timeout=TIMEOUT)
        assert "IND on connectivity" in page.locator(".cicasim-stances").first.inner_text()
        _wait_changed(page, moved)
        _wait_fresh(page)
        after = _p_values(page)

        # and second half: Turkmenistan joins; the member count and ΔP appear
        page.get_by_role("tab", name="Membership").click()
        page.locator(".join-TKM label").first.click()
        page.locator(".cicasim-membership td.delta-p").first.wait_for(timeout=TIMEOUT)
        assert page.locator(".cicasim-members").first.inner_text() == "members: 28 → 29"
        delta = {c.get_attribute("data-proposal"): c.inner_text()
                 for c in page.locator(".cicasim-membership td.delta-p").all()}
        _shoot(page, shots / "membership.png")

        # one negotiation: Mesa's SolaraViz, the proposal chosen under its Model Parameters,
        # Reset, then stepped with its own Step button (in the sidebar)
        page.get_by_role("tab", name="One negotiation").click()
        page.locator(".cicasim-round").first.wait_for(timeout=TIMEOUT)
        _choose(page, ".v-navigation-drawer", "interconnectivity-council")
        page.get_by_role("button", name="Reset").click()
        page.wait_for_function(
            "document.body.innerText.includes('proposal interconnectivity-council')",
            timeout=TIMEOUT)
        assert page.locator(".cicasim-round").first.inner_text() == "0"
        for k in (1, 2, 3):
            step = page.get_by_role("button", name="Step")
            if step.is_disabled():  # it ended: the page says why
                page.locator(".cicasim-ended").first.wait_for(timeout=TIMEOUT)
                break
            step.click()
            page.wait_for_function(
                f"document.querySelector('.cicasim-round') && "
                f"document.querySelector('.cicasim-round').innerText === '{k}'",
                timeout=TIMEOUT)
        page.wait_for_timeout(1500)  # the figures of the last round drawn
        _shoot(page, shots / "negotiation.png")

        # who blocks: the figure, and pivotality with its channels on request
        page.get_by_role("tab", name="Who blocks").click()
        page.get_by_role("button", name="Compute pivotality").click()
        page.locator(".cicasim-pivotality-table").first.wait_for(timeout=4 * TIMEOUT)
        _shoot(page, shots / "who-blocks.png")

        # downloads: the scenario file reproduces the page's numbers
        page.get_by_role("tab", name="Downloads").click()
        with page.expect_download() as dl:
            page.locator(".cicasim-download-toml").first.click()
        saved = tmp_path / "explored.toml"
        dl.value.save_as(saved)
        _shoot(page, shots / "downloads.png")
        browser.close()
    printed = _cicasim_json("run", str(saved), "--seed", "1", "-n", str(REPLICATIONS))
    assert {p["id"]: f"{p['p_consensus']:.3f}" for p in printed["proposals"]} == {
        k: f"{v:.3f}" for k, v in after.items()}
    compared = _cicasim_json("compare", str(saved), "--enlarge", "--seed", "1", "-n",
                             str(REPLICATIONS))
    assert {r["proposal"]: f"{r['delta']:+.3f}" for r in compared["proposals"]} == delta
