"""Drive a generated oTree project over HTTP, as participants' browsers would (for tests).

:class:`Server` starts ``otree prodserver`` in a project folder on 127.0.0.1 (in its own
process group, stopped by that group's id), :meth:`Server.create_session` creates a session
through oTree's REST API, and :class:`Participant` follows one participant's pages: it reads
each page, posts its form and polls wait pages until they let it go on.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

#: Two treatments on a coarse grid: fixed partners for 3 rounds; random re-matching within
#: groups of 2 per role for 2 rounds (the sender's margin 2 so payoffs tell roles apart).
SMALL = """game = "forecast_sharing"

[treatments.LL]
forecast_low = 50
forecast_high = 150
step = 10
noise = 20
capacity_cost = 0.25
matching = "fixed"
rounds = 3

[treatments.LH]
forecast_low = 50
forecast_high = 150
step = 10
noise = 20
margin_sender = 2.0
capacity_cost = 0.75
rounds = 2
group_size = 2
"""


REST_KEY = "test-rest-key"
ADMIN_PASSWORD = "test-admin-password"


def otree_command() -> Path:
    """The `otree` command beside this Python; skips the test where oTree is missing."""
    missing = [m for m in ("otree", "requests") if importlib.util.find_spec(m) is None]
    command = Path(sys.executable).parent / "otree"
    if missing or not command.exists():
        pytest.skip(f"oTree is not installed ({', '.join(missing) or 'no otree command'}): "
                    "pip install 'cheaptalk[experiment]'")
    return command


def otree_test(project: Path, config: str, participants: int, export: Path) -> None:
    """`otree test CONFIG N --export DIR` in the project (bots play a whole session)."""
    r = subprocess.run([str(otree_command()), "test", config, str(participants), "--export",
                        str(export)], cwd=project, capture_output=True, text=True,
                       timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def otree_env(database_url: str | None = None) -> dict[str, str]:
    """Environment for the oTree server: admin password, STUDY auth, REST key, database."""
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env.update(OTREE_REST_KEY=REST_KEY, OTREE_ADMIN_PASSWORD=ADMIN_PASSWORD,
               OTREE_AUTH_LEVEL="STUDY", OTREE_PRODUCTION="1")
    env.pop("DATABASE_URL", None)
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


class Server:
    """``otree prodserver`` on 127.0.0.1:port in ``project`` (a context manager)."""

    def __init__(self, project: Path, port: int | None = None,
                 database_url: str | None = None) -> None:
        self.project = Path(project)
        self.port = port or free_port()
        self.env = otree_env(database_url)
        self.base = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.log = self.project / f"server-{self.port}.log"

    def start(self, timeout: float = 60) -> Server:
        import requests

        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [str(Path(sys.executable).parent / "otree"), "prodserver",
                 f"127.0.0.1:{self.port}"], cwd=self.project, env=self.env, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"oTree server exited: {self.log.read_text()[-2000:]}")
            try:
                if requests.get(f"{self.base}/api/otree_version", headers=self._headers(),
                                timeout=2).ok:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"oTree server did not start: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        """Stop the server and its timeout worker (the process group this started)."""
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.process = None

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # -------------------------------------------------------------- REST
    def _headers(self) -> dict[str, str]:
        return {"otree-rest-key": REST_KEY}

    def create_session(self, config: str, participants: int, **fields: Any
                       ) -> tuple[str, list[str]]:
        """Create a session; return its code and its participants' codes."""
        import requests

        r = requests.post(f"{self.base}/api/sessions", headers=self._headers(), timeout=60,
                          json=dict(session_config_name=config, num_participants=participants,
                                    modified_session_config_fields=fields))
        r.raise_for_status()
        code = r.json()["code"]
        info = requests.post(f"{self.base}/api/get_session/{code}", headers=self._headers(),
                             json={}, timeout=30)
        info.raise_for_status()
        return code, [p["code"] for p in info.json()["participants"]]

    def export(self, app: str) -> str:
        """The app's custom export (CSV text)."""
        import requests

        r = requests.get(f"{self.base}/api/export_app_custom", params={"app": app},
                         headers=self._headers(), timeout=60)
        r.raise_for_status()
        return r.text


def page_name(url: str) -> str:
    """The page class in a participant URL: /p/CODE/APP/PAGE/N."""
    return url.rstrip("/").split("/")[-2]


class Participant:
    """One participant's browser, over plain HTTP."""

    def __init__(self, server: Server, code: str) -> None:
        self.server = server
        self.code = code
        import requests

        self.http = requests.Session()
        self.url = ""
        self.html = ""

    def start(self) -> Participant:
        self._get(f"{self.server.base}/InitializeParticipant/{self.code}")
        return self

    def _get(self, url: str) -> None:
        r = self.http.get(url, timeout=30)
        r.raise_for_status()
        self.url, self.html = r.url, r.text

    @property
    def page(self) -> str:
        return page_name(self.url)

    def refresh(self) -> None:
        self._get(self.url)

    def wait_for(self, name: str, timeout: float = 30) -> None:
        """Reload (as a wait page does) until the participant is on page ``name``."""
        deadline = time.monotonic() + timeout
        while self.page != name:
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.code} stuck on {self.page}, not {name}")
            time.sleep(0.3)
            self.refresh()

    def submit(self, data: dict[str, Any]) -> None:
        r = self.http.post(self.url, data=data, timeout=30)
        r.raise_for_status()
        self.url, self.html = r.url, r.text

    def js_vars(self) -> dict[str, Any]:
        start = self.html.index("var js_vars = ") + len("var js_vars = ")
        return json.JSONDecoder().raw_decode(self.html[start:])[0]

    def role(self) -> str:
        found = re.search(r"You are (?:a|the) <b>(\w+)</b>", self.html)
        assert found, self.html[-2000:]
        return found.group(1)

    def errors(self) -> str:
        return " ".join(re.findall(r'class="[^"]*(?:invalid-feedback|alert-danger)[^"]*"[^>]*>'
                                   r"(.*?)</", self.html, flags=re.S))


def play_round(participants: list[Participant], treatment: dict[str, Any],
               rng: Any, timeout: float = 30) -> None:
    """Play one round for a pair (or several pairs) from wherever they stand: answer the
    comprehension questions when shown, send a random message and take a random action on
    the grid, and go past the results page."""
    for p in participants:
        if p.page == "Instructions":
            p.submit({"quiz_points": treatment["quiz"][p.role()]["answer"], "quiz_cheap": 2})
            assert p.page != "Instructions", p.errors()
    senders = [p for p in participants if p.page == "SenderDecision"]
    for p in senders:
        p.submit({"message": treatment["messages"][rng.integers(len(treatment["messages"]))]})
        assert p.page != "SenderDecision", p.errors()
    for p in participants:
        if p not in senders:
            p.wait_for("ReceiverDecision", timeout)
            p.submit({"action": treatment["actions"][rng.integers(len(treatment["actions"]))]})
            assert p.page != "ReceiverDecision", p.errors()
    for p in participants:
        p.wait_for("Results", timeout)
    for p in participants:
        p.submit({})
