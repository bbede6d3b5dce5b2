"""Headless Chromium (Debian's chromium + chromedriver) through Selenium, as a person would look.

``browser()`` skips the test with the reason when Chromium is not installed here, and fails it in
CI (``CI=true``), where scripts/install_browser.sh must have installed it.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), os.pardir, os.pardir))
SCREENSHOTS = os.environ.get("PIPELINEKIT_SCREENSHOTS") or os.path.join(REPO, "tests", ".artifacts", "screenshots")
_IGNORED_CONSOLE = ("favicon.ico",)


def _binaries() -> tuple[str | None, str | None]:
    browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    return browser, shutil.which("chromedriver")


@contextmanager
def browser(width: int = 1400, height: int = 1000) -> Iterator[Any]:
    """A headless Chromium driven by chromedriver, with the page's console log readable."""
    chromium, driver_path = _binaries()
    if not chromium or not driver_path:
        message = "Chromium or chromedriver is not installed; run scripts/install_browser.sh"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{message} (CI must run the browser tests)")
        pytest.skip(message)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        f"--window-size={width},{height}",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    driver.set_page_load_timeout(60)
    driver.implicitly_wait(10)  # find_element waits for the page a click navigated to
    try:
        yield driver
    finally:
        driver.quit()


def console_errors(driver: Any) -> list[str]:
    """The page's console messages at SEVERE level (errors, failed loads), minus a missing favicon."""
    return [
        e["message"]
        for e in driver.get_log("browser")
        if e["level"] == "SEVERE" and not any(i in e["message"] for i in _IGNORED_CONSOLE)
    ]


def wait_for_charts(driver: Any, timeout_s: float = 30) -> int:
    """Wait until every chart ``<div>`` has been drawn; returns how many there are."""
    from selenium.webdriver.support.ui import WebDriverWait

    def drawn(d: Any) -> bool:
        return bool(
            d.execute_script(
                "return [...document.querySelectorAll('.pk-chart')].every(e => e.dataset.drawn === '1' && e.querySelector('svg, canvas'))"
            )
        )

    WebDriverWait(driver, timeout_s).until(drawn)
    return int(driver.execute_script("return document.querySelectorAll('.pk-chart').length"))


def wait_for_text(driver: Any, text: str, timeout_s: float = 20) -> None:
    """Wait until the page (after a form post, say) shows ``text``; a page being replaced meanwhile is waited out."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(driver, timeout_s, ignored_exceptions=(StaleElementReferenceException,))
    wait.until(lambda d: text in d.find_element("tag name", "body").text)


def click_through(driver: Any, element: Any, timeout_s: float = 20) -> None:
    """Click a link or a form's button and wait until the page it leads to has replaced this one, so
    the next lookup cannot find an element of the old page (which then goes stale)."""
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    page = driver.find_element("tag name", "html")
    element.click()
    WebDriverWait(driver, timeout_s).until(expected_conditions.staleness_of(page))


def screenshot(driver: Any, name: str, full_page: bool = True) -> str:
    """Save a PNG of the page (its full height) under SCREENSHOTS; returns the path."""
    os.makedirs(SCREENSHOTS, exist_ok=True)
    path = os.path.join(SCREENSHOTS, f"{name}.png")
    size = driver.get_window_size()
    if full_page:
        height = int(driver.execute_script("return Math.min(document.documentElement.scrollHeight, 12000)"))
        driver.set_window_size(size["width"], max(height, 600))
    driver.save_screenshot(path)
    driver.set_window_size(size["width"], size["height"])
    return path
