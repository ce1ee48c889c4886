"""A real browser plays one round of the generated project (slow).

Headless Chromium (Debian's ``chromium``; no downloaded browser) is driven through its
DevTools protocol with the ``websockets`` package oTree brings: one tab is the
manufacturer, one the supplier. The test answers the comprehension questions, checks that
the browser itself refuses a report off the grid, makes both decisions, waits on oTree's
wait pages as a participant would, and checks the results page's numbers against the payoff
formula. The supplier's results page is saved as a screenshot (to the path in
CHEAPTALK_SCREENSHOT when set: docs/img/experiment_results.png came from here).
Skipped where Chromium or oTree is missing.
"""

import asyncio
import base64
import itertools
import json
import os
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cheaptalk.cli import app
from otree_driver import Server, otree_command

pytestmark = pytest.mark.slow


def _chromium() -> str:
    for candidate in ("/usr/bin/chromium", shutil.which("chromium"),
                      shutil.which("chromium-browser")):
        if candidate and Path(candidate).exists():
            return candidate
    pytest.skip("chromium not installed: apt-get install chromium")


class Tab:
    """One browser tab, driven by DevTools protocol commands over its websocket."""

    _ids = itertools.count(1)

    def __init__(self, ws_url: str) -> None:
        self.ws_url = ws_url

    async def _call(self, method: str, params: dict) -> dict:
        import websockets

        async with websockets.connect(self.ws_url, max_size=None) as ws:
            n = next(self._ids)
            await ws.send(json.dumps({"id": n, "method": method, "params": params}))
            while True:
                reply = json.loads(await ws.recv())
                if reply.get("id") == n:
                    if "error" in reply:
                        raise RuntimeError(reply["error"])
                    return reply["result"]

    def call(self, method: str, **params) -> dict:
        return asyncio.run(self._call(method, params))

    def js(self, expression: str):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True,
                           awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(result["exceptionDetails"])
        return result["result"].get("value")

    def page(self) -> str:
        path = self.js("location.pathname") or ""
        return path.rstrip("/").split("/")[-2] if path.count("/") >= 4 else path

    def wait_for(self, name: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if self.page() == name and self.js("document.readyState") == "complete":
                    return
            except RuntimeError:  # navigating
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"tab stuck on {self.page()}, not {name}")
            time.sleep(0.3)

    def wait_until(self, condition: str, timeout: float = 60) -> None:
        """Poll a JavaScript condition until it holds (pages reload meanwhile)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                if self.js(condition):
                    return
            except RuntimeError:  # navigating
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"{condition} never held on {self.page()}")
            time.sleep(0.3)

    def text(self, selector: str) -> str:
        return self.js(f"document.querySelector({json.dumps(selector)}).innerText")

    def fill(self, name: str, value) -> None:
        self.js(f"(() => {{ const e = document.querySelector('[name={name}]'); "
                f"e.value = {json.dumps(str(value))}; "
                "e.dispatchEvent(new Event('input')); })()")

    def next(self) -> None:
        self.js("document.querySelector('.otree-btn-next').click()")


class Browser:
    """Headless Chromium with remote debugging on a free port (its own process group)."""

    def __init__(self, profile: Path) -> None:
        self.process = subprocess.Popen(
            [_chromium(), "--headless=new", "--no-sandbox", "--disable-gpu",
             "--remote-debugging-port=0", f"--user-data-dir={profile}",
             "--window-size=1000,900", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 60
        while not port_file.exists() or not port_file.read_text().strip():
            if time.monotonic() > deadline or self.process.poll() is not None:
                self.close()
                pytest.skip("chromium did not start with remote debugging")
            time.sleep(0.2)
        self.port = int(port_file.read_text().split()[0])

    def tab(self, url: str) -> Tab:
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/json/new?{url}", method="PUT")
        with urllib.request.urlopen(request, timeout=30) as r:
            return Tab(json.loads(r.read())["webSocketDebuggerUrl"])

    def close(self) -> None:
        try:
            os.killpg(self.process.pid, 15)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=30)


def test_one_round_in_chromium(tmp_path, design_file):
    otree_command()
    _chromium()
    project = tmp_path / "lab"
    r = CliRunner().invoke(app, ["experiment", "--design", str(design_file), "--out",
                                 str(project)])
    assert r.exit_code == 0, r.output
    game = json.loads((project / "forecast_sharing" / "game.json").read_text())
    t = game["treatments"]["LL"]
    with Server(project) as server:
        _, codes = server.create_session("LL", 2, decision_timeout_seconds=0)
        profile = tmp_path / "chromium"
        profile.mkdir()
        browser = Browser(profile)
        try:
            tabs = [browser.tab(f"{server.base}/InitializeParticipant/{c}") for c in codes]
            for tab in tabs:
                tab.wait_for("Instructions")
                role = tab.text("b")
                assert role in ("manufacturer", "supplier")
                assert "Sales" in tab.text(".otree-content")  # the payoff rule in words
                tab.fill("quiz_points", 12345)  # a wrong answer: the server says so
                tab.js("document.querySelector('#id_quiz_cheap-1').click()")
                tab.next()
                tab.wait_until("document.body.innerText.includes('Not quite')")
                assert tab.page() == "Instructions"
                tab.fill("quiz_points", t["quiz"][role]["answer"])
                tab.js("document.querySelector('#id_quiz_cheap-1').click()")
                tab.next()
            roles = {}
            for tab in tabs:
                tab.wait_until("['SenderDecision', 'WaitForMessage'].some("
                               "p => location.pathname.includes('/' + p + '/'))")
                roles["manufacturer" if tab.page() == "SenderDecision" else "supplier"] = tab
            m, s = roles["manufacturer"], roles["supplier"]
            m.wait_for("SenderDecision")
            forecast = float(m.text("#state"))
            # The browser refuses a report off the grid (the form is not sent) ...
            m.fill("message", forecast + t["message_step"] / 2)
            assert m.js("document.querySelector('[name=message]').checkValidity()") is False
            m.next()
            time.sleep(1)
            assert m.page() == "SenderDecision"
            # ... and takes one on it.
            report = min(forecast + 2 * t["message_step"], t["message_high"])
            m.fill("message", report)
            assert m.js("document.querySelector('[name=message]').checkValidity()") is True
            m.next()
            s.wait_for("ReceiverDecision")
            assert float(s.text("#message")) == report
            capacity = 100.0
            s.fill("action", capacity)
            s.next()
            for tab in (m, s):
                tab.wait_for("Results")
            demand = float(s.text("#r-feedback"))
            sales = min(demand, capacity)
            assert abs(demand - forecast) <= 20 + 0.005  # within the noise band
            assert float(s.text("#r-action")) == capacity
            assert float(s.text("#r-sales")) == pytest.approx(sales, abs=0.005)
            assert float(m.text("#r-state")) == forecast
            assert not s.js("document.querySelector('#r-state') !== null")  # demand only
            for tab in (m, s):  # both see the same numbers, by the payoff formula
                assert float(tab.text("#r-sender-points")) == pytest.approx(
                    round(1.0 * sales, 2), abs=0.005)
                assert float(tab.text("#r-receiver-points")) == pytest.approx(
                    round(sales - 0.25 * capacity, 2), abs=0.005)
            shot = base64.b64decode(s.call("Page.captureScreenshot", format="png")["data"])
            assert shot.startswith(b"\x89PNG")
            (tmp_path / "results.png").write_bytes(shot)
            if os.environ.get("CHEAPTALK_SCREENSHOT"):
                Path(os.environ["CHEAPTALK_SCREENSHOT"]).write_bytes(shot)
            # Round 2: the history table shows round 1.
            m.next()
            m.wait_for("SenderDecision")
            assert "Your earlier rounds" in m.text(".otree-content")
            history = m.text("#history")
            assert f"{report:g}" in history and f"{capacity:g}" in history
        finally:
            browser.close()
