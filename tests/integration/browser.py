"""Debian's chromium, headless, driven by Selenium (chromium-driver), for the web pages' tests:
a fresh profile per browser, the dev instance's self-signed certificate accepted, and
screenshots written to MK_SCREENSHOT_DIR (ctest: the build directory; `make screenshots`:
docs/screenshots/, where the README shows them)."""
import os
import tempfile

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

import mkharness as mk

SCREENSHOTS = os.environ.get("MK_SCREENSHOT_DIR") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs", "screenshots")


class Browser:
    def __init__(self, width=1280, height=900):
        self.profile = tempfile.mkdtemp(prefix="mk-chromium-")
        o = webdriver.ChromeOptions()
        for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--ignore-certificate-errors",
                  "--disable-dev-shm-usage", "--no-first-run", "--disable-extensions",
                  "--window-size=%d,%d" % (width, height), "--user-data-dir=" + self.profile):
            o.add_argument(a)
        o.binary_location = "/usr/bin/chromium"
        o.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        self.driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=o)
        self.driver.set_page_load_timeout(mk.HANG_GUARD)

    def quit(self):
        self.driver.quit()

    def get(self, url):
        self.driver.get(url)

    def wait(self, css, timeout=mk.HANG_GUARD):
        return WebDriverWait(self.driver, timeout).until(EC.visibility_of_element_located((By.CSS_SELECTOR, css)))

    def wait_text(self, css, text, timeout=mk.HANG_GUARD):
        WebDriverWait(self.driver, timeout).until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, css), text))
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def wait_gone(self, css, text, timeout=mk.HANG_GUARD):
        WebDriverWait(self.driver, timeout).until(
            lambda d: text not in d.find_element(By.CSS_SELECTOR, css).text)

    def find(self, css):
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def find_all(self, css):
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def type(self, css, text):
        el = self.wait(css)
        el.clear()
        el.send_keys(text)

    def click(self, css):
        self.wait(css).click()

    def button(self, label, within="main"):
        """The button with this label in the row (or section) whose text holds `within`'s text."""
        for b in self.find_all("button"):
            if b.text == label and b.is_displayed():
                return b
        raise AssertionError("no button %r" % label)

    def row_button(self, row_text, label):
        for tr in self.find_all("tbody tr"):
            if row_text in tr.text:
                for b in tr.find_elements(By.TAG_NAME, "button"):
                    if b.text == label:
                        return b
        raise AssertionError("no %r button in a row with %r" % (label, row_text))

    def accept_confirm(self):
        WebDriverWait(self.driver, 10).until(EC.alert_is_present())
        self.driver.switch_to.alert.accept()

    def screenshot(self, name):
        os.makedirs(SCREENSHOTS, exist_ok=True)
        path = os.path.join(SCREENSHOTS, name + ".png")
        self.driver.save_screenshot(path)
        return path

    def console_errors(self):
        """Script errors and policy violations; a 401 or 404 answer the page expects is not one."""
        return [e for e in self.driver.get_log("browser") if e["level"] == "SEVERE" and e.get("source") != "network"]
