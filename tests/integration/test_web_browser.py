"""The web UI in a real browser (Debian's headless chromium through Selenium) against a running
control plane with three real agents and a replica-3 volume, and a real Prometheus scraping it.
One stack and one browser serve the whole module; the tests run in order (the last one kills an
agent). KADALU_WRITE_SCREENSHOTS=1 writes the screenshots into docs/screenshots/."""
import os
import shutil
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from tests.integration import browser, prometheus
from tests.integration.harness import Cluster, wait_for
from tests.integration.test_volumes_e2e import add_devices

pytestmark = [pytest.mark.integration]
NODES = ("node1", "node2", "node3")
METRICS_TOKEN = "web-test-metrics-token"
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PHONE_PAGES = ("/ui/", "/ui/clusters/mycluster", "/ui/clusters/mycluster/volumes/gvol1",
               "/ui/clusters/mycluster/volumes/new", "/ui/users", "/ui/login")


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    browser.require_browser()
    if shutil.which("glusterfsd") is None:
        pytest.skip("GlusterFS is not installed (scripts/setup.sh)")
    root = tmp_path_factory.mktemp("web")
    cp = Cluster(root)
    cp.env["KADALU_METRICS_TOKEN"] = METRICS_TOKEN
    driver = None
    try:
        cp.start()
        cp.login_admin()
        cp.join_token = cp.api("POST", "/clusters", json={"name": "mycluster"}).json()["join_token"]
        for i, name in enumerate(NODES, start=1):
            cp.start_agent(name, f"127.0.1.{i}", cp.join_token)
        wait_for(lambda: cp.node_states("mycluster") == {n: "Online" for n in NODES}, 60, "agents Online", cp.procs.tails)
        add_devices(cp, "exports")
        bricks = [f"{n}:{root / 'exports' / n / 'gvol1'}" for n in NODES]
        r = cp.api("POST", "/clusters/mycluster/volumes", json={"name": "gvol1", "replica": 3, "bricks": bricks})
        assert r.status_code == 202, r.text
        wait_for(lambda: volume(cp, "gvol1")["state"] == "Started", 90, "gvol1 Started", cp.procs.tails)
        cp.prometheus = prometheus.start(cp.procs, root / "prometheus", cp.url, METRICS_TOKEN)
        driver = browser.chromium(root / "chromium")
        cp.driver = driver
        yield cp
    finally:
        if driver is not None:
            driver.quit()
        cp.stop()


def volume(cp, name):
    return cp.api("GET", f"/clusters/mycluster/volumes/{name}").json()


def open_page(cp, path):
    cp.driver.get(cp.url + path)
    wait_for(lambda: cp.driver.execute_script("return document.readyState") == "complete", 20, f"{path} loaded")


def log_in(cp, username="admin", password="password-123"):
    cp.driver.delete_all_cookies()
    open_page(cp, "/ui/login")
    cp.driver.find_element(By.NAME, "username").send_keys(username)
    cp.driver.find_element(By.NAME, "password").send_keys(password)
    cp.driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    wait_for(lambda: cp.driver.current_url.endswith("/ui/"), 20, f"{username} logged in")


def mark_document(cp) -> None:
    """A value that lives only as long as this document: gone if the page reloads."""
    cp.driver.execute_script("window.__sameDocument = 'yes'")


def same_document(cp) -> bool:
    return cp.driver.execute_script("return window.__sameDocument") == "yes"


def attribute(cp, css, name):
    """Read in one script: live updates replace elements, so a found element may go stale."""
    return cp.driver.execute_script(
        "const e = document.querySelector(arguments[0]); return e ? e.getAttribute(arguments[1]) : null;", css, name)


def text(cp, css):
    return cp.driver.execute_script("const e = document.querySelector(arguments[0]); return e ? e.textContent : '';", css)


def shot(cp, name):
    where = SHOTS if os.environ.get("KADALU_WRITE_SCREENSHOTS") else cp.root / "screenshots"
    where.mkdir(parents=True, exist_ok=True)
    cp.driver.save_screenshot(str(where / f"{name}.png"))


def test_log_in_and_see_the_nodes_online_and_the_volume_started(stack):
    cp = stack
    log_in(cp)
    assert "mycluster" in cp.driver.page_source
    shot(cp, "overview")
    open_page(cp, "/ui/clusters/mycluster")
    for n in NODES:
        assert attribute(cp, f"tr[data-node={n}]", "data-state") == "Online"
    assert attribute(cp, "tr[data-volume=gvol1]", "data-state") == "Started"
    wait_for(lambda: "Up" in text(cp, "tr[data-volume=gvol1]"), 20, "health Up")
    shot(cp, "cluster")
    open_page(cp, "/ui/clusters/mycluster/volumes/gvol1")
    assert attribute(cp, "#volume-head", "data-state") == "Started"
    shot(cp, "volume")


def test_a_volume_created_from_the_page_reaches_started_without_a_reload(stack):
    cp = stack
    open_page(cp, "/ui/clusters/mycluster/volumes/new")
    d = cp.driver
    d.find_element(By.NAME, "name").send_keys("webvol")
    Select(d.find_element(By.NAME, "layout")).select_by_value("replica3")
    d.find_element(By.NAME, "bricks").send_keys("\n".join(f"{n}:{cp.root / 'exports' / n / 'webvol'}" for n in NODES))
    shot(cp, "volume-create")
    d.find_element(By.CSS_SELECTOR, "#volume-form button[type=submit]").click()
    wait_for(lambda: d.current_url.endswith("/volumes/webvol") and attribute(cp, "#volume-head", "data-state"),
             20, "the new volume's page")
    first = attribute(cp, "#volume-head", "data-state")
    mark_document(cp)
    wait_for(lambda: attribute(cp, "#volume-head", "data-state") == "Started", 90, "webvol Started in the page",
             cp.procs.tails)
    assert same_document(cp), "the page reloaded: the state must arrive live"
    assert first != "Started" or volume(cp, "webvol")["state"] == "Started"
    assert volume(cp, "webvol")["state"] == "Started"


def test_a_viewer_sees_no_controls_and_a_forged_request_is_refused(stack):
    cp = stack
    r = cp.api("POST", "/users", json={"username": "vera", "password": "blue-harbour-lantern"})
    assert r.status_code == 201, r.text
    cp.api("POST", "/users/vera/grants", json={"role": "viewer", "scope": "cluster", "cluster": "mycluster"})
    log_in(cp, "vera", "blue-harbour-lantern")
    for path in ("/ui/clusters/mycluster", "/ui/clusters/mycluster/volumes/gvol1"):
        open_page(cp, path)
        controls = cp.driver.find_elements(By.CSS_SELECTOR, "main [hx-post], main form, main button")
        assert controls == [], f"{path} offers a viewer {[c.get_attribute('outerHTML')[:80] for c in controls]}"
    forged = cp.driver.execute_script("""
        const token = JSON.parse(document.body.getAttribute('hx-headers'))['X-CSRF-Token'];
        const send = (headers) => fetch('/ui/clusters/mycluster/volumes/gvol1/stop', {method: 'POST', headers})
            .then(r => r.status);
        return Promise.all([send({'X-CSRF-Token': token}), send({})]);""")
    assert forged == [403, 403]
    assert volume(cp, "gvol1")["state"] == "Started"
    log_in(cp)


def test_at_phone_width_nothing_overflows(stack):
    cp = stack
    browser.phone(cp.driver)
    try:
        for path in PHONE_PAGES:
            if path == "/ui/login":
                cp.driver.delete_all_cookies()
            open_page(cp, path)
            overflow = cp.driver.execute_script(browser.OVERFLOW_JS)
            assert overflow == [], f"{path} at 375 px: {overflow}"
            if path in ("/ui/clusters/mycluster", "/ui/clusters/mycluster/volumes/gvol1"):
                shot(cp, "phone-" + ("cluster" if path.endswith("mycluster") else "volume"))
    finally:
        browser.desktop(cp.driver)
        log_in(cp)


def test_prometheus_scrapes_volume_capacity_and_evaluates_the_rules(stack):
    cp = stack
    found = wait_for(lambda: prometheus.query(cp.prometheus, 'kadalu_volume_capacity_bytes{volume="gvol1"} > 0'), 60,
                     "Prometheus to scrape gvol1's capacity", cp.procs.tails)
    assert found[0]["metric"]["cluster"] == "mycluster"
    assert prometheus.query(cp.prometheus, 'kadalu_brick_online{volume="gvol1"} == 1')
    rules = wait_for(lambda: (r := prometheus.rules(cp.prometheus)) and all(x.get("lastEvaluation", "").startswith("2")
                                                                             and not x["lastEvaluation"].startswith("0001")
                                                                             for x in r) and r,
                     30, "every rule evaluated")
    assert {r["health"] for r in rules} == {"ok"}, [(r["name"], r.get("lastError")) for r in rules if r["health"] != "ok"]
    # a healthy cluster: once scraped, no rule fires or waits to fire (absent() may pend before the first scrape)
    wait_for(lambda: [r["name"] for r in prometheus.rules(cp.prometheus) if r["state"] != "inactive"] == [], 30,
             "every rule inactive on a healthy cluster", lambda: str(prometheus.rules(cp.prometheus)))


def test_killing_an_agent_turns_its_node_red_live_and_raises_an_alert(stack):
    cp = stack
    open_page(cp, "/ui/clusters/mycluster")
    assert attribute(cp, "tr[data-node=node3]", "data-state") == "Online"
    mark_document(cp)
    cp.driver.execute_script("""
        window.__seen = {};
        new MutationObserver(() => {
          const row = document.querySelector('tr[data-node=node3]');
          if (row && row.dataset.state === 'Unreachable' && !window.__seen.node) window.__seen.node = Date.now();
          if (document.querySelector('[data-alert=node_unreachable]') && !window.__seen.alert) window.__seen.alert = Date.now();
        }).observe(document.body, {subtree: true, childList: true});""")
    cp.kill_agent("node3")
    wait_for(lambda: attribute(cp, "tr[data-node=node3]", "data-state") == "Unreachable", 30, "node3 red in the page",
             cp.procs.tails)
    assert "bad" in attribute(cp, "tr[data-node=node3]", "class")
    wait_for(lambda: attribute(cp, "#alerts [data-alert=node_unreachable]", "data-alert"), 10,
             "the node_unreachable alert in the page")
    assert same_document(cp)
    shot(cp, "node-unreachable")
    # how long after the control plane knew: the alert row is written in the same commit as the state
    alert = next(a for a in cp.api("GET", "/clusters/mycluster/alerts").json()["data"] if a["kind"] == "node_unreachable")
    seen = cp.driver.execute_script("return window.__seen")
    known = _epoch(alert["created_at"])
    print(f"\nstate change to the browser: node row {seen['node'] / 1000 - known:.3f} s, "
          f"alert {seen['alert'] / 1000 - known:.3f} s after the commit")
    wait_for(lambda: prometheus.query(cp.prometheus, 'ALERTS{alertname="KadaluNodeUnreachable",node="node3"}'), 30,
             "Prometheus's KadaluNodeUnreachable pending for node3")


def _epoch(iso: str) -> float:
    from datetime import datetime
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()
