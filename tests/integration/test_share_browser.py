"""The "share a link" page (/share, share.js) in a real browser (headless chromium through
Selenium) against the real binary: a phone's share sheet (the manifest's share_target, a GET
with ?title=&text=&url=) fills the form, one tap on Send shares, and the mail arrives over
IMAP with the page's picture; a visitor without a session logs in first; the form sends a
link into the folder its tag names; the bookmarklet, clicked on a page, opens the share page
for it; another site that opens /share?url=... gets nothing sent (a tap is needed); share
tokens are made and revoked on the account page; a page's title made of markup shows as
text. The page runs under its strict Content-Security-Policy with no console errors.

The loopback web site (linksite) is the page shared; the test DNS answers its name, and the
server under test may fetch from exactly its address (share.fetch_allow = 127.0.0.1/32).
Screenshots "share" and "share-phone" go to MK_SCREENSHOT_DIR (docs/screenshots/ by default)."""
import imaplib
import unittest
import urllib.parse

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

import linksite
import mkharness as mk
import rig as rigmod
from browser import Browser
from webapi import Client

ME = "me@localhost"


class ShareBrowserTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.site = linksite.Site()
        try:
            cls.dns = rigmod.Dns()
            cls.dns.zones.add("site.example", "A", "127.0.0.1")
            dns = {"dns.upstream": '["127.0.0.1@%d"]' % cls.dns.port, "dns.dnssec": "false"}
            cls.srv = mk.Server(extra_config=dict(dns, **{"share.fetch_allow": '["127.0.0.1/32"]'})).start()
        except BaseException:
            cls.site.stop()
            raise
        cls.base = "https://127.0.0.1:%d" % cls.srv.https_port
        cls.api = Client(cls.srv)
        assert cls.api.login().status == 200
        cls.desktop = None  # one logged-in desktop browser for the class: see logged_in()

    @classmethod
    def tearDownClass(cls):
        try:
            if cls.desktop:
                cls.desktop.quit()
        finally:
            try:
                mk.stop_all(cls.srv, cls.dns)
            finally:
                cls.site.stop()

    # -- helpers ---------------------------------------------------------------------------

    def link(self, path):
        """A link on the loopback site, by the name the test DNS answers."""
        return "http://site.example:%d%s" % (self.site.port, path)

    def browser(self, **kw):
        b = Browser(**kw)
        self.addCleanup(b.quit)
        return b

    def logged_in(self, **kw):
        """A browser with a session, logged in on the account page as a user would be: the
        class's desktop browser (kept between tests, its console log emptied), or a new one of
        the size asked for."""
        cls = type(self)
        if not kw and cls.desktop:
            cls.desktop.driver.get_log("browser")  # what an earlier test left is not this test's
            return cls.desktop
        b = Browser(**kw)
        if kw:
            self.addCleanup(b.quit)
        else:
            cls.desktop = b
        b.get(self.base + "/account/")
        b.type("#login-address", ME)
        b.type("#login-password", mk.PASSWORD)
        b.find("#login-password").send_keys(Keys.ENTER)
        b.wait_text("#who", ME)
        return b

    def share_url(self, **params):
        return self.base + "/share?" + urllib.parse.urlencode(params, quote_via=urllib.parse.quote)

    def send(self, b, link=None):
        """Taps Send on the prefilled form (the one tap a share takes)."""
        b.wait("#share-send")
        if link is not None:
            self.assertEqual(b.find("#share-url").get_attribute("value"), link)
        self.assertEqual(b.driver.switch_to.active_element, b.find("#share-send"))  # the tap is ready
        b.click("#share-send")

    def result(self, b):
        """Waits for the result card; returns (folder, title) as shown."""
        b.wait("#share-result")
        return b.find("#share-folder").text, b.find("#share-title-out").text

    def assert_no_console_errors(self, b):
        self.assertEqual(b.console_errors(), [])

    def mails(self, folder, address=ME, password=mk.PASSWORD):
        return self.srv.imap_messages(folder, address, password)

    def mail_for(self, folder, link):
        found = [m for m in self.mails(folder) if link in m.get_body(("plain",)).get_content()]
        self.assertEqual(len(found), 1, "one mail with %s in %s" % (link, folder))
        return found[0]

    # -- tests -----------------------------------------------------------------------------

    def test_a_phone_share_sheet_shares_in_one_tap(self):
        # Android's share sheet puts the link inside `text` and the page's title in `title`.
        link = self.link("/article?via=share-sheet")
        b = self.logged_in()
        b.get(self.share_url(title=linksite.TITLE, text="Look " + link))
        self.send(b, link)
        # The shared link leaves the address bar (a reload cannot send it twice).
        self.assertEqual(b.driver.execute_script("return location.search"), "")
        self.assertEqual(self.result(b), ("Read later", linksite.TITLE))
        self.assertEqual(b.find_all("#share-failure"), [])
        self.assertIn("description and picture", b.find("#share-result").text)
        b.screenshot("share")
        self.assert_no_console_errors(b)

        m = self.mail_for("Read later", link)
        self.assertEqual(m["Subject"], linksite.TITLE)
        images = [p for p in m.walk() if p.get_content_type() == "image/png"]
        self.assertEqual(len(images), 1)
        self.assertEqual(images[0].get_content(), linksite.IMAGE)

        phone_link = self.link("/article?via=phone")
        phone = self.logged_in(width=390, height=844)
        # Headless chromium keeps a window at least 500 pixels wide: the page is shown as a
        # phone's 390 CSS pixels would show it.
        phone.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                     {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True})
        self.assertEqual(phone.driver.execute_script("return innerWidth"), 390)
        phone.get(self.share_url(title=linksite.TITLE, text="Look " + phone_link))
        self.send(phone, phone_link)
        self.assertEqual(self.result(phone), ("Read later", linksite.TITLE))
        phone.screenshot("share-phone")
        self.assert_no_console_errors(phone)
        self.mail_for("Read later", phone_link)

    def test_without_a_session_it_asks_to_log_in_then_shares(self):
        link = self.link("/article?via=login-first")
        b = self.browser()
        b.get(self.share_url(url=link))
        b.wait("#login-address")
        self.assertEqual(b.find_all("#share-result"), [])
        b.type("#login-address", ME)
        b.type("#login-password", mk.PASSWORD)
        b.find("#login-password").send_keys(Keys.ENTER)
        self.send(b, link)
        self.assertEqual(self.result(b), ("Read later", linksite.TITLE))
        self.assert_no_console_errors(b)
        self.mail_for("Read later", link)

    def test_the_form_sends_to_the_tag_folder(self):
        link = self.link("/article?via=form")
        b = self.logged_in()
        b.get(self.base + "/share")
        b.type("#share-url", link)
        b.type("#share-tag", "recipes")
        b.type("#share-note", "for Sunday lunch")
        b.click("#share-send")
        self.assertEqual(self.result(b), ("recipes", linksite.TITLE))
        self.assert_no_console_errors(b)
        plain = self.mail_for("recipes", link).get_body(("plain",)).get_content()
        self.assertIn("Your note: for Sunday lunch", plain)

    def test_the_bookmarklet_opens_the_share_page_for_the_page_it_is_clicked_on(self):
        account = self.logged_in()
        account.get(self.base + "/account/#share")
        href = account.wait("#share-bookmarklet").get_attribute("href")
        self.assertTrue(href.startswith("javascript:"), href)
        self.assertIn(self.base + "/share?url=", href)
        self.assertNotIn("mks_", href)  # no token: the page it runs in could read it
        self.assert_no_console_errors(account)
        # Clicked on a page of the loopback site: a new window opens the share page with it.
        link = self.site.url("/article") + "?via=bookmarklet"
        account.get(link)
        before = set(account.driver.window_handles)
        account.driver.execute_script(urllib.parse.unquote(href[len("javascript:"):]))
        WebDriverWait(account.driver, mk.HANG_GUARD).until(lambda d: len(d.window_handles) > len(before))
        (opened,) = set(account.driver.window_handles) - before
        account.driver.switch_to.window(opened)
        try:
            self.send(account, link)
            # The bookmarklet passes the tab's own title (the page's <title>).
            self.assertEqual(self.result(account), ("Read later", "fallback"))
            self.assert_no_console_errors(account)
        finally:
            account.driver.close()
            account.driver.switch_to.window(list(before)[0])
        self.mail_for("Read later", link)

    def test_another_site_cannot_share_for_the_user(self):
        # A page elsewhere sends the logged-in user's browser to /share with its own link: the
        # form is filled, but nothing is sent without the user's tap.
        link = self.site.url("/article") + "?via=cross-site"
        b = self.logged_in()
        b.get(self.site.url("/no-image"))
        b.driver.execute_script("location.href = arguments[0]", self.share_url(url=link, tag="planted"))
        b.wait("#share-send")
        hits = len(self.site.hits)
        import time
        time.sleep(2)  # what an automatic send would need to reach the site
        self.assertEqual(len(self.site.hits), hits)
        self.assertEqual(b.find_all("#share-result"), [])
        self.assertEqual(self.api.get("/api/v1/me").status, 200)
        im = imaplib.IMAP4_SSL("127.0.0.1", self.srv.imaps_port, ssl_context=mk.client_tls_context(), timeout=60)
        try:
            im.login(ME, mk.PASSWORD)
            self.assertNotEqual(im.select('"planted"')[0], "OK")  # no folder, no mail
        finally:
            im.logout()

    def test_share_tokens_are_made_and_revoked_on_the_account_page(self):
        account = self.logged_in()
        account.get(self.base + "/account/#share")
        account.type("#share-token-name", "laptop")
        account.click("#share-token-add")
        token = account.wait("#share-token-value").text
        self.assertTrue(token.startswith("mks_"), token)
        self.assertIn("Authorization: Bearer " + token, account.find("#share-curl").text)
        account.wait_text("main table", "laptop")
        self.assert_no_console_errors(account)
        # The token shares, as a shortcut would.
        device = Client(self.srv, token=token)
        link = self.link("/article?via=token")
        self.assertEqual(device.post("/api/v1/share", {"url": link}).status, 201)
        self.mail_for("Read later", link)
        # Revoked on the page: refused.
        account.driver.refresh()
        account.wait_text("main table", "laptop")
        account.row_button("laptop", "Revoke").click()
        account.wait_text("#notice", "Revoked")
        WebDriverWait(account.driver, mk.HANG_GUARD).until(
            lambda d: "laptop" not in d.find_element(By.CSS_SELECTOR, "main").text)
        self.assertIn("No share tokens yet.", account.find("main").text)
        self.assertEqual(device.post("/api/v1/share", {"url": link}).status, 401)
        account.screenshot("account-share")

    def test_a_title_made_of_markup_is_shown_as_text(self):
        b = self.logged_in()
        b.get(self.share_url(url=self.link("/xss")))
        self.send(b)
        self.assertEqual(self.result(b), ("Read later", linksite.XSS_TITLE))
        self.assertEqual(b.find("#share-title-out").get_attribute("textContent"), linksite.XSS_TITLE)
        self.assertNotEqual(b.driver.title, "pwned")
        self.assertEqual(b.find_all("img[src=x]"), [])
        self.assertEqual(b.find_all("main img"), [])
        self.assert_no_console_errors(b)


if __name__ == "__main__":
    unittest.main()
