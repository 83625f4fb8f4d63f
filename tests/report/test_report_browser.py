"""Open report.html in headless Chromium: no console errors, every image rendered with a size.

Talks to Chromium over the DevTools protocol on a pipe (``--remote-debugging-pipe``:
JSON messages ended by a NUL byte, commands on fd 3, replies on fd 4), so no
extra Python package is needed. Skipped only when no Chromium is installed.
"""

import json
import os
import select
import shutil
import subprocess
import time

import numpy as np
import pytest

from collapsekit.report import build_report
from collapsekit.runs import RunDir, write_d_map

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
TIMEOUT = 60.0


def find_browser() -> str | None:
    named = os.environ.get("CHROMIUM")
    return (
        named
        if named and shutil.which(named)
        else next(filter(None, map(shutil.which, BROWSERS)), None)
    )


class DevTools:
    """A headless Chromium driven over the DevTools pipe."""

    def __init__(self, browser: str, profile: str) -> None:
        to_browser_read, self._write = os.pipe()
        self._read, from_browser_write = os.pipe()

        def wire_pipes():  # in the child: commands arrive on fd 3, replies leave on fd 4
            os.dup2(to_browser_read, 3)
            os.dup2(from_browser_write, 4)

        arguments = [
            browser,
            "--headless",
            "--remote-debugging-pipe",
            "--no-sandbox",
            "--disable-gpu",
        ]
        arguments += [
            "--disable-dev-shm-usage",
            "--no-first-run",
            f"--user-data-dir={profile}",
            "about:blank",
        ]
        self.process = subprocess.Popen(
            arguments,
            pass_fds=(3, 4),
            preexec_fn=wire_pipes,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        os.close(to_browser_read)
        os.close(from_browser_write)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict] = []

    def send(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._write, json.dumps(message).encode() + b"\0")
        reply = self._wait(lambda m: m.get("id") == self._next_id)
        assert "error" not in reply, reply
        return reply["result"]

    def wait_event(self, method: str) -> dict:
        return self._wait(lambda m: m.get("method") == method)

    def _wait(self, wanted) -> dict:
        deadline = time.monotonic() + TIMEOUT
        while True:
            while b"\0" in self._buffer:
                raw, self._buffer = self._buffer.split(b"\0", 1)
                message = json.loads(raw)
                if wanted(message):
                    return message
                if "method" in message:
                    self.events.append(message)
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self._read], [], [], max(left, 0))
            chunk = os.read(self._read, 1 << 20) if ready else b""
            if not chunk:
                error = (
                    self.process.stderr.read1(4000).decode(errors="replace") if not ready else ""
                )
                raise AssertionError(
                    f"Chromium did not answer within {TIMEOUT:.0f} s or exited: {error}"
                )
            self._buffer += chunk

    def close(self) -> None:
        try:
            os.write(self._write, json.dumps({"id": 0, "method": "Browser.close"}).encode() + b"\0")
            self.process.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            self.process.kill()
            self.process.wait()
        finally:
            os.close(self._write)
            os.close(self._read)


def synthetic_run(root, name, model, seed):
    """A finished ring8 run with every file the report draws from."""
    rng = np.random.default_rng(seed)
    run = RunDir.create(root / name, {"model": model, "data": "ring8", "seed": seed, "steps": 100})
    angles = rng.integers(0, 8, 500) * np.pi / 4
    samples = 2 * np.stack([np.cos(angles), np.sin(angles)], axis=1) + rng.normal(0, 0.03, (500, 2))
    counts = np.bincount(rng.integers(0, 8, 400), minlength=8).tolist()
    rows = [
        {
            "step": step,
            "modes_captured": 8,
            "modes_total": 8,
            "high_quality_frac": 0.8,
            "mode_kl": 0.01,
            "mode_counts": counts,
            "num_samples": 500,
        }
        for step in (0, 50, 100)
    ]
    run.write_history(rows)
    steps = np.arange(1, 101)
    run.append_equilibrium(steps, 0.5 + 0.1 * np.exp(-steps / 30), 0.5 - 0.1 * np.exp(-steps / 30))
    run.write_samples({"final": samples.astype(np.float32)})
    axis = np.linspace(-3, 3, 40)
    write_d_map(run.path, axis, axis, 1 / (1 + np.exp(-(axis[None, :] ** 2 - axis[:, None] ** 2))))
    run.write_summary({"status": "finished", "step": 100, "metrics": rows[-1], "findings": []})


def test_report_opens_in_headless_chromium(tmp_path):
    browser = find_browser()
    if browser is None:
        pytest.skip(
            "no Chromium found (looked for chromium, chromium-browser, google-chrome, $CHROMIUM): "
            "install Debian's `chromium` package, as .ci/run does, to run this test"
        )
    for seed in (0, 1):
        synthetic_run(tmp_path / "runs", f"vanilla-{seed}", "vanilla", seed)
    synthetic_run(tmp_path / "runs", "unrolled-0", "unrolled", 0)
    report = build_report([tmp_path / "runs"], tmp_path / "report")
    expected_images = sum(len(section.plots) for section in report.sections)
    chromium = DevTools(browser, str(tmp_path / "profile"))
    try:
        target = chromium.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = chromium.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        for domain in ("Page", "Runtime", "Log"):
            chromium.send(f"{domain}.enable", session=session)
        chromium.send(
            "Page.navigate", {"url": report.paths["html"].resolve().as_uri()}, session=session
        )
        chromium.wait_event("Page.loadEventFired")
        script = (
            "Promise.all([...document.images].map(i => i.decode())).then(() => [...document.images].map(i => "
            "({width: i.getBoundingClientRect().width, height: i.getBoundingClientRect().height, "
            "natural: i.naturalWidth, complete: i.complete})))"
        )
        result = chromium.send(
            "Runtime.evaluate",
            {"expression": script, "awaitPromise": True, "returnByValue": True},
            session=session,
        )
        title = chromium.send(
            "Runtime.evaluate",
            {"expression": "document.title", "returnByValue": True},
            session=session,
        )
    finally:
        chromium.close()
    assert "exceptionDetails" not in result, result
    images = result["result"]["value"]
    assert len(images) == expected_images == 5
    assert all(
        i["complete"] and i["natural"] > 0 and i["width"] > 0 and i["height"] > 0 for i in images
    ), images
    assert title["result"]["value"] == "collapsekit report: ring8"
    errors = [e for e in chromium.events if e["method"] == "Runtime.exceptionThrown"]
    errors += [
        e
        for e in chromium.events
        if e["method"] == "Runtime.consoleAPICalled" and e["params"]["type"] == "error"
    ]
    errors += [
        e
        for e in chromium.events
        if e["method"] == "Log.entryAdded" and e["params"]["entry"]["level"] == "error"
    ]
    assert errors == []
