"""The web page in a real headless Chromium (Debian's chromium and chromium-driver, driven by
Selenium): it loads with the one-time token link, lists a workflow submitted through the API,
shows its steps advancing on the simulators without a reload, and cancels another with its
button; and it fits a phone's screen."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service as DriverService
from selenium.webdriver.common.by import By

from tests.http._served import Served, eventually, spec_yaml
from tests.workflows._staging import Staging

SLOW = """#!/bin/sh
cd "$PBS_O_WORKDIR"
sleep 4
mkdir -p out
tr a-z A-Z < in/data.txt > out/result.txt
"""


@pytest.fixture(scope="module")
def browser() -> Iterator[webdriver.Chrome]:
    """One headless Chromium for the module (starting one costs a second or two)."""
    driver_path = shutil.which("chromedriver")
    binary = shutil.which("chromium")
    assert driver_path and binary, "install Debian's chromium and chromium-driver (.ci/run does)"
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu",
                     "--disable-dev-shm-usage", "--window-size=1280,900"):
        options.add_argument(argument)
    # Both paths given: Selenium Manager has nothing to find, and downloads nothing.
    driver = webdriver.Chrome(options=options, service=DriverService(driver_path))
    yield driver
    driver.quit()


def curl_submit(served: Served, world: Staging, name: str, script: str) -> str:
    """The README's curl line, run by a shell in the scripts' directory: the workflow file as
    the body, the token read from its file."""
    (world.run_dir / "wf.yaml").write_text(spec_yaml(world, name).replace("compute.sh", script))
    token_file = served.output().split("(API token in ", 1)[1].split(")", 1)[0]
    line = (f'curl -sS --fail-with-body -H "Authorization: Bearer $(cat {token_file})" '
            f'-H "Content-Type: application/yaml" -H "Idempotency-Key: {name}" '
            f'--data-binary @wf.yaml "{served.url}api/v1/workflows?workdir=$PWD"')
    out = subprocess.run(["sh", "-c", line], cwd=world.run_dir, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    return json.loads(out.stdout)["workflow"]


def submit(served: Served, world: Staging, name: str, script: str = "compute.sh") -> str:
    answer = served.call("POST", "/api/v1/workflows", json={
        "spec": spec_yaml(world, name).replace("compute.sh", script),
        "workdir": str(world.run_dir)})
    assert answer.status_code == 201, answer.text
    return answer.json()["workflow"]


# The page redraws its tables every two seconds: elements are read and clicked by selector
# in the page itself, never held across a redraw.
def text(browser: webdriver.Chrome, selector: str) -> str | None:
    return browser.execute_script(
        "const e = document.querySelector(arguments[0]); return e ? e.textContent : null",
        selector)


def texts(browser: webdriver.Chrome, selector: str, attribute: str | None = None) -> list[str]:
    return browser.execute_script(
        "return [...document.querySelectorAll(arguments[0])].map(e => arguments[1] ? "
        "[e.getAttribute('data-step'), e.getAttribute(arguments[1])].join('=') "
        ": e.textContent)", selector, attribute)


def click(browser: webdriver.Chrome, selector: str) -> bool:
    return browser.execute_script(
        "const e = document.querySelector(arguments[0]); if (e) e.click(); return !!e",
        selector)


def row(wf: str) -> str:
    return f'tr[data-workflow="{wf}"]'


def statuses(browser: webdriver.Chrome) -> dict[str, str]:
    """Each step the page lists, with the status it shows."""
    return dict(item.split("=") for item in texts(browser, "#steps li", "data-status"))


def log_lines(browser: webdriver.Chrome) -> list[tuple[str, str]]:
    """The step log the page shows, as (step, text)."""
    return [tuple(pair) for pair in browser.execute_script(
        "return [...document.querySelectorAll('#log li')].map(e => "
        "[e.querySelector('.stepname').textContent, e.querySelector('.text').textContent])")]


def test_the_page_shows_a_workflow_advancing_live_and_cancels_another(
        served: Served, world: Staging, browser: webdriver.Chrome) -> None:
    (world.run_dir / "slow.sh").write_text(SLOW)
    (world.run_dir / "slow.sh").chmod(0o755)
    browser.get(served.link)
    assert browser.current_url == served.url  # the token is gone from the address bar
    [cookie] = browser.get_cookies()
    assert (cookie["httpOnly"], cookie["sameSite"]) == (True, "Strict")
    assert browser.execute_script("return document.cookie") == ""  # no script can read it
    assert served.token not in browser.page_source
    assert served.call("GET", "/?" + served.link.split("?", 1)[1], token=None,
                       allow_redirects=False).status_code == 401  # the link works once
    browser.execute_script("window.notReloaded = true")

    wf = curl_submit(served, world, "live-run", "slow.sh")
    eventually(lambda: click(browser, row(wf)))
    seen: list[str] = []
    deadline = time.monotonic() + 60
    while not seen or seen[-1] != "done":
        assert time.monotonic() < deadline, f"steps seen: {seen}"
        step = text(browser, "#detail-step")
        if step and (not seen or seen[-1] != step):
            seen.append(step)
        time.sleep(0.2)
    order = ["submitted", "running", "done"]  # the workflow's states; its steps' are below
    assert len(seen) >= 2 and seen == sorted(seen, key=order.index), seen  # moved on, live
    assert statuses(browser) == {"stage-in": "succeeded", "compute": "succeeded",
                                 "stage-out": "succeeded", "cleanup": "not needed"}
    detail = served.get(f"/api/v1/workflows/{wf}")
    assert texts(browser, "#steps li .ids") == [
        f" {detail['tasks']['stage-in']}", "", f" {detail['jobs']['compute']}", "",
        f" {detail['tasks']['stage-out']}", "", "", ""]
    log = log_lines(browser)
    assert log == [(line["step"], line["text"]) for line in detail["log"]]
    assert ("stage-out", f"task {detail['tasks']['stage-out']} succeeded (1 file(s), 14 bytes)"
            ) in log
    assert browser.execute_script("return window.notReloaded") is True

    other = submit(served, world, "to-cancel", "slow.sh")
    eventually(lambda: click(browser, row(other)))
    eventually(lambda: browser.find_element(By.ID, "detail").get_attribute(
        "data-workflow") == other)
    button = browser.find_element(By.ID, "cancel")
    button.click()
    assert button.text == "Press again to cancel"
    button.click()
    eventually(lambda: text(browser, "#detail-step") == "cancelled")
    assert served.get(f"/api/v1/workflows/{other}")["step"] == "cancelled"
    eventually(lambda: text(browser, f"{row(other)} .step") == "cancelled")
    assert browser.find_element(By.ID, "cancel").get_attribute("disabled") == "true"
    assert browser.execute_script("return window.notReloaded") is True
    shot = os.environ.get("WATCHER_PAGE_SCREENSHOT")  # how docs/web-page.png was taken
    if shot:
        click(browser, row(wf))
        time.sleep(2.5)
        browser.save_screenshot(shot)

    browser.set_window_size(390, 844)  # a phone
    try:
        time.sleep(0.3)
        width = browser.execute_script("return document.documentElement.scrollWidth")
        assert width <= browser.execute_script("return window.innerWidth")
    finally:
        browser.set_window_size(1280, 900)


def test_the_page_without_the_cookie_asks_for_the_link(
        served: Served, browser: webdriver.Chrome) -> None:
    browser.delete_all_cookies()
    browser.get(served.url)
    assert "needs the token" in browser.page_source
    assert browser.find_elements(By.ID, "workflows") == []


def test_the_retry_button_runs_again_what_failed(
        served: Served, world: Staging, browser: webdriver.Chrome) -> None:
    (world.run_dir / "flaky.sh").write_text(
        "#!/bin/sh\ncd \"$PBS_O_WORKDIR\"\n[ -e fixed ] || exit 4\necho ok > flaky-ran\n")
    (world.run_dir / "flaky.sh").chmod(0o755)
    answer = served.call("POST", "/api/v1/workflows",
                         data="name: flaky\nsteps:\n  sim: {job: flaky.sh}\n",
                         headers={"Content-Type": "application/yaml"},
                         params={"workdir": str(world.run_dir)})
    assert answer.status_code == 201, answer.text
    wf = answer.json()["workflow"]
    browser.get(served.link)
    browser.execute_script("window.notReloaded = true")
    eventually(lambda: click(browser, row(wf)))
    eventually(lambda: text(browser, "#detail-step") == "failed", 60)
    eventually(lambda: browser.find_element(By.ID, "retry").is_displayed())
    (world.run_dir / "fixed").touch()
    assert click(browser, "#retry")
    eventually(lambda: text(browser, "#action-result") == "running again: sim")
    eventually(lambda: text(browser, "#detail-step") == "done", 60)
    assert (world.run_dir / "flaky-ran").exists()
    assert not browser.find_element(By.ID, "retry").is_displayed()
    assert browser.execute_script("return window.notReloaded") is True


def test_a_failed_three_step_workflow_shows_its_steps_and_is_retried(
        served: Served, world: Staging, browser: webdriver.Chrome) -> None:
    (world.run_dir / "flaky3.sh").write_text(
        "#!/bin/sh\ncd \"$PBS_O_WORKDIR\"\n[ -e fixed ] || exit 4\nmkdir -p out\n"
        "tr a-z A-Z < in/data.txt > out/result.txt\n")
    (world.run_dir / "flaky3.sh").chmod(0o755)
    wf = submit(served, world, "three-flaky", "flaky3.sh")
    browser.get(served.link)
    browser.execute_script("window.notReloaded = true")
    eventually(lambda: click(browser, row(wf)))
    eventually(lambda: text(browser, "#detail-step") == "failed", 60)
    # Compute failed: the stage-out never ran, the cleanup did (it runs if stage-in or
    # compute fails).
    eventually(lambda: statuses(browser) == {"stage-in": "succeeded", "compute": "failed",
                                             "stage-out": "skipped", "cleanup": "succeeded"})
    assert texts(browser, "#steps li.on-failure .name") == ["cleanup"]
    assert (world.run_dir / "cleanup-ran").exists()
    assert browser.find_element(By.ID, "retry").is_displayed()
    assert browser.find_element(By.ID, "cancel").get_attribute("disabled") == "true"
    (world.run_dir / "fixed").touch()
    assert click(browser, "#retry")
    eventually(lambda: text(browser, "#action-result") == "running again: compute, stage-out")
    eventually(lambda: text(browser, "#detail-step") == "done", 60)
    eventually(lambda: statuses(browser) == {"stage-in": "succeeded", "compute": "succeeded",
                                             "stage-out": "succeeded",
                                             "cleanup": "not needed"})
    assert (world.globus.src_dir / "results" / "result.txt").read_text() == "HELLO STAGING\n"
    [first, second] = served.get(f"/api/v1/workflows/{wf}")["steps"][1]["jobs"]
    assert texts(browser, "#steps li[data-step=compute] .ids") == [f" {first}, {second}", ""]
    assert not browser.find_element(By.ID, "retry").is_displayed()
    assert browser.execute_script("return window.notReloaded") is True
