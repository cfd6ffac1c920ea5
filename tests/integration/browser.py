"""Debian's chromium, headless, driven by Selenium through Debian's chromedriver (no browser is
downloaded: Selenium is given both paths). Flags keep an offline machine quiet: without the
background-networking ones Chromium keeps trying to reach Google's services."""
import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
         "--disable-default-apps", "--disable-extensions", "--metrics-recording-only", "--mute-audio")


def require_browser() -> None:
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not os.path.exists(p)]
    if missing or shutil.which("chromium") is None:
        if os.environ.get("CI"):
            pytest.fail(f"{', '.join(missing)} missing: scripts/setup.sh installs chromium and chromium-driver")
        pytest.skip("chromium and chromium-driver are not installed (scripts/setup.sh)")
    pytest.importorskip("selenium")


def chromium(profile: Path, width: int = 1280, height: int = 900):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER, log_output=str(profile.parent / "chromedriver.log")),
                              options=options)
    driver.set_page_load_timeout(30)
    return driver


def phone(driver, width: int = 375, height: int = 812) -> None:
    """A phone's viewport: its width in CSS pixels, touch, mobile layout."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": height, "deviceScaleFactor": 2, "mobile": True})


def desktop(driver) -> None:
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


OVERFLOW_JS = """
const width = document.documentElement.clientWidth;
const out = [];
if (document.scrollingElement.scrollWidth > width + 1) out.push('page scrolls sideways: ' + document.scrollingElement.scrollWidth);
for (const el of document.querySelectorAll('body *')) {
  const r = el.getBoundingClientRect();
  if (r.width === 0 || r.height === 0) continue;
  if (r.right > width + 1 || r.left < -1) out.push(el.tagName + (el.id ? '#' + el.id : '') + '.' + el.className + ' ' + Math.round(r.left) + '..' + Math.round(r.right));
}
return out.slice(0, 10);
"""
