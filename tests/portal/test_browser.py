"""The portal in a real browser, the whole story: sign in, create a provider, a destination
(and test its connection) and a sync config, create a customer, connect it through a magic link
and the Salesforce twin's consent page, trigger a sync (real `meltano run` into the hosted
destination), watch it finish on the syncs page (which refreshes itself), find the records and
the run in the history with its Meltano log, pause the sync. Screenshots of the main pages
along the way (TENANTSYNC_SCREENSHOTS=1 writes them into docs/portal/)."""

from __future__ import annotations

import pytest

from tap_salesforce.sandbox import SalesforceSandbox
from tests.api.conftest import running_service
from tests.taps.conftest import rest_rows

from .browser import chromium, screenshot, screenshot_dir

pytestmark = pytest.mark.slow
RUN_TIMEOUT = 240


@pytest.fixture(scope="module")
def live(api_env, tmp_path_factory):
    with running_service(tmp_path_factory.mktemp("portal-browser")) as svc:
        sandbox = SalesforceSandbox(records=12, seed=11)
        sandbox.start()
        yield svc, sandbox
        sandbox.stop()


@pytest.fixture
def driver():
    d = chromium()
    yield d
    d.quit()


def test_whole_story_in_a_browser(live, driver, tmp_path):
    from selenium.common.exceptions import StaleElementReferenceException as STALE
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import Select, WebDriverWait

    svc, sandbox = live
    shots = screenshot_dir(tmp_path)
    wait = WebDriverWait(driver, 20)

    def css(selector: str):
        return driver.find_element(By.CSS_SELECTOR, selector)

    def fill(form: str, **values: str) -> None:
        for name, value in values.items():
            box = css(f"{form} [name={name}]")
            if box.tag_name == "select":
                Select(box).select_by_value(value)
            else:
                box.clear()
                box.send_keys(value)
        css(f"{form} button[type=submit]").click()

    def text(selector: str) -> str:
        """An element's text; rows the page refreshes are replaced under us: read again."""
        return WebDriverWait(driver, 10, ignored_exceptions=STALE).until(
            lambda d: [d.find_element(By.CSS_SELECTOR, selector).text])[0]

    def click(selector: str) -> None:
        WebDriverWait(driver, 10, ignored_exceptions=STALE).until(
            lambda d: d.find_element(By.CSS_SELECTOR, selector).click() or True)

    def flash() -> str:
        return wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, ".flash"))).text

    # sign in: no session sends the browser to the sign-in page
    driver.get(svc.url + "/portal/customers")
    assert driver.current_url.endswith("/portal/login")
    screenshot(driver, shots, "sign-in")
    fill("form", api_key=svc.key_a)
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, ".cards")))

    # provider (the twin's OAuth client; the secret goes in, and never comes back out)
    driver.get(svc.url + "/portal/providers")
    fill("#provider-form", name="bad name")
    assert "should match pattern" in text("#provider-form .field-error")
    fill("#provider-form", name="salesforce", client_id=sandbox.client_id,
         client_secret=sandbox.client_secret, settings=f"login_url={sandbox.base_url}")
    assert "provider salesforce created" in flash()
    assert sandbox.client_secret not in driver.page_source
    screenshot(driver, shots, "providers")

    # destination: the hosted one, and its connection test answers
    driver.get(svc.url + "/portal/destinations")
    fill("#destination-form", name="hosted", type="supaglue")
    assert "destination hosted created" in flash()
    css("form[action$='/test'] button").click()
    assert "connected: PostgreSQL" in wait.until(
        ec.presence_of_element_located((By.CSS_SELECTOR, ".check"))).text
    screenshot(driver, shots, "destinations")

    # sync config, with a validation message beside the period first
    driver.get(svc.url + "/portal/sync-configs")
    fill("#sync-config-form", period_minutes="soon", standard_objects="Account")
    assert "valid integer" in text("#sync-config-form .field-error")
    fill("#sync-config-form", period_minutes="60", standard_objects="Account")
    assert "sync config saved" in flash()
    screenshot(driver, shots, "sync-configs")

    # customer, then connect it: a magic link, the twin's consent page, back to the portal
    driver.get(svc.url + "/portal/customers")
    fill("#customer-form", customer_id="acme", name="Acme Corp", email="it@acme.example")
    assert "customer saved" in flash()
    css("#magic-link-form button").click()
    wait.until(ec.presence_of_element_located((By.ID, "magic-link"))).click()
    wait.until(lambda d: d.current_url.startswith(sandbox.base_url))
    click("button[name=decision]")  # the first: approve
    row = wait.until(ec.presence_of_element_located(
        (By.CSS_SELECTOR, "tr.connection[data-provider=salesforce]")))
    assert "added" in row.text
    assert driver.current_url.startswith(svc.url + "/portal/customer?id=acme")
    screenshot(driver, shots, "customer")

    # trigger; the syncs page refreshes itself until the run is over
    driver.get(svc.url + "/portal/syncs")
    click("tr.sync[data-customer=acme] .actions button[data-action=trigger]")
    assert "trigger done" in flash()
    WebDriverWait(driver, RUN_TIMEOUT, poll_frequency=1, ignored_exceptions=STALE).until(
        lambda d: text("tr.sync[data-customer=acme] .badge") in ("healthy", "failing"))
    assert "healthy" in text("tr.sync[data-customer=acme]")
    records = int(text("tr.sync[data-customer=acme] .records"))
    assert records == len(rest_rows(sandbox, "Account", ["Id"])) > 0
    screenshot(driver, shots, "syncs")

    # the run in the history, filtered by customer, and its page with the Meltano log
    driver.get(svc.url + "/portal/runs?customer=acme&status=SUCCESS")
    run = css("tr.run")
    assert "SUCCESS" in run.text and str(records) in run.text
    screenshot(driver, shots, "runs")
    run.find_element(By.CSS_SELECTOR, "a").click()
    assert "meltano" in wait.until(ec.presence_of_element_located(
        (By.CSS_SELECTOR, "pre.log"))).text.lower()

    driver.get(svc.url + "/portal/")
    counts = {e.get_attribute("data-state"): int(e.text)
              for e in driver.find_elements(By.CSS_SELECTOR, ".count")}
    assert counts["healthy"] == 1
    screenshot(driver, shots, "overview")

    # pause
    driver.get(svc.url + "/portal/syncs")
    click("tr.sync[data-customer=acme] .actions button[data-action=pause]")
    assert "pause done" in flash()
    assert text("tr.sync[data-customer=acme] .badge") == "paused"
    assert svc.registry().sync("acme", "salesforce").paused
