"""The HTML report in a real browser (headless Chromium, offline): every figure loads and the
page renders. Skipped where Chromium is not installed (Debian: apt-get install chromium)."""

import html
import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("matplotlib", reason="matplotlib (a core dependency) is missing")

from matplotlib.image import imread

from cheaptalk.data import load_design, validate_table
from cheaptalk.estimation.compare import compare
from cheaptalk.models import get_model
from cheaptalk.report.figures import FIGURES, write_figures
from cheaptalk.report.html import write_html
from cheaptalk.report.tables import ReportTables
from cheaptalk.simulation import Simulation


def _chromium() -> str:
    for candidate in ("/usr/bin/chromium", shutil.which("chromium"),
                      shutil.which("chromium-browser")):
        if candidate and Path(candidate).exists():
            return candidate
    pytest.skip("chromium not installed: apt-get install chromium")


# Runs after load: writes each image's source and natural size into the DOM.
PROBE = """<script>
window.addEventListener("load", function () {
  var out = document.createElement("pre");
  out.id = "probe";
  out.textContent = JSON.stringify(Array.prototype.map.call(document.images, function (i) {
    return [i.getAttribute("src"), i.complete, i.naturalWidth, i.naturalHeight];
  }));
  document.body.appendChild(out);
});
</script>"""


def _run(browser: str, profile: Path, *args: str) -> subprocess.CompletedProcess:
    cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
           "--no-first-run", "--disable-background-networking", "--disable-component-update",
           "--disable-sync", f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0",
           "--allow-file-access-from-files", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=180)


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    d = load_design("crawford_sobel")
    df = Simulation(d, get_model("levelk"), {"p0": 0.2, "p1": 0.4, "p2": 0.3, "p3": 0.1,
                                             "lambda_s": 0.4, "lambda_r": 0.2},
                    subjects_per_role=6, rounds=10).run(seed=1)
    ds = validate_table(df, d, source="synthetic levelk")
    c = compare([get_model("levelk"), get_model("trust")], ds, folds=2, n_starts=1, jobs=1)
    folder = tmp_path_factory.mktemp("browser")
    tables = ReportTables(c, ds)
    return write_html(tables, folder, write_figures(tables, folder))


def test_every_figure_loads_in_the_browser(page, tmp_path):
    browser = _chromium()
    probe = page.with_name("probe.html")
    probe.write_text(page.read_text(encoding="utf-8").replace("</body>", PROBE + "</body>"),
                     encoding="utf-8")
    r = _run(browser, tmp_path / "profile", "--virtual-time-budget=10000", "--dump-dom",
             probe.as_uri())
    assert r.returncode == 0, r.stderr[-3000:]
    m = re.search(r'<pre id="probe">(.*?)</pre>', r.stdout, re.S)
    assert m, "probe did not run:\n" + r.stdout[-2000:] + r.stderr[-2000:]
    images = json.loads(html.unescape(m.group(1)))
    written = sorted(p.name for p in page.parent.glob("*.png"))
    assert sorted(src for src, *_ in images) == written
    # every figure that applies (no model here depends on history: no trust_over_rounds)
    assert written == sorted(f"{n}.png" for n in FIGURES if n != "trust_over_rounds")
    for src, complete, width, height in images:
        assert complete and width > 100 and height > 100, (src, width, height)
    assert 'id="synthetic-banner"' in r.stdout


def test_screenshot_is_not_blank(page, tmp_path):
    browser = _chromium()
    shot = tmp_path / "page.png"
    r = _run(browser, tmp_path / "profile", f"--screenshot={shot}", "--window-size=1200,3000",
             "--hide-scrollbars", page.as_uri())
    assert r.returncode == 0 and shot.exists(), r.stderr[-3000:]
    img = imread(shot)[..., :3]
    assert img.shape[:2] == (3000, 1200)
    not_white = np.mean(img.min(axis=-1) < 0.9)
    assert not_white > 0.02, f"screenshot nearly blank ({not_white:.1%} non-white pixels)"
    assert len(np.unique((img * 255).astype(np.uint8).reshape(-1, 3), axis=0)) > 50
