"""The Thai web UI in a real headless Chromium (Selenium), against the app served by uvicorn.

Skipped when the system Chromium or chromedriver is absent (Debian: apt-get install chromium
chromium-driver fonts-thai-tlwg). Selenium is pointed at the system binaries, so selenium-manager
never downloads anything. Screenshots go to <repo>/test-output/.
"""
from __future__ import annotations

import contextlib
import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import served

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
OUTPUT = Path(__file__).resolve().parents[1] / "test-output"
DRAFT = "โครงการขุดลอกคลองและลอกท่อระบายน้ำเพื่อป้องกันน้ำท่วมขังในชุมชน"
PROJECTS = [
    {"id": "BKN-2568-001", "fiscal_year": "2568", "org": "สำนักงานเขตบางเขน", "district": "บางเขน",
     "name": "โครงการลอกท่อระบายน้ำซอยพหลโยธิน 48", "objective": "ลดน้ำท่วมขังในซอยและชุมชน", "issue_id": "D1.4"},
    {"id": "LKS-2568-002", "fiscal_year": "2568", "org": "สำนักงานเขตหลักสี่", "district": "หลักสี่",
     "name": "โครงการลอกท่อระบายน้ำซอยแจ้งวัฒนะ 10 <b>ซอยนี้</b>", "objective": "ลดน้ำท่วมขังในชุมชน", "issue_id": "D1.4"},
]
BMA_TITLE = "ยุทธศาสตร์กรุงเทพมหานคร 9 ด้าน 9 ดี"
WAIT = 90  # seconds; the first request also loads the catalog and fits the encoder

if not (CHROMIUM.is_file() and CHROMEDRIVER.is_file()):
    pytest.skip(f"needs {CHROMIUM} and {CHROMEDRIVER} (apt-get install chromium chromium-driver fonts-thai-tlwg)",
                allow_module_level=True)

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
from selenium.common.exceptions import StaleElementReferenceException  # noqa: E402
from selenium.webdriver.chrome.options import Options  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with served(tmp_path_factory.mktemp("ui-data")) as url:
        yield url


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory):
    options = Options()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--no-first-run", "--window-size=1280,1000", "--lang=th-TH",
                     f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def _screenshot(driver, name: str) -> Path:
    """A full-page screenshot: grow the window to the page height first."""
    OUTPUT.mkdir(parents=True, exist_ok=True)
    height = driver.execute_script("return Math.max(document.body.scrollHeight, document.documentElement.scrollHeight)")
    driver.set_window_size(1280, min(max(int(height) + 40, 800), 6000))
    driver.execute_script("window.scrollTo(0, 0)")
    path = OUTPUT / name
    assert driver.save_screenshot(str(path)), f"could not save {path}"
    driver.set_window_size(1280, 1000)
    return path


def _post_json(url: str, body: dict) -> dict:
    request = urllib.request.Request(url, data=json.dumps(body).encode("utf-8"), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=WAIT) as response:
        return json.loads(response.read())


def _wait_searchable(server: str) -> None:
    """Until the service is ready and its index agrees with the store: a search before that answers 503 (indexing)."""
    deadline = time.monotonic() + WAIT
    while True:
        try:
            with urllib.request.urlopen(server + "/readyz", timeout=WAIT):
                return
        except urllib.error.HTTPError:
            assert time.monotonic() < deadline, "the index never caught up with the store"
            time.sleep(0.3)


def _no_console_errors(driver) -> None:
    try:
        logs = driver.get_log("browser")
    except Exception as exc:  # the check would pass without looking (a review): the fixture's chromium exposes the log
        pytest.fail(f"the browser's console log cannot be read: {exc}")
    severe = [entry["message"] for entry in logs if entry.get("level") == "SEVERE"]
    assert not severe, severe


def test_planner_suggests_flood_issue(server: str, browser) -> None:
    browser.get(server + "/")
    assert "หน้าวางแผน" in browser.title
    wait = WebDriverWait(browser, WAIT)
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#catalog option"))  # catalogs loaded from /v1/catalogs

    browser.find_element(By.ID, "draft-text").send_keys(DRAFT)
    browser.find_element(By.ID, "align-submit").click()
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "#suggestions .suggestion")))

    issue = browser.find_elements(By.CSS_SELECTOR, '#suggestions .suggestion[data-level="issue"]')
    assert issue, "no issue-level suggestion"
    assert issue[0].get_attribute("data-node-id") == "D1.4"
    # the catalog and the levels by their Thai names, never their ids
    assert browser.find_element(By.CSS_SELECTOR, "#catalog option").text.startswith(BMA_TITLE)
    wait.until(EC.text_to_be_present_in_element((By.ID, "align-status"), BMA_TITLE))
    assert "bma-9d" not in browser.find_element(By.ID, "align-status").text
    assert browser.find_element(By.CSS_SELECTOR, "#suggestions .level-title").text.startswith("ด้าน")
    assert not browser.find_elements(By.CSS_SELECTOR, "#suggestions .level-id")
    assert "dimension" not in browser.find_element(By.ID, "suggestions").text
    # confidence bar with its % value, and evidence with the shared words marked
    assert issue[0].find_element(By.CSS_SELECTOR, ".bar-value").text.endswith("%")
    marks = [m.text for m in issue[0].find_elements(By.CSS_SELECTOR, ".evidence-draft mark")]
    assert marks and all(m and m in DRAFT for m in marks)
    _no_console_errors(browser)

    path = _screenshot(browser, "planner.png")
    assert path.stat().st_size > 10_000

    # the draft edited after it was sent: the page says the suggestions are the earlier text's, until it is sent again
    stale = browser.find_element(By.ID, "stale-note")
    assert not stale.is_displayed()
    box = browser.find_element(By.ID, "draft-text")
    box.send_keys(" ในซอยวัดไผ่ตัน")
    assert stale.is_displayed() and "ร่างก่อนแก้ไข" in stale.text
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(DRAFT)
    assert not stale.is_displayed()  # back to the text that was sent


TREES = "โครงการปลูกต้นไม้ริมคลองเพื่อลดน้ำท่วมในชุมชน"
SIMILAR_TREES = "โครงการปลูกต้นไม้ริมคลองเพื่อลดน้ำท่วมในชุมชน เขตบางเขน"


def _align_draft(browser, wait, text: str) -> str:
    box = browser.find_element(By.ID, "draft-text")
    box.clear()
    box.send_keys(text)
    old = browser.find_elements(By.CSS_SELECTOR, "#model-info")
    browser.find_element(By.ID, "align-submit").click()
    if old:
        wait.until(EC.staleness_of(old[0]))
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, '#suggestions .suggestion[data-level="issue"]')))
    return browser.find_elements(By.CSS_SELECTOR, '#suggestions .suggestion[data-level="issue"]')[0].get_attribute("data-node-id")


def test_planner_decision_changes_the_next_suggestion(server: str, browser) -> None:
    browser.get(server + "/")
    wait = WebDriverWait(browser, WAIT)
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#catalog option"))
    before = _align_draft(browser, wait, TREES)
    assert before != "D4.1" and browser.find_element(By.ID, "model-info").get_attribute("data-version") == "0"
    # Another node from the catalog tree: the picker opens, filters as one types, Enter chooses.
    browser.find_element(By.CSS_SELECTOR, '.pick-other[data-level="issue"]').click()
    dialog = wait.until(EC.visibility_of_element_located((By.CSS_SELECTOR, "dialog.picker")))
    dialog.find_element(By.CSS_SELECTOR, ".picker-filter").send_keys("D4.1")
    assert dialog.find_element(By.CSS_SELECTOR, "li.choosable.active").get_attribute("data-node-id") == "D4.1"
    _screenshot(browser, "planner-picker.png")
    dialog.find_element(By.CSS_SELECTOR, ".picker-filter").send_keys(Keys.ENTER)
    wait.until(EC.text_to_be_present_in_element((By.ID, "decision-status"), "บันทึกแล้ว: D4.1"))
    # the picked node is marked in its level: its card, or a line saying it when it is not among the suggestions
    cards = browser.find_elements(By.CSS_SELECTOR, '#suggestions .suggestion[data-level="issue"][data-node-id="D4.1"]')
    picked = browser.find_elements(By.CSS_SELECTOR, '#suggestions section[data-level="issue"] .picked[data-node-id="D4.1"]')
    assert (cards and "chosen" in cards[0].get_attribute("class") and not picked) or (not cards and "เลือกแล้ว: D4.1" in picked[0].text)
    # The model refits in the background (a couple of seconds): a similar draft now gets the chosen node.
    deadline = time.monotonic() + WAIT
    while _align_draft(browser, wait, SIMILAR_TREES) != "D4.1":
        assert time.monotonic() < deadline, "the decision never changed the suggestion"
        time.sleep(1)
    info = browser.find_element(By.ID, "model-info")
    assert info.get_attribute("data-version") == "1" and info.get_attribute("data-examples") == "1" and info.get_attribute("data-learned") == "true"
    # the similar decided example names its node, not only its id (a walkthrough)
    badges = [b.text for b in browser.find_elements(By.CSS_SELECTOR, "#neighbours .badge")]
    assert badges and badges[0].startswith("D4.1 ") and len(badges[0]) > len("D4.1 "), badges
    # the decided draft itself follows its decision, and the page says so (its 100% said nothing of where it came from)
    assert _align_draft(browser, wait, TREES) == "D4.1"
    assert "ข้อเสนอนี้ตามการตัดสินใจที่บันทึกไว้สำหรับข้อความที่เกือบเหมือนกัน" in browser.find_element(By.ID, "warnings").text
    # re-opened, the decided draft is marked as decided and its decision can be taken back here (it showed nothing of it)
    assert "ร่างนี้ตัดสินไว้แล้ว: D4.1" in browser.find_element(By.ID, "decision-status").text and browser.find_elements(By.ID, "undo-decision")
    assert browser.find_elements(By.CSS_SELECTOR, '#suggestions .suggestion.chosen[data-level="issue"][data-node-id="D4.1"]')
    # Accepting a suggestion as shown is a decision too; a double click records it once (it sent two, and said "already recorded")
    ActionChains(browser).double_click(browser.find_element(By.CSS_SELECTOR, '#suggestions .suggestion[data-level="dimension"] .accept-suggestion')).perform()
    wait.until(EC.text_to_be_present_in_element((By.ID, "decision-status"), "D4"))
    time.sleep(1)  # a second request would answer within this
    assert browser.find_element(By.ID, "decision-status").text.startswith("บันทึกแล้ว: D4")
    # the same choice again is unchanged: the undo offered for the newest decision stays (it went: two blind reviews)
    browser.find_element(By.CSS_SELECTOR, '#suggestions .suggestion[data-level="dimension"] .accept-suggestion').click()
    wait.until(EC.text_to_be_present_in_element((By.ID, "decision-status"), "ตรงกับที่บันทึกไว้แล้ว: D4"))
    assert browser.find_elements(By.ID, "undo-decision")
    _no_console_errors(browser)
    _screenshot(browser, "planner-decision.png")
    stats = json.loads(urllib.request.urlopen(server + "/v1/decisions/stats", timeout=WAIT).read())
    assert stats["by_source"] == {"planner": 2} and stats["accepted"] == 1
    # a node that is not among the suggestions: a line in its level says it was chosen (no card was marked)
    assert not browser.find_elements(By.CSS_SELECTOR, '#suggestions .suggestion[data-node-id="D9.2"]')
    browser.find_element(By.CSS_SELECTOR, '.pick-other[data-level="issue"]').click()
    dialog = wait.until(EC.visibility_of_element_located((By.CSS_SELECTOR, "dialog.picker")))
    dialog.find_element(By.CSS_SELECTOR, ".picker-filter").send_keys("D9.2")
    dialog.find_element(By.CSS_SELECTOR, ".picker-filter").send_keys(Keys.ENTER)
    picked = wait.until(EC.visibility_of_element_located((By.CSS_SELECTOR, '#suggestions section[data-level="issue"] .picked[data-node-id="D9.2"]')))
    assert picked.text.startswith("เลือกแล้ว: D9.2") and not browser.find_elements(By.CSS_SELECTOR, "#suggestions .suggestion.chosen[data-level='issue']")
    # the dimension chosen before (D4) is off D9.2's path: the newest decision counts, and the page says so (both stayed marked)
    wait.until(EC.text_to_be_present_in_element((By.ID, "decision-status"), "แทนการเลือก D4"))
    assert not browser.find_elements(By.CSS_SELECTOR, "#suggestions .suggestion.chosen[data-level='dimension']")
    # the pick was a mistake: taken back on the page (it could only be replaced by another node); the history keeps both
    browser.find_element(By.ID, "undo-decision").click()
    wait.until(EC.text_to_be_present_in_element((By.ID, "decision-status"), "ยกเลิกแล้ว"))
    assert not browser.find_elements(By.CSS_SELECTOR, "#suggestions .picked")
    # what D9.2 had replaced counts again, and is marked again: the issue D4.1 picked before it, and the dimension D4 it overrode
    said = browser.find_element(By.ID, "decision-status").text
    assert "กลับไปใช้ D4.1 ที่ตัดสินไว้ก่อนหน้า" in said and "D4 (ระดับด้าน)" in said, said
    assert browser.find_elements(By.CSS_SELECTOR, "#suggestions .suggestion.chosen[data-level='dimension'][data-node-id='D4']")
    labels = json.loads(urllib.request.urlopen(server + "/v1/decisions?active=true", timeout=WAIT).read())["decisions"]
    assert sorted((d["level"], d["node_id"]) for d in labels if d["text"] == TREES) == [("dimension", "D4"), ("issue", "D4.1")]
    assert json.loads(urllib.request.urlopen(server + "/v1/decisions/stats", timeout=WAIT).read())["withdrawn"] == 1
    # the newest label standing, this page's own, is the next to take back (only after aligning again before)
    again = browser.find_element(By.ID, "undo-decision")
    assert again.get_attribute("data-node-id") == "D4" and again.text == "ยกเลิก D4 (ระดับด้าน) ด้วย"
    again.click()
    wait.until(EC.text_to_be_present_in_element((By.ID, "decision-status"), "ยกเลิกแล้ว: ระบบจะไม่เรียนรู้จาก D4 "))
    assert not browser.find_elements(By.CSS_SELECTOR, "#suggestions .suggestion.chosen[data-level='dimension']")
    assert browser.find_element(By.ID, "undo-decision").get_attribute("data-node-id") == "D4.1"
    labels = json.loads(urllib.request.urlopen(server + "/v1/decisions?active=true", timeout=WAIT).read())["decisions"]
    assert sorted((d["level"], d["node_id"]) for d in labels if d["text"] == TREES) == [("issue", "D4.1")]
    # A draft that cannot be aligned clears the previous draft's suggestions: they stayed beside the error, and
    # "ใช้ข้อเสนอนี้" recorded the old suggestion for the old text while the box showed the new one.
    box = browser.find_element(By.ID, "draft-text")
    box.clear()
    box.send_keys("999999")
    browser.find_element(By.ID, "align-submit").click()
    wait.until(EC.text_to_be_present_in_element((By.ID, "suggestions"), "ไม่พบคำที่อ่านได้"))
    assert not browser.find_elements(By.CSS_SELECTOR, "#suggestions .suggestion") and not browser.find_element(By.ID, "duplicates-box").is_displayed()
    refused = [e["message"] for e in browser.get_log("browser") if e.get("level") == "SEVERE"]  # read here: the next test checks the log
    assert refused and all("/v1/align" in m and "422" in m for m in refused), refused  # the refused draft, and nothing else


def test_review_search_highlights(server: str, browser) -> None:
    result = _post_json(server + "/v1/projects", {"projects": PROJECTS})
    assert result["inserted"] + result["updated"] + result["unchanged"] == 2
    _wait_searchable(server)

    browser.get(server + "/review")
    assert "หน้าค้นหา" in browser.title
    wait = WebDriverWait(browser, WAIT)
    box = browser.find_element(By.ID, "q")
    box.send_keys("ลอกท่อ")
    box.submit()
    mark = wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "#results .snippet mark")))
    assert mark.text == "ลอกท่อ"
    assert len(browser.find_elements(By.CSS_SELECTOR, "#results .result")) == 2
    # the honest count (hits above the relevance floor) and words a person understands, never raw scores
    api = json.loads(urllib.request.urlopen(server + "/v1/search?q=" + urllib.parse.quote("ลอกท่อ"), timeout=WAIT).read())
    assert browser.find_element(By.ID, "search-status").text.startswith(f"พบ {api['total']} โครงการที่เกี่ยวข้อง")
    badges = [w.text for w in browser.find_elements(By.CSS_SELECTOR, "#results .relevance")]
    assert len(badges) == 2 and set(badges) <= {"เกี่ยวข้องมาก", "เกี่ยวข้อง"}, badges  # one word per result, both above the floor
    assert "ตรงคำค้น" in browser.find_element(By.ID, "results").text
    assert not re.search(r"\d\.\d{2}", browser.find_element(By.ID, "results").text)
    # API text is inserted as text, never as markup
    titles = [t.text for t in browser.find_elements(By.CSS_SELECTOR, "#results .result-title")]
    assert any("<b>ซอยนี้</b>" in t for t in titles), titles
    assert not browser.find_elements(By.CSS_SELECTOR, "#results b")
    # facet counts are shown; clicking one applies that filter
    facet = wait.until(EC.element_to_be_clickable((By.CSS_SELECTOR, '#facets .facet-value[data-facet="year"]')))
    assert facet.find_element(By.CSS_SELECTOR, ".count").text == "2"
    facet.click()
    wait.until(lambda d: d.find_element(By.ID, "f-year").get_attribute("value") == "2568")
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, '#facets .facet-value.active[data-facet="year"]')))
    _no_console_errors(browser)
    _screenshot(browser, "review.png")


DRAINAGE = [
    {"id": "PMP-2567-003", "fiscal_year": "2567", "org": "สำนักงานเขตบางซื่อ", "district": "บางซื่อ",
     "name": "โครงการขุดลอกคลองเปรมประชากร", "objective": "เพิ่มการระบายน้ำ ลดน้ำท่วมขังในชุมชนริมคลอง", "issue_id": "D1.4"},
    {"id": "PMP-2568-004", "fiscal_year": "2568", "org": "สำนักงานเขตดุสิต", "district": "ดุสิต",  # re-submitted by another district
     "name": "โครงการ ขุดลอกคลองเปรมประชากร", "objective": "เพิ่มการระบายน้ำ และลดน้ำท่วมขังในชุมชนริมคลอง", "issue_id": "D1.4"},
]
OTHERS = [
    {"id": "JTC-2568-010", "fiscal_year": "2568", "org": "สำนักงานเขตจตุจักร", "district": "จตุจักร",
     "name": "โครงการอบรมอาสาสมัครป้องกันยาเสพติดในชุมชน", "objective": "สร้างเครือข่ายเฝ้าระวังยาเสพติด", "issue_id": "D2.1"},
    {"id": "PTW-2568-011", "fiscal_year": "2568", "org": "สำนักงานเขตปทุมวัน", "district": "ปทุมวัน",
     "name": "โครงการจัดงานเทศกาลอาหารริมทาง", "objective": "ส่งเสริมผู้ค้าอาหารริมทางและการท่องเที่ยว", "issue_id": "D7.1"},
]


def test_review_says_when_nothing_matches_and_filters_by_year_as_one_types(server: str, browser) -> None:
    _post_json(server + "/v1/projects", {"projects": PROJECTS + DRAINAGE})
    _wait_searchable(server)
    unrelated = "เทศกาลดนตรีนานาชาติ"  # before the later tests store a festival project: nothing stored is about music
    api = json.loads(urllib.request.urlopen(server + "/v1/search?q=" + urllib.parse.quote(unrelated), timeout=WAIT).read())
    assert api["total"] == 0 and api["results"], api  # nothing above the relevance floor, only the nearest projects
    browser.get(server + "/review?q=" + urllib.parse.quote(unrelated))
    wait = WebDriverWait(browser, WAIT)
    wait.until(EC.text_to_be_present_in_element((By.ID, "search-status"), "รายการใกล้เคียงที่สุด"))
    assert browser.find_element(By.ID, "search-status").text.startswith("ไม่พบโครงการที่ตรงคำค้น")
    assert {w.text for w in browser.find_elements(By.CSS_SELECTOR, "#results .relevance")} == {"เกี่ยวข้องน้อย"}
    # citizen reports asked for, none stored: said of reports, not of projects (a walkthrough)
    browser.get(server + "/review?kind=report&q=" + urllib.parse.quote("ขุดลอกคลอง"))
    wait.until(EC.text_to_be_present_in_element((By.ID, "results"), "ไม่พบเรื่องที่ประชาชนแจ้งที่ตรงกับคำค้นและตัวกรอง"))
    long_query = "เทศกาลดนตรีนานาชาติ " * 40  # a pasted draft: the status line repeated all 800 characters (a committee walkthrough)
    browser.get(server + "/review?q=" + urllib.parse.quote(long_query))
    wait.until(EC.text_to_be_present_in_element((By.ID, "search-status"), "…”"))
    assert len(browser.find_element(By.ID, "search-status").text) < 200
    browser.get(server + "/review?q=" + urllib.parse.quote(unrelated))
    wait.until(EC.text_to_be_present_in_element((By.ID, "search-status"), "รายการใกล้เคียงที่สุด"))
    # the year box filters without Enter: typing a year searches again after a pause
    box = browser.find_element(By.ID, "q")
    box.clear()
    box.send_keys("ขุดลอกคลอง", Keys.ENTER)
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#results .result")) >= 2)
    browser.find_element(By.ID, "f-year").send_keys("2567")
    wait.until(lambda d: "year=2567" in d.current_url)
    wait.until(lambda d: {r.get_attribute("data-id") for r in d.find_elements(By.CSS_SELECTOR, "#results .result")} == {"PMP-2567-003"})
    assert not browser.find_element(By.ID, "did-you-mean").is_displayed()
    # a slip in the query: the stored spelling is offered as a link that searches it
    box.clear()
    box.send_keys("ขุดลอกครอง", Keys.ENTER)
    wait.until(EC.visibility_of_element_located((By.ID, "did-you-mean-link")))
    assert browser.find_element(By.ID, "did-you-mean-link").text == "ขุดลอกคลอง"
    browser.find_element(By.ID, "did-you-mean-link").click()
    wait.until(lambda d: d.find_element(By.ID, "q").get_attribute("value") == "ขุดลอกคลอง" and not d.find_element(By.ID, "did-you-mean").is_displayed())
    _no_console_errors(browser)


def test_planner_lists_the_stored_drainage_projects_for_a_drainage_draft(server: str, browser) -> None:
    _post_json(server + "/v1/projects", {"projects": PROJECTS + DRAINAGE + OTHERS})
    browser.get(server + "/")
    wait = WebDriverWait(browser, WAIT)
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#catalog option"))
    box = browser.find_element(By.ID, "draft-text")
    box.clear()
    box.send_keys(DRAFT)
    browser.find_element(By.ID, "align-submit").click()
    wait.until(EC.visibility_of_element_located((By.ID, "duplicates-box")))
    items = wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#duplicates li.duplicate"))
    found = {item.get_attribute("data-id"): item for item in items}
    drainage = {p["id"] for p in PROJECTS + DRAINAGE}
    assert drainage <= set(found), sorted(found)  # ลอกท่อ and ขุดลอก projects of the store
    assert not {p["id"] for p in OTHERS} & set(found)
    for project_id in drainage:  # each with its kind in Thai and the fields that match or differ
        badge = found[project_id].find_element(By.CSS_SELECTOR, ".badge").text
        assert badge and not badge.isascii(), badge
    soi = found["BKN-2568-001"].text
    assert "ซอยพหลโยธิน 48" in soi or "ขุดลอก" in soi or "ลอก" in soi
    # its year, the number behind the decision, and a way to it (a walkthrough saw none of them)
    assert "ปีงบประมาณ 2568" in soi and ("ความหมายใกล้เคียง" in soi or "ตรงกัน" in soi)
    link = found["BKN-2568-001"].find_element(By.CSS_SELECTOR, "a")
    assert link.text == "BKN-2568-001" and "/review?q=" in link.get_attribute("href")
    _no_console_errors(browser)
    _screenshot(browser, "planner-similar.png")
    # the reviewer page lists the re-submission as a cluster, each pair with its kind and the fields that match
    browser.get(server + "/review")
    pair = wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "#clusters li.pair")))
    assert pair.get_attribute("data-kind") == "copy"
    from planalign.service.format import KIND_THAI  # the pages read the CLI's table (a copy in common.js had drifted)

    assert {b.get_attribute("textContent") for b in pair.find_elements(By.CSS_SELECTOR, ".badge.kind-copy")} == {KIND_THAI["copy"]}
    assert {kind: browser.execute_script("return PA.kindThai(arguments[0])", kind) for kind in KIND_THAI} == KIND_THAI
    assert {"PMP-2567-003", "PMP-2568-004"} <= {c.text for c in browser.find_elements(By.CSS_SELECTOR, "#clusters td code")}
    browser.execute_script("document.querySelectorAll('#clusters details').forEach(d => d.open = true)")
    assert any("คลองเปรมประชากร" in chip.text for chip in pair.find_elements(By.CSS_SELECTOR, ".chip-match"))
    assert any(s.text == "คู่ที่คล้ายกัน (ทั้งหมด 1 คู่)" for s in browser.find_elements(By.CSS_SELECTOR, "#clusters .pairs-box > summary"))
    # each pair says both projects' names and the number that decided, not two ids (a walkthrough)
    assert pair.text.count("คลองเปรมประชากร") >= 2 and "คำของข้อความที่สั้นกว่าตรงกัน" in pair.text
    _no_console_errors(browser)
    _screenshot(browser, "review-clusters.png")


def _submit_job(browser, upload: Path, text_col: str, *, label_col: str = "", level: str = "", zero_shot: bool = False) -> WebDriverWait:
    """The evaluation page (loaded) sends ``upload`` as a job with these columns and options; the page's wait."""
    wait = WebDriverWait(browser, WAIT)
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, '#level option[value="issue"]'))
    browser.find_element(By.ID, "job-file").send_keys(str(upload))
    field = browser.find_element(By.ID, "text-col")
    field.clear()
    field.send_keys(text_col)
    if label_col:
        browser.find_element(By.ID, "label-col").send_keys(label_col)
    if level:
        browser.find_element(By.CSS_SELECTOR, f'#level option[value="{level}"]').click()
    if zero_shot:
        browser.find_element(By.ID, "zero-shot").click()
    browser.find_element(By.ID, "job-submit").click()
    return wait


def test_evaluate_upload_shows_metrics(server: str, browser, tmp_path: Path) -> None:
    sample = Path(__file__).resolve().parents[1] / "corpora" / "data" / "sample_projects.jsonl"
    if not sample.is_file():
        pytest.skip(f"no sample file at {sample}")
    upload = tmp_path / "sample.jsonl"
    upload.write_text("".join(sample.read_text(encoding="utf-8").splitlines(keepends=True)[:30]), encoding="utf-8")

    browser.get(server + "/evaluate")
    assert "หน้าประเมินผล" in browser.title
    wait = _submit_job(browser, upload, "name,objective", label_col="issue_id", level="issue")

    wait.until(EC.visibility_of_element_located((By.ID, "metrics-box")))
    links = [a.get_attribute("href") for a in browser.find_elements(By.CSS_SELECTOR, "#downloads a")]
    assert any(h.endswith("format=csv") for h in links) and any(h.endswith("format=xlsx") for h in links)
    assert browser.find_element(By.ID, "progress").get_attribute("aria-valuenow") == "100"
    assert len(browser.find_elements(By.CSS_SELECTOR, "#metric-cards .metric")) >= 3
    assert browser.find_elements(By.CSS_SELECTOR, "#per-class tbody tr")
    wait.until(lambda d: d.execute_script(
        "const i = document.getElementById('confusion-img'); return i.complete && i.naturalWidth > 0"))
    _no_console_errors(browser)
    _screenshot(browser, "evaluate.png")


def test_evaluate_review_grid_by_keyboard(server: str, browser) -> None:
    """After test_evaluate_upload_shows_metrics: its job's rows, accepted and corrected with the keyboard."""
    wait = WebDriverWait(browser, WAIT)
    if "#job=" not in browser.current_url:
        pytest.skip("needs the job of test_evaluate_upload_shows_metrics")
    grid = wait.until(EC.visibility_of_element_located((By.ID, "review-grid")))
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#review-table tbody tr.active"))
    assert "ควรตรวจเมื่อความมั่นใจต่ำกว่า" in browser.find_element(By.ID, "review-rule").text  # which threshold flagged the rows, and from where
    grid.click()
    grid.send_keys("a")  # accept the first row's suggestion
    wait.until(EC.text_to_be_present_in_element((By.ID, "review-status"), "บันทึกแล้ว"))
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#review-table tbody tr.decided"))
    decided = len(browser.find_elements(By.CSS_SELECTOR, "#review-table tbody tr.decided"))
    # no API key: who decided is said in Thai, not "local" (a walkthrough)
    assert "ผู้ใช้ในหน่วยงาน" in browser.find_element(By.CSS_SELECTOR, "#review-table tbody tr.decided td.decision").text
    grid = browser.find_element(By.ID, "review-grid")
    # the Thai keyboard layout on: the key of "n" types "ื" (j / k / a / c / n did nothing: an accessibility audit)
    active = browser.find_element(By.CSS_SELECTOR, "#review-table tbody tr.active").get_attribute("data-index")
    for kind in ("keyDown", "keyUp"):
        browser.execute_cdp_cmd("Input.dispatchKeyEvent", {"type": kind, "key": "ื", "code": "KeyN", "text": "ื" if kind == "keyDown" else ""})
    wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "#review-table tbody tr.active").get_attribute("data-index") != active)
    assert browser.find_element(By.CSS_SELECTOR, "#review-table tbody tr.active").get_attribute("aria-current") == "true"
    assert "แถว " in browser.execute_script("return document.getElementById('review-current').textContent")  # what a screen reader hears
    grid.send_keys("c")  # correct the next undecided row with the picker
    dialog = wait.until(EC.visibility_of_element_located((By.CSS_SELECTOR, "dialog.picker")))
    dialog.find_element(By.CSS_SELECTOR, ".picker-filter").send_keys("D9.1", Keys.ENTER)
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#review-table tbody tr.decided")) == decided + 1)
    assert any(c.text.startswith("D9.1") for c in browser.find_elements(By.CSS_SELECTOR, "#review-table td.decision"))
    # a mouse click on a row's accept button: the keys still work after it (focus fell to the page when the row was redrawn)
    browser.find_elements(By.CSS_SELECTOR, "#review-table tbody tr:not(.decided) .review-accept")[0].click()
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#review-table tbody tr.decided")) == decided + 2)
    assert browser.switch_to.active_element.get_attribute("id") == "review-grid"
    # a slipped key taken back: u withdraws the active row's label (it could only be replaced by another node)
    mistaken = [r for r in browser.find_elements(By.CSS_SELECTOR, "#review-table tbody tr.decided")
                if not r.find_element(By.CSS_SELECTOR, "td.decision").text.startswith("D9.1")][-1]
    index = mistaken.get_attribute("data-index")
    mistaken.click()
    browser.find_element(By.ID, "review-grid").send_keys("u")
    wait.until(EC.text_to_be_present_in_element((By.ID, "review-status"), "ยกเลิกแล้ว"))
    # read in one script: the grid redraws its rows as the page reloads (a row found, then read, could be gone: a flaky run)
    wait.until(lambda d: d.execute_script("const r = document.querySelector(arguments[0]); return Boolean(r) && !r.classList.contains('decided')",
                                          f'#review-table tbody tr[data-index="{index}"]'))
    assert browser.switch_to.active_element.get_attribute("id") == "review-grid"
    assert json.loads(urllib.request.urlopen(server + "/v1/decisions/stats", timeout=WAIT).read())["withdrawn"] >= 1
    # u again: that row has nothing left to withdraw, and says so; moving on, the message goes (it stayed beside the next page's rows)
    browser.find_element(By.ID, "review-grid").send_keys("u")
    wait.until(EC.text_to_be_present_in_element((By.ID, "review-status"), "ยังไม่มีการตัดสินที่จะยกเลิก"))
    browser.find_element(By.ID, "review-grid").send_keys("j")
    wait.until(lambda d: d.find_element(By.ID, "review-status").text == "")
    browser.find_element(By.ID, "review-needs").click()  # filter: only rows that need review
    wait.until(lambda d: d.execute_script("const rows = [...document.querySelectorAll('#review-table tbody tr[data-index]')];"
                                          "return rows.length > 0 && rows.every(r => r.classList.contains('needs'))"))
    _no_console_errors(browser)
    _screenshot(browser, "evaluate-review.png")
    job_id = browser.current_url.split("#job=")[1]
    # another job opened, then this one again (the back button): the grid comes back (it stayed hidden: a walkthrough)
    browser.execute_script("document.dispatchEvent(new CustomEvent('pa:job', {detail: {id: 'other', status: 'cancelled'}}));")
    assert not browser.find_element(By.ID, "review-box").is_displayed()
    browser.execute_script("document.dispatchEvent(new CustomEvent('pa:job', {detail: {id: arguments[0], status: 'done'}}));", job_id)
    assert browser.find_element(By.ID, "review-box").is_displayed()
    corrected = urllib.request.urlopen(f"{server}/v1/classify/jobs/{job_id}/corrected?format=csv", timeout=WAIT).read().decode("utf-8-sig")
    assert corrected.splitlines()[0].endswith("final_label,final_level,review_note") and ",D9.1" in corrected


def test_the_review_grid_says_which_rows_a_decision_decides_and_why_a_row_cannot_be(server: str, browser) -> None:
    """A decision on one row decided the rows of the same text without a word, and a/Enter on a row the job could
    not read did nothing (an evaluation team's walkthrough)."""
    import httpx

    body = "ชื่อโครงการ\nโครงการลอกท่อระบายน้ำซอยวัดไผ่ตัน\n12345\nโครงการลอกท่อระบายน้ำซอยวัดไผ่ตัน\nโครงการปลูกต้นไม้ริมคลองแสนแสบ\n"
    job = httpx.post(f"{server}/v1/classify/jobs", files={"file": ("same.csv", body.encode())}, data={"text_col": "ชื่อโครงการ"}, timeout=WAIT).json()
    deadline = time.monotonic() + WAIT
    while httpx.get(f"{server}/v1/classify/jobs/{job['id']}", timeout=WAIT).json()["status"] != "done":
        assert time.monotonic() < deadline, "job did not finish"
        time.sleep(0.3)
    browser.get("about:blank")  # a page load, not a hash change of the page an earlier test left filtered
    browser.get(f"{server}/evaluate#job={job['id']}")
    wait = WebDriverWait(browser, WAIT)
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#review-table tbody tr[data-index]")) == 4)

    def row_of(text: str):
        return next(tr for tr in browser.find_elements(By.CSS_SELECTOR, "#review-table tbody tr[data-index]")
                    if tr.find_element(By.CSS_SELECTOR, "td.text").text == text)

    row_of("12345").find_element(By.CSS_SELECTOR, "td.text").click()
    browser.find_element(By.ID, "review-grid").send_keys("a")
    wait.until(EC.text_to_be_present_in_element((By.ID, "review-status"), "อ่านข้อความไม่ได้"))
    row_of("โครงการลอกท่อระบายน้ำซอยวัดไผ่ตัน").find_element(By.CSS_SELECTOR, "td.text").click()
    browser.find_element(By.ID, "review-grid").send_keys("a")
    wait.until(EC.text_to_be_present_in_element((By.ID, "review-status"), "บันทึกแล้ว"))
    said = browser.find_element(By.ID, "review-status").text
    numbers = sorted(int(tr.find_element(By.CSS_SELECTOR, "td.num").text.split()[0]) for tr in browser.find_elements(By.CSS_SELECTOR, "#review-table tbody tr")
                     if tr.find_elements(By.CSS_SELECTOR, "td.text") and tr.find_element(By.CSS_SELECTOR, "td.text").text == "โครงการลอกท่อระบายน้ำซอยวัดไผ่ตัน")
    assert "ข้อความเดียวกันจึงได้หมวดนี้ด้วย: แถว " in said and any(f"แถว {n}" in said.split("ด้วย:")[1] for n in numbers)

    # the next row is past the copy the decision decided too, which sorts beside it: the next key press landed on it
    def active_after_the_copies(d) -> bool:
        rows = d.find_elements(By.CSS_SELECTOR, "#review-table tbody tr[data-index]")
        texts = [tr.find_element(By.CSS_SELECTOR, "td.text").text for tr in rows]
        copies = [i for i, text in enumerate(texts) if text == "โครงการลอกท่อระบายน้ำซอยวัดไผ่ตัน"]
        assert copies == [copies[0], copies[0] + 1] and copies[1] < len(rows) - 1, texts  # side by side, a row after them
        decided = all("decided" in (rows[i].get_attribute("class") or "") for i in copies)
        return decided and [i for i, tr in enumerate(rows) if "active" in (tr.get_attribute("class") or "").split()] == [copies[1] + 1]
    wait.until(active_after_the_copies)
    _no_console_errors(browser)


def test_the_evaluation_page_lists_the_decisions_and_withdraws_one(server: str, browser) -> None:
    """Decisions could be seen and undone only where they were made, the acceptance rate only through the API (a planner's walkthrough)."""
    text = "โครงการทดสอบระบบบันทึกการตัดสินใจ ลอกท่อระบายน้ำซอยทดสอบ"
    request = urllib.request.Request(server + "/v1/decisions", data=json.dumps({"text": text, "node_id": "D1.4", "suggested": "D4.1",
                                                                                "source": "imported"}).encode("utf-8"),
                                     headers={"Content-Type": "application/json"}, method="POST")
    decided = json.loads(urllib.request.urlopen(request, timeout=WAIT).read())["decisions"][0]
    browser.get("about:blank")
    browser.get(server + "/evaluate#decisions")
    wait = WebDriverWait(browser, WAIT, ignored_exceptions=[StaleElementReferenceException])  # the list redraws as it reloads
    row = wait.until(EC.visibility_of_element_located((By.CSS_SELECTOR, f'#decisions-table tbody tr[data-id="{decided["id"]}"]')))
    assert "D1.4" in row.text and "นำเข้าไฟล์" in row.text and "มีผล" in row.text
    assert "ยอมรับข้อเสนอของระบบ" in browser.find_element(By.ID, "decisions-summary").text
    browser.find_element(By.ID, "decisions-q").send_keys("ซอยทดสอบ", Keys.ENTER)  # a part of the text finds it
    wait.until(EC.staleness_of(row))
    row = wait.until(EC.visibility_of_element_located((By.CSS_SELECTOR, f'#decisions-table tbody tr[data-id="{decided["id"]}"]')))
    assert len(browser.find_elements(By.CSS_SELECTOR, "#decisions-table tbody tr[data-id]")) == 1
    summary = browser.find_element(By.ID, "decisions-summary").text  # it counts what the list shows
    assert "ข้อความมี \u201cซอยทดสอบ\u201d" in summary and "การตัดสินใจ 1 รายการ (ไม่รวมที่ยกเลิก)" in summary, summary
    row.find_element(By.CSS_SELECTOR, ".decision-withdraw").click()  # asked first: a click alone withdrew it (a walkthrough)
    asked = wait.until(EC.alert_is_present())
    assert f"รายการที่ {decided['id']} (D1.4)" in asked.text and "ลอกท่อระบายน้ำซอยทดสอบ" in asked.text, asked.text
    asked.dismiss()  # kept: nothing sent
    time.sleep(0.5)  # a withdrawal would answer within this
    assert "ยกเลิก" not in browser.find_element(By.ID, "decisions-status").text
    listed = json.loads(urllib.request.urlopen(server + "/v1/decisions?text=" + urllib.parse.quote(text), timeout=WAIT).read())
    assert [d["id"] for d in listed["decisions"]] == [decided["id"]]
    row.find_element(By.CSS_SELECTOR, ".decision-withdraw").click()
    wait.until(EC.alert_is_present()).accept()
    wait.until(EC.text_to_be_present_in_element((By.ID, "decisions-status"), f"ยกเลิกรายการที่ {decided['id']} แล้ว"))
    assert not browser.find_elements(By.CSS_SELECTOR, f'#decisions-table tbody tr[data-id="{decided["id"]}"]')  # no longer active
    browser.find_element(By.ID, "decisions-active").click()  # the history: the decision and its withdrawal
    wait.until(lambda d: "ยกเลิกแล้ว" in d.find_element(By.CSS_SELECTOR, f'#decisions-table tbody tr[data-id="{decided["id"]}"]').text)
    assert any(f"การยกเลิกรายการที่ {decided['id']}" in r.text for r in browser.find_elements(By.CSS_SELECTOR, "#decisions-table tbody tr"))
    listed = json.loads(urllib.request.urlopen(server + "/v1/decisions?active=false&text=" + urllib.parse.quote(text), timeout=WAIT).read())
    assert [d["withdrawn_by"] is not None for d in listed["decisions"] if d["id"] == decided["id"]] == [True]
    _no_console_errors(browser)
    _screenshot(browser, "evaluate-decisions.png")


def test_the_list_of_decisions_follows_its_catalogs_levels_and_pages_once_a_click(server: str, browser) -> None:
    """A blind review: a level of the catalog chosen before went with the next catalog's request ("ไม่มีระดับ issue"), a double
    click on "ถัดไป" went past the end ("101–100 จาก 59"), and withdrawing the last page's only row left an empty table."""
    def post(path: str, body, files: bool = False) -> dict:
        data = json.dumps(body).encode("utf-8")
        request = urllib.request.Request(server + path, data=data, headers={"Content-Type": "application/json"}, method="POST")
        return json.loads(urllib.request.urlopen(request, timeout=WAIT).read())
    boundary = "planalignboundary"
    catalog = ("id,parent_id,level,name,description\nS1,,strategy,เมืองสะอาด,ขยะและความสะอาด\nS1.1,S1,measure,ลดขยะ,คัดแยกขยะ\n"
               "S2,,strategy,เมืองปลอดภัย,ไฟฟ้าและกล้อง\nS2.1,S2,measure,ไฟส่องสว่าง,ไฟถนน\n")
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"id\"\r\n\r\nlevels-test\r\n--{boundary}\r\n"
            f"Content-Disposition: form-data; name=\"file\"; filename=\"c.csv\"\r\nContent-Type: text/csv\r\n\r\n{catalog}\r\n--{boundary}--\r\n")
    upload = urllib.request.Request(server + "/v1/catalogs", data=body.encode("utf-8"), method="POST",
                                    headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    urllib.request.urlopen(upload, timeout=WAIT).read()
    post("/v1/decisions", [{"text": f"ทดสอบหน้าถัดไป รายการ {i}", "node_id": "D4.1"} for i in range(51)])
    browser.get("about:blank")
    browser.get(server + "/evaluate#decisions")
    wait = WebDriverWait(browser, WAIT, ignored_exceptions=[StaleElementReferenceException])  # the list redraws as it reloads
    wait.until(EC.text_to_be_present_in_element((By.ID, "decisions-status"), "แสดงรายการที่"))
    Select(browser.find_element(By.ID, "decisions-level")).select_by_value("issue")
    wait.until(EC.text_to_be_present_in_element((By.ID, "decisions-status"), "แสดงรายการที่"))
    Select(browser.find_element(By.ID, "decisions-catalog")).select_by_value("levels-test")
    wait.until(lambda d: [o.get_attribute("value") for o in Select(d.find_element(By.ID, "decisions-level")).options] == ["", "strategy", "measure"])
    wait.until(EC.text_to_be_present_in_element((By.ID, "decisions-status"), "ไม่มีการตัดสินใจที่ตรงกับตัวกรอง"))
    Select(browser.find_element(By.ID, "decisions-catalog")).select_by_value("bma-9d")  # and back: its own levels again
    wait.until(lambda d: "issue" in [o.get_attribute("value") for o in Select(d.find_element(By.ID, "decisions-level")).options])
    box = browser.find_element(By.ID, "decisions-q")
    box.send_keys("ทดสอบหน้าถัดไป", Keys.ENTER)
    wait.until(EC.text_to_be_present_in_element((By.ID, "decisions-status"), "จาก 51"))
    ActionChains(browser).double_click(browser.find_element(By.ID, "decisions-next")).perform()
    wait.until(EC.text_to_be_present_in_element((By.ID, "decisions-status"), "แสดงรายการที่ 51–51 จาก 51"))
    time.sleep(1)  # a second page turn would answer within this
    assert "51–51" in browser.find_element(By.ID, "decisions-status").text
    browser.find_element(By.CSS_SELECTOR, "#decisions-table .decision-withdraw").click()  # the last page's only row
    wait.until(EC.alert_is_present()).accept()
    wait.until(EC.text_to_be_present_in_element((By.ID, "decisions-status"), "ยกเลิกรายการที่"))
    assert len(browser.find_elements(By.CSS_SELECTOR, "#decisions-table tbody tr[data-id]")) == 50  # the page before, not an empty one
    assert not browser.find_element(By.ID, "decisions-pager").is_displayed()
    _no_console_errors(browser)


def test_the_review_grid_pages_through_a_long_job(server: str, browser) -> None:
    """A 3,000-row job showed its first 1,000 rows and no way to the rest (a walkthrough): pages of 200,
    buttons, and the keyboard going on past a page's last row and back before its first."""
    import httpx

    texts = [f"ลอกท่อระบายน้ำซอย {n}" if n % 2 else f"ปลูกต้นไม้ริมถนนสาย {n}" for n in range(230)]
    body = "text\n" + "\n".join(texts) + "\n"
    job = httpx.post(f"{server}/v1/classify/jobs", files={"file": ("long.csv", body.encode())}, data={"text_col": "text"}, timeout=WAIT).json()
    deadline = time.monotonic() + WAIT
    while httpx.get(f"{server}/v1/classify/jobs/{job['id']}", timeout=WAIT).json()["status"] != "done":
        assert time.monotonic() < deadline, "job did not finish"
        time.sleep(0.3)
    listed = httpx.get(f"{server}/v1/classify/jobs", params={"limit": 5}, timeout=WAIT).json()
    assert listed[0]["id"] == job["id"] and listed[0]["params"]["filename"] == "long.csv"  # the newest first
    browser.get(f"{server}/evaluate")  # a closed tab: the job is found again in the list of recent jobs
    wait = WebDriverWait(browser, WAIT)
    wait.until(EC.element_to_be_clickable((By.CSS_SELECTOR, "#recent-jobs-box summary"))).click()
    entry = wait.until(EC.element_to_be_clickable((By.LINK_TEXT, "long.csv"))).find_element(By.XPATH, "..")
    assert "ระดับล่างสุดของแผน" in entry.text, entry.text  # two runs of one file told apart by their level (a walkthrough): none asked
    wait.until(EC.element_to_be_clickable((By.LINK_TEXT, "long.csv"))).click()
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#review-table tbody tr[data-index]")) == 200)
    assert "แสดงแถวที่ 1–200 จาก 230" in browser.find_element(By.ID, "review-summary").text
    assert "หน้า 1 จาก 2" in browser.find_element(By.ID, "review-pager").text
    browser.find_element(By.ID, "review-grid").send_keys("u")  # nothing to withdraw on the first row: said, then gone with the page
    wait.until(EC.text_to_be_present_in_element((By.ID, "review-status"), "ยังไม่มีการตัดสินที่จะยกเลิก"))
    browser.find_element(By.ID, "review-next").click()
    wait.until(EC.text_to_be_present_in_element((By.ID, "review-summary"), "แสดงแถวที่ 201–230 จาก 230"))
    assert browser.find_element(By.ID, "review-status").text == ""  # the new page's first row has the old one's place (a blind review)
    assert len(browser.find_elements(By.CSS_SELECTOR, "#review-table tbody tr[data-index]")) == 30
    grid = browser.find_element(By.ID, "review-grid")
    grid.send_keys("k")  # before the page's first row: the previous page, its last row active
    wait.until(EC.text_to_be_present_in_element((By.ID, "review-summary"), "แสดงแถวที่ 1–200"))
    rows = browser.find_elements(By.CSS_SELECTOR, "#review-table tbody tr[data-index]")
    assert "active" in rows[-1].get_attribute("class")
    browser.switch_to.active_element.send_keys("a")  # the page's last row accepted: on to the next page (it stayed on row 200)
    wait.until(EC.text_to_be_present_in_element((By.ID, "review-summary"), "แสดงแถวที่ 201–230"))
    assert "ตัดสินแล้ว 1 แถว" in browser.find_element(By.ID, "review-summary").text
    flagged = httpx.get(f"{server}/v1/classify/jobs/{job['id']}/review", params={"needs_review": "true", "limit": 1}, timeout=WAIT).json()["total"]
    browser.find_element(By.ID, "review-needs").click()  # a filter: its first page, and the keys go back to the grid
    wait.until(EC.text_to_be_present_in_element((By.ID, "review-summary"), f"จาก {flagged} แถวที่ตรงกับตัวกรอง"))
    wait.until(lambda d: d.switch_to.active_element.get_attribute("id") == "review-grid")
    _no_console_errors(browser)


def test_catalog_tree(server: str, browser) -> None:
    browser.get(server + "/catalog")
    assert "หน้าแผนยุทธศาสตร์" in browser.title
    wait = WebDriverWait(browser, WAIT)
    node = wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, '#tree details[data-node-id="D1.4"]')))
    assert "น้ำท่วม" in node.get_attribute("textContent")
    browser.find_element(By.ID, "tree-filter").send_keys("น้ำท่วม")
    assert node.is_displayed()  # the parent D1 is opened to show the match
    assert browser.find_element(By.ID, "tree-summary").text.startswith(BMA_TITLE)
    browser.find_element(By.ID, "tree-filter").send_keys("zzz")  # the tree went blank without a word
    assert browser.find_element(By.ID, "filter-status").text == "ไม่พบหัวข้อที่มีคำว่า “น้ำท่วมzzz”"
    _no_console_errors(browser)
    _screenshot(browser, "catalog.png")


@pytest.fixture(scope="module")
def keyed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app with keys required for reads too: links and images cannot send the key, the pages must fetch them."""
    with served(tmp_path_factory.mktemp("ui-keyed"), api_keys=("ui-key",), read_requires_key=True) as url:
        yield url


def test_downloads_and_confusion_image_work_when_reads_need_a_key(keyed_server: str, browser, tmp_path: Path) -> None:
    upload = tmp_path / "labelled.csv"
    upload.write_text("text,gold\nขุดลอกคลองระบายน้ำ,D1.4\nปลูกต้นไม้ริมถนน,D4.1\nลอกท่อระบายน้ำซอย,D1.4\n", encoding="utf-8")
    browser.get(keyed_server + "/evaluate")
    browser.execute_script("window.localStorage.setItem('planalign.apiKey', 'ui-key')")
    # drop the 401 of the page loaded before the key was set, once it has come: under load it reached the
    # console after an immediate drain (a flaky run of make test)
    WebDriverWait(browser, WAIT).until(lambda d: any("401" in entry["message"] for entry in d.get_log("browser")))
    browser.get(keyed_server + "/evaluate")
    wait = _submit_job(browser, upload, "text", label_col="gold", level="issue")
    wait.until(EC.visibility_of_element_located((By.ID, "metrics-box")))
    wait.until(lambda d: d.execute_script(
        "const i = document.getElementById('confusion-img'); return i.complete && i.naturalWidth > 0"))
    link = browser.find_element(By.CSS_SELECTOR, "#downloads a")
    fetched = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "PA.blobUrl(arguments[0]).then(u => done(u), e => done('ERROR ' + e.status));",
        link.get_attribute("href"))
    assert fetched.startswith("blob:"), fetched  # fetched with the key: a 401 would reject
    link.click()  # the download goes through the same fetch: no error is shown
    time.sleep(0.5)
    assert "error" not in browser.find_element(By.ID, "job-status").get_attribute("class")
    plain = urllib.request.Request(link.get_attribute("href"))
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(plain, timeout=10)  # a plain link (no key) is refused, which is why the page fetches
    assert refused.value.code == 401
    _no_console_errors(browser)


DASHBOARD_ITEMS = [
    *({"id": f"DB-{n:02d}", "fiscal_year": "2566" if n % 4 else "2565", "org": f"สำนักงานเขต{d}", "district": d, "budget": str(100_000 * (n + 1)),
       "name": name, **({"issue_id": issue} if n % 2 else {})}
      for n, (d, name, issue) in enumerate([
          ("บางเขน", "โครงการขุดลอกคลองและลอกท่อระบายน้ำ", "D1.4"), ("ดุสิต", "โครงการจัดเก็บขยะและคัดแยกขยะในชุมชน", "D4.2"),
          ("บางรัก", "โครงการคัดกรองเบาหวานในชุมชน <b>ตัวหนา</b>", "D5.1"), ("หนองจอก", "โครงการพัฒนาศูนย์พัฒนาเด็กเล็ก", "D6.1"),
          ("บางแค", "โครงการปรับปรุงทางเท้าให้เดินสะดวก", "D1.1"), ("บางเขน", "โครงการติดตั้งไฟส่องสว่างและกล้องวงจรปิด", "D2.1"),
          ("คลองเตย", "โครงการฝึกอาชีพคนเมือง", "D7.1"), ("ดินแดง", "โครงการจัดเก็บขยะมูลฝอย", "D4.2")] * 2)),
    {"id": "DB-C1", "fiscal_year": "2566", "org": "สำนักการระบายน้ำ", "name": "โครงการก่อสร้างอุโมงค์ระบายน้ำ", "budget": "50000000", "issue_id": "D1.4"},
    *({"id": f"TR-{n:02d}", "fiscal_year": "2566", "district": "บางเขน", "source": "traffy", "category": "น้ำท่วม" if n % 2 else "อื่นๆ",
       "name": "น้ำท่วมขังหน้าซอยหลังฝนตกทุกครั้ง" if n % 2 else "ขยะตกค้างไม่มีคนมาเก็บ ส่งกลิ่นเหม็น"} for n in range(24)),
]


def test_dashboard_coverage(server: str, browser) -> None:
    result = _post_json(server + "/v1/projects", {"projects": DASHBOARD_ITEMS})
    assert result["rejected"] == []

    browser.get(server + "/dashboard")
    assert "ภาพรวมความครอบคลุม" in browser.title
    wait = WebDriverWait(browser, WAIT)
    loaded = lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-loaded") == "true"  # noqa: E731
    wait.until(loaded)
    years = [o.get_attribute("value") for o in browser.find_elements(By.CSS_SELECTOR, "#d-year option")]
    assert "2566" in years and browser.find_element(By.ID, "d-year").get_attribute("value") == max(years)  # the latest stored year
    Select(browser.find_element(By.ID, "d-year")).select_by_value("2566")
    wait.until(loaded)
    assert len(browser.find_elements(By.CSS_SELECTOR, "#bars .bar-row")) == 9  # the 9 dimensions
    district_rows = browser.find_elements(By.CSS_SELECTOR, "#heatmap tbody tr[data-district]")
    assert len(district_rows) == 51  # 50 districts and the central agencies
    groups = [g.text for g in browser.find_elements(By.CSS_SELECTOR, "#heatmap tr.heat-group")]
    assert len(groups) == 7 and groups[-1] == "ไม่ระบุเขต"  # the six district groups, then the central agencies under their own header
    assert browser.find_elements(By.CSS_SELECTOR, '#empty-issues li[data-node="D9.2"]')  # no project on D9.2
    need = browser.find_element(By.CSS_SELECTOR, '#needs-table tr[data-district="บางเขน"]')
    assert need.find_elements(By.CSS_SELECTOR, ".examples li")
    # drill-down from a heatmap cell: the projects behind it
    cell = browser.find_element(By.CSS_SELECTOR, '#heatmap tr[data-district="บางรัก"] td[data-node="D5"]')
    cell.click()
    wait.until(EC.visibility_of_element_located((By.CSS_SELECTOR, "#drill-table tbody tr")))
    rows = {r.get_attribute("data-id"): r for r in browser.find_elements(By.CSS_SELECTOR, "#drill-table tbody tr")}
    assert "DB-10" in rows and set(rows) <= {"DB-02", "DB-10"} and cell.text == str(len(rows))  # declared D5.1; DB-02 as the aligner says
    assert "<b>ตัวหนา</b>" in rows["DB-10"].text and not browser.find_elements(By.CSS_SELECTOR, "#drill-table b")
    links = [a.get_attribute("href") for a in browser.find_elements(By.CSS_SELECTOR, "#exports a")]
    assert any("format=xlsx" in h for h in links) and any("table=districts" in h for h in links)
    _no_console_errors(browser)
    browser.find_element(By.ID, "drill-close").click()
    # by keyboard (an accessibility audit): the heatmap is one tab stop, arrows move in it, Space opens the list, the list
    # takes the keyboard and Close gives it back to the cell
    assert len(browser.find_elements(By.CSS_SELECTOR, '#heatmap td.heat[tabindex="0"]')) == 1
    first = browser.find_element(By.CSS_SELECTOR, '#heatmap td.heat[tabindex="0"]')
    browser.execute_script("arguments[0].focus()", first)
    first.send_keys(Keys.ARROW_RIGHT)
    moved = browser.switch_to.active_element
    assert moved.get_attribute("data-node") != first.get_attribute("data-node") and moved.get_attribute("tabindex") == "0"
    moved.send_keys(Keys.SPACE)
    wait.until(lambda d: d.switch_to.active_element.get_attribute("id") == "drill-heading")
    browser.find_element(By.ID, "drill-close").send_keys(Keys.ENTER)
    wait.until(lambda d: d.switch_to.active_element.get_attribute("data-node") == moved.get_attribute("data-node"))
    path = _screenshot(browser, "dashboard.png")
    assert path.stat().st_size > 20_000
    # a plan whose levels are named otherwise: the page asked it for "issue", was refused, and kept the previous plan's bars (a walkthrough)
    import httpx

    plan = "id,parent_id,level,name,description\nS1,,ยุทธศาสตร์,มหานครปลอดภัย,ลดน้ำท่วม\nS1.1,S1,มาตรการ,ระบายน้ำ,ลอกท่อระบายน้ำ\n" \
           "S2,,ยุทธศาสตร์,มหานครสีเขียว,ต้นไม้\nS2.1,S2,มาตรการ,สวนสาธารณะ,ปลูกต้นไม้\n"
    assert httpx.post(server + "/v1/catalogs", files={"file": ("plan.csv", plan.encode())}, data={"id": "plan20"}, timeout=WAIT).status_code == 201
    browser.get(server + "/dashboard")
    wait.until(loaded)
    Select(browser.find_element(By.ID, "catalog")).select_by_value("plan20")
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#bars .bar-row")) in (2, 3))  # its 2 strategies (and what none took)
    wait.until(loaded)
    assert not browser.find_element(By.ID, "dash-status").text and any("level=" + urllib.parse.quote("มาตรการ") in a.get_attribute("href")
                                                                         for a in browser.find_elements(By.CSS_SELECTOR, "#exports a"))
    # the page's words follow the plan's levels; any level under the top one can be the detail (goals and OKRs were
    # reachable only through the API and the CLI, and a plan's measures were called "ประเด็นการพัฒนา": a catalog author's walkthrough)
    assert [o.text for o in Select(browser.find_element(By.ID, "d-level")).options] == ["มาตรการ"]
    assert browser.find_element(By.ID, "empty-heading").text == "มาตรการที่ยังไม่มีโครงการ"
    from conftest import SHOP_CATALOG_RAGGED

    assert httpx.post(server + "/v1/catalogs", files={"file": ("ragged.csv", SHOP_CATALOG_RAGGED.encode())}, data={"id": "ragged"},
                      timeout=WAIT).status_code == 201
    browser.get(server + "/dashboard")
    wait.until(loaded)
    Select(browser.find_element(By.ID, "catalog")).select_by_value("ragged")
    wait.until(lambda d: [o.get_attribute("value") for o in Select(d.find_element(By.ID, "d-level")).options] == ["issue", "goal"])
    wait.until(loaded)
    Select(browser.find_element(By.ID, "d-level")).select_by_value("goal")
    wait.until(lambda d: d.find_element(By.ID, "empty-heading").text == "เป้าหมายที่ยังไม่มีโครงการ")
    wait.until(loaded)
    assert {li.get_attribute("data-node") for li in browser.find_elements(By.CSS_SELECTOR, "#empty-issues li")} <= {"PET.DOG.FOOD", "PET.DOG.TOY", "PLANT.FRUIT.MANGO"}
    # the filters are in the address: a shared link opens on them (it stayed "/dashboard": a committee walkthrough)
    browser.get(server + "/dashboard")
    wait.until(loaded)
    Select(browser.find_element(By.ID, "catalog")).select_by_value("bma-9d")
    wait.until(loaded)
    Select(browser.find_element(By.ID, "d-year")).select_by_value("2566")
    wait.until(lambda d: "year=2566" in d.current_url and loaded(d))
    Select(browser.find_element(By.ID, "d-group")).select_by_value("กรุงเทพกลาง")
    wait.until(lambda d: "group=" in d.current_url and loaded(d))
    Select(browser.find_element(By.ID, "d-metric")).select_by_value("budget")
    shared = browser.current_url
    assert "metric=budget" in shared and "catalog=bma-9d" in shared
    browser.get("about:blank")
    browser.get(shared)
    wait.until(loaded)
    assert [browser.find_element(By.ID, i).get_attribute("value") for i in ("d-year", "d-group", "d-metric")] == ["2566", "กรุงเทพกลาง", "budget"]
    Select(browser.find_element(By.ID, "d-year")).select_by_value("")  # every year: "year=all", not the newest year again
    wait.until(lambda d: "year=all" in d.current_url and loaded(d))
    every = browser.current_url
    browser.get("about:blank")
    browser.get(every)
    wait.until(loaded)
    assert browser.find_element(By.ID, "d-year").get_attribute("value") == ""
    _no_console_errors(browser)


OFFLINE_PATTERNS = ["*cdn*", "*jsdelivr*", "*unpkg*", "*googleapis*", "*gstatic*", "*tiangolo*", "*github*"]


@contextlib.contextmanager
def _offline(driver):
    """The internet blocked, as on an office intranet: requests to the usual CDNs fail in the browser."""
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.setBlockedURLs", {"urls": OFFLINE_PATTERNS})
    try:
        yield
    finally:
        driver.execute_cdp_cmd("Network.setBlockedURLs", {"urls": []})


def _foreign_resources(driver) -> list[str]:
    """Scripts, styles and data the page asked of another origin (none may be needed offline).

    Images are left out: ReDoc's footer asks cdn.redoc.ly for its logo and hides it when that fails.
    """
    return driver.execute_script(
        "return performance.getEntriesByType('resource').filter(e => e.initiatorType !== 'img')"
        ".map(e => e.name).filter(n => !n.startsWith(location.origin))")


def test_api_docs_render_without_internet(server: str, browser) -> None:
    with _offline(browser):
        browser.get(server + "/docs")
        wait = WebDriverWait(browser, WAIT)
        block = wait.until(EC.visibility_of_element_located((By.CSS_SELECTOR, ".opblock")))
        assert block.size["height"] > 0
        assert "ชื่อโครงการ" in json.dumps(browser.execute_script(  # the Thai examples of the OpenAPI document
            "return fetch('/openapi.json').then(r => r.json())"), ensure_ascii=False)
        assert _foreign_resources(browser) == []
        _no_console_errors(browser)
        _screenshot(browser, "docs-offline.png")
        browser.get(server + "/redoc")
        wait.until(EC.visibility_of_element_located((By.CSS_SELECTOR, ".api-content h2")))
        assert "classify" in browser.find_element(By.TAG_NAME, "body").text.lower()
        assert _foreign_resources(browser) == []
        logs = [e["message"] for e in browser.get_log("browser") if e.get("level") == "SEVERE"]
        assert all("cdn.redoc.ly/redoc/logo-mini.svg" in m for m in logs), logs  # only the footer logo, which hides itself
        _screenshot(browser, "redoc-offline.png")


def test_navigation_is_one_row_on_a_phone(server: str, browser) -> None:
    browser.set_window_size(375, 800)
    try:
        browser.get(server + "/review")
        assert browser.execute_script("return window.innerWidth") <= 375
        links = browser.find_elements(By.CSS_SELECTOR, ".nav a")
        assert len(links) == 5 and len({link.location["y"] for link in links}) == 1  # one row
        nav = browser.find_element(By.CSS_SELECTOR, ".nav")
        assert nav.size["height"] < 2 * links[0].size["height"]
        assert browser.execute_script("return document.documentElement.scrollWidth") <= 375  # the page itself does not scroll sideways
        OUTPUT.mkdir(parents=True, exist_ok=True)
        assert browser.save_screenshot(str(OUTPUT / "nav-phone.png"))
        _no_console_errors(browser)
    finally:
        browser.set_window_size(1280, 1000)


NAMES_ONLY = ("รหัสโครงการ,ชื่อโครงการ\nBKN-01,โครงการขุดลอกคลองและลอกท่อระบายน้ำป้องกันน้ำท่วมขัง\n"
              "JTC-02,โครงการอบรมอาสาสมัครป้องกันยาเสพติดในชุมชน\nPTW-03,โครงการปลูกต้นไม้ริมคลองเพื่อเพิ่มพื้นที่สีเขียว\n")


def test_evaluate_checks_columns_when_the_file_is_chosen_and_previews_rows_without_answers(server: str, browser, tmp_path: Path) -> None:
    """A file with only project names: the page says which column it uses instead of the default, and after the
    job (no answer column, so no metrics) its rows are shown with their suggestions."""
    upload = tmp_path / "รายชื่อโครงการ.csv"
    upload.write_text(NAMES_ONLY, encoding="utf-8")
    browser.get(server + "/evaluate")
    wait = WebDriverWait(browser, WAIT)
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, '#level option[value="issue"]'))
    assert browser.find_element(By.ID, "text-col").get_attribute("value") == "ชื่อโครงการ,วัตถุประสงค์"
    browser.find_element(By.ID, "job-file").send_keys(str(upload))
    wait.until(EC.text_to_be_present_in_element((By.ID, "columns-status"), "จึงใช้คอลัมน์"))
    status = browser.find_element(By.ID, "columns-status").text
    assert "รายชื่อโครงการ.csv" in status and "“วัตถุประสงค์”" in status and "“ชื่อโครงการ”" in status, status
    assert browser.find_element(By.ID, "text-col").get_attribute("value") == "ชื่อโครงการ"
    choices = {c.get_attribute("value"): c.is_selected() for c in browser.find_elements(By.CSS_SELECTOR, "#text-col-choices input")}
    assert choices == {"รหัสโครงการ": False, "ชื่อโครงการ": True}
    assert browser.find_element(By.ID, "id-col").get_attribute("value") == "รหัสโครงการ"
    assert len(browser.find_elements(By.CSS_SELECTOR, "#file-preview tbody tr")) == 3
    # a column the file lacks is refused before any upload, in Thai
    browser.find_element(By.ID, "label-col").send_keys("issue_id")
    browser.find_element(By.ID, "job-submit").click()
    wait.until(EC.text_to_be_present_in_element((By.ID, "job-status"), "ไม่มีคอลัมน์ “issue_id”"))
    browser.find_element(By.ID, "label-col").clear()
    _screenshot(browser, "evaluate-columns.png")
    browser.find_element(By.CSS_SELECTOR, '#level option[value="issue"]').click()
    browser.find_element(By.ID, "job-submit").click()
    wait.until(EC.text_to_be_present_in_element((By.ID, "job-status"), "ประมวลผลเสร็จแล้ว"))
    rows = wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#review-table tbody tr[data-index]"))
    assert browser.find_element(By.ID, "review-box").is_displayed() and not browser.find_element(By.ID, "metrics-box").is_displayed()
    assert len(rows) == 3 and all(r.find_element(By.CSS_SELECTOR, "code").text.startswith("D") for r in rows)
    assert "ขุดลอกคลอง" in browser.find_element(By.ID, "review-table").text
    _no_console_errors(browser)
    _screenshot(browser, "evaluate-no-answers.png")
    # a file of a header and no row is said at once, not in green ("มี 0 แถว ใช้คอลัมน์ ..."; a browser walkthrough)
    header_only = tmp_path / "หัวตาราง.csv"
    header_only.write_text("ชื่อโครงการ,วัตถุประสงค์\n", encoding="utf-8")
    browser.find_element(By.ID, "job-file").send_keys(str(header_only))
    wait.until(EC.text_to_be_present_in_element((By.ID, "columns-status"), "มีแต่แถวหัวตาราง"))


def test_evaluate_page_explains_a_binary_file_in_thai(server: str, browser, tmp_path: Path) -> None:
    upload = tmp_path / "สแกนเอกสาร.csv"
    upload.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)
    browser.get(server + "/evaluate")
    wait = WebDriverWait(browser, WAIT)
    browser.find_element(By.ID, "job-file").send_keys(str(upload))
    wait.until(EC.text_to_be_present_in_element((By.ID, "columns-status"), "สแกนเอกสาร.csv"))
    shown = browser.find_element(By.ID, "columns-status").text
    assert "กรุณา" in shown and "/" not in shown.replace("CSV (UTF-8)", "") and "Error" not in shown, shown
    with contextlib.suppress(Exception):
        browser.get_log("browser")  # the 422 of the refused file is expected


def test_search_pages_past_the_relevant_hits_to_the_weaker_ones(server: str, browser) -> None:
    """Paging stopped at the relevant count: with 3 relevant hits the pager was hidden and the weaker
    hits after the first page could not be reached ("ชุมชน": 6 relevant of 124 containing the word)."""
    parks = [{"id": f"PARK-{i:02d}", "fiscal_year": "2571", "org": "สำนักงานเขตบางเขน", "district": "บางเขน",
              "name": ("โครงการปรับปรุงสวนหย่อมในชุมชนแห่งที่ " if i < 3 else "โครงการซ่อมแซมทางเท้าในซอยที่ ") + str(i + 1)}
             for i in range(12)]
    assert _post_json(server + "/v1/projects", {"projects": parks})["rejected"] == []
    _wait_searchable(server)
    browser.get(server + "/review?" + urllib.parse.urlencode({"q": "สวนหย่อม", "year": "2571"}))
    wait = WebDriverWait(browser, WAIT)
    wait.until(EC.text_to_be_present_in_element((By.ID, "search-status"), "พบ 3 โครงการ"))
    assert len(browser.find_elements(By.CSS_SELECTOR, "#results .result")) == 10 and browser.find_element(By.ID, "pager").is_displayed()
    # "พบ 3" beside a page of 10 read as a wrong count (a walkthrough): the status says the weaker ones follow
    assert "ต่อจากนั้นเป็นรายการที่เกี่ยวข้องน้อยลง" in browser.find_element(By.ID, "search-status").text
    ActionChains(browser).double_click(browser.find_element(By.ID, "next-page")).perform()  # one page a click: a double click skipped page 2
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#results .result")) == 2)
    assert browser.find_element(By.ID, "next-page").get_attribute("disabled") is not None
    _no_console_errors(browser)


def test_a_catalog_is_uploaded_from_the_catalog_page_and_its_problems_are_listed_in_thai(server: str, browser, tmp_path: Path) -> None:
    """The page only showed catalogs; adding one took the API."""
    browser.get(server + "/catalog")
    wait = WebDriverWait(browser, WAIT)
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, '#tree details[data-node-id="D1.4"]')))
    bad = tmp_path / "bad.csv"
    bad.write_text("id,parent_id,level,name,description\nP1,,dimension,,\nP1,,dimension,ปลูกไม้,\nP2,Q9,issue,ไม้ผล,\n", encoding="utf-8")
    browser.find_element(By.ID, "upload-file").send_keys(str(bad))
    browser.find_element(By.ID, "upload-id").send_keys("plants")
    browser.find_element(By.ID, "upload-submit").click()
    wait.until(EC.visibility_of_element_located((By.ID, "upload-problems")))
    listed = [li.text for li in browser.find_elements(By.CSS_SELECTOR, "#upload-problems li")]
    assert listed == ["แถวที่ 2: รหัส P1 ไม่มีชื่อ (name)", "แถวที่ 3: รหัส P1 ซ้ำกับแถวที่ 2", "แถวที่ 4: รหัส P2 อ้างถึงหัวข้อแม่ Q9 ซึ่งไม่มีในแคตตาล็อก"]
    # the status counts them instead of saying the first one again above the list (a browser walkthrough)
    assert "พบ 3 จุดที่ต้องแก้" in browser.find_element(By.ID, "upload-status").text
    browser.get_log("browser")  # the refused upload's 422, expected
    good = tmp_path / "plants.csv"
    good.write_text("id,parent_id,level,name,description\nP1,,dimension,ปลูกไม้,\nP2,P1,issue,ไม้ผล,มะม่วง ทุเรียน\n", encoding="utf-8")
    browser.find_element(By.ID, "upload-file").send_keys(str(good))
    assert browser.find_element(By.ID, "upload-id").get_attribute("value") == "plants"  # kept after a refusal: fix the file, send again
    browser.find_element(By.ID, "upload-title").send_keys("แผนปลูกไม้")
    browser.find_element(By.ID, "upload-submit").click()
    wait.until(EC.text_to_be_present_in_element((By.ID, "upload-status"), "เพิ่มแคตตาล็อก แผนปลูกไม้ แล้ว (2 หัวข้อ)"))
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, '#tree details[data-node-id="P2"]')))
    assert browser.find_element(By.ID, "catalog").get_attribute("value") == "plants" and not browser.find_element(By.ID, "upload-problems").is_displayed()
    # a revision says what it changed, node by node (counts alone: a catalog author's walkthrough)
    revised = tmp_path / "plants2.csv"
    revised.write_text("id,parent_id,level,name,description\nP1,,dimension,ปลูกไม้,\nP3,P1,issue,ไม้ดอก,กุหลาบ\n", encoding="utf-8")
    browser.find_element(By.ID, "upload-file").send_keys(str(revised))
    browser.find_element(By.ID, "upload-id").send_keys("plants")
    browser.find_element(By.ID, "upload-submit").click()
    wait.until(EC.text_to_be_present_in_element((By.ID, "upload-status"), "แทนที่แคตตาล็อก"))
    assert "เพิ่ม 1 หัวข้อ (P3) · ลบ 1 หัวข้อ (P2)" in browser.find_element(By.ID, "upload-status").text
    # and removed from the page (DELETE was a 405 and mistaken uploads stayed in every list: the walkthrough)
    wait.until(EC.visibility_of_element_located((By.ID, "remove-catalog"))).click()
    browser.switch_to.alert.accept()
    wait.until(EC.text_to_be_present_in_element((By.ID, "upload-status"), "ลบแคตตาล็อก plants แล้ว"))
    assert "plants" not in [o.get_attribute("value") for o in Select(browser.find_element(By.ID, "catalog")).options]
    assert not browser.find_element(By.ID, "remove-catalog").is_displayed()  # the default catalog shown again: built in
    _no_console_errors(browser)


def test_a_running_job_is_cancelled_from_the_page_and_reads_as_cancelled(server: str, browser, tmp_path: Path) -> None:
    """The page had no way to stop a long job, and a cancelled one read "งานล้มเหลว" / "cancelled by request"."""
    upload = tmp_path / "long.csv"
    upload.write_text("ชื่อโครงการ\n" + "".join(f"โครงการขุดลอกคลองสายที่ {i} เพื่อระบายน้ำในชุมชน\n" for i in range(20_000)), encoding="utf-8")
    browser.get(server + "/evaluate")
    wait = WebDriverWait(browser, WAIT)
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#catalog option"))
    browser.find_element(By.ID, "job-file").send_keys(str(upload))
    wait.until(EC.text_to_be_present_in_element((By.ID, "columns-status"), "ชื่อโครงการ"))
    browser.find_element(By.ID, "job-submit").click()
    cancel = wait.until(EC.element_to_be_clickable((By.ID, "job-cancel")))
    wait.until(lambda d: re.match(r"[1-9][\d,]* / 20,000", d.find_element(By.ID, "progress-text").text))  # a batch or more done
    cancel.click()
    wait.until(EC.text_to_be_present_in_element((By.ID, "job-status"), "ยกเลิกงานแล้ว"))
    assert not browser.find_element(By.ID, "job-cancel").is_displayed() and not browser.find_elements(By.ID, "job-error")
    assert browser.find_element(By.CSS_SELECTOR, "#job-box .badge").text == "ยกเลิกแล้ว"
    # the rows finished before it stopped can be downloaded (stopping a slow job lost them)
    assert "แถวแรกที่ทำเสร็จ" in browser.find_element(By.ID, "job-status").text
    links = browser.find_elements(By.CSS_SELECTOR, "#downloads a")
    assert links and all("แถวแรกที่ทำเสร็จก่อนยกเลิก" in a.text for a in links) and links[0].get_attribute("download") == "long-labelled-partial.csv"
    # the list of recent jobs says how far it got (it read "20,000 แถว": a walkthrough)
    browser.get(browser.current_url.split("#")[0])
    wait.until(EC.element_to_be_clickable((By.CSS_SELECTOR, "#recent-jobs-box summary"))).click()
    assert re.search(r"ทำแล้ว [\d,]+ จาก 20,000 แถว", wait.until(EC.visibility_of_element_located((By.ID, "recent-jobs"))).text)
    _no_console_errors(browser)


def test_the_review_page_shows_the_clusters_past_the_first_50(tmp_path: Path, browser) -> None:
    """It said "แสดง 50 จาก 55 กลุ่ม" with no way to the other 5."""
    with served(tmp_path / "many-clusters") as url:
        projects = [{"id": f"S{i}-{d}", "name": f"โครงการปรับปรุงถนนซอยพหลโยธิน {i}", "district": d}  # a copy in two districts, 55 times
                    for i in range(2, 57) for d in ("บางเขน", "จตุจักร")]
        _post_json(url + "/v1/projects", {"projects": projects})
        _wait_searchable(url)
        browser.get(url + "/review")
        wait = WebDriverWait(browser, WAIT)
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#clusters details.cluster")) == 50)
        more = browser.find_element(By.CSS_SELECTOR, "#clusters-more")
        assert "แสดง 50 จาก 55 กลุ่ม" in more.text
        more.find_element(By.TAG_NAME, "button").click()
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#clusters details.cluster")) == 55)
        assert not browser.find_elements(By.CSS_SELECTOR, "#clusters-more")
        assert browser.find_elements(By.CSS_SELECTOR, "#clusters details.cluster summary strong")[-1].text == "กลุ่มที่ 55"
        _no_console_errors(browser)


def test_the_planner_lists_ten_similar_projects_and_the_rest_on_request(tmp_path: Path, browser) -> None:
    """A draft like a line every district budgets listed 114 similar projects and made the page 14,000 pixels tall."""
    with served(tmp_path / "many-copies") as url:
        districts = ["บางเขน", "จตุจักร", "ดุสิต", "บางรัก", "ลาดพร้าว", "หลักสี่", "ดอนเมือง", "บางซื่อ", "พญาไท", "ราชเทวี", "สาทร", "ปทุมวัน", "คลองเตย"]
        text = "โครงการอบรมอาสาสมัครป้องกันและแก้ไขปัญหายาเสพติดในชุมชน"
        # each district's own wording (13 names), and one name five districts submitted word for word
        named = [{"id": f"Y{i}", "fiscal_year": "2567", "name": f"{text}เขต{d}", "district": d} for i, d in enumerate(districts)]
        same = [{"id": f"Z{i}", "fiscal_year": "2567", "name": text, "district": d} for i, d in enumerate(districts[:5])]
        _post_json(url + "/v1/projects", {"projects": named + same})
        _wait_searchable(url)
        browser.get(url + "/")
        wait = WebDriverWait(browser, WAIT)
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#catalog option"))
        _align_draft(browser, wait, text)
        more = wait.until(EC.visibility_of_element_located((By.ID, "duplicates-more")))
        assert len(browser.find_elements(By.CSS_SELECTOR, "#duplicates li.duplicate")) == 10
        entries = len(districts) + 1  # the five identical ones are one entry naming the other four
        assert f"แสดง 10 จาก {entries} ชื่อ ({len(districts) + 5} รายการ" in more.text
        copies = next(li for li in browser.find_elements(By.CSS_SELECTOR, "#duplicates li.duplicate") if li.get_attribute("data-id").startswith("Z"))
        assert "ชื่อเดียวกันอีก 4 รายการ" in copies.text
        more.find_element(By.TAG_NAME, "button").click()
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#duplicates li.duplicate")) == entries)
        assert not browser.find_elements(By.ID, "duplicates-more")
        _no_console_errors(browser)


def test_the_search_page_shows_one_hit_for_a_line_every_district_budgets(tmp_path: Path, browser) -> None:
    """Identical texts are one hit naming how many others there are, and the count says the rows behind it
    ("ขยะ" listed 50 copies of one line before the Environment Department's own lines; a walkthrough)."""
    with served(tmp_path / "copies") as url:
        line = "งานเก็บขยะมูลฝอยและขนถ่ายสิ่งปฏิกูล"
        districts = ["บางเขน", "จตุจักร", "ดุสิต", "บางรัก", "ลาดพร้าว"]
        _post_json(url + "/v1/projects", {"projects": [{"id": f"W{i}", "fiscal_year": "2567", "name": line, "district": d}
                                                       for i, d in enumerate(districts)]
                                          + [{"id": "E1", "fiscal_year": "2567", "org": "สำนักสิ่งแวดล้อม", "name": "ผลผลิตจัดการขยะมูลฝอย"}]})
        _wait_searchable(url)
        browser.get(url + "/review?q=" + urllib.parse.quote("ขยะ"))
        wait = WebDriverWait(browser, WAIT)
        badge = wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "#results .badge-copies")))
        assert badge.text == "ข้อความเดียวกันอีก 4 รายการ (5 หน่วยงาน, ปีงบประมาณ 2567)"
        assert len(browser.find_elements(By.CSS_SELECTOR, "#results .result")) == 2
        wait.until(EC.text_to_be_present_in_element((By.ID, "search-status"), "(6 รายการ นับข้อความเดียวกันทุกหน่วยงาน)"))
        _no_console_errors(browser)


def test_the_picker_takes_the_suggested_node_when_the_words_match_it_only_by_description(tmp_path: Path, browser) -> None:
    """"ห้องสมุด" is in no node's name; D6.3 came first in the tree by its description, and Enter recorded it
    while the suggestion was D8.1 (public spaces, libraries included; a walkthrough)."""
    with served(tmp_path / "picker") as url:
        browser.get(url + "/")
        wait = WebDriverWait(browser, WAIT)
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#catalog option"))
        assert _align_draft(browser, wait, "โครงการปรับปรุงห้องสมุดประชาชนและบ้านหนังสือในชุมชน") == "D8.1"
        browser.find_element(By.CSS_SELECTOR, '.pick-other[data-level="issue"]').click()
        dialog = wait.until(EC.visibility_of_element_located((By.CSS_SELECTOR, "dialog.picker")))
        dialog.find_element(By.CSS_SELECTOR, ".picker-filter").send_keys("ห้องสมุด")
        matching = [li.get_attribute("data-node-id") for li in dialog.find_elements(By.CSS_SELECTOR, "li.choosable")]
        assert matching.index("D6.3") < matching.index("D8.1")  # the tree's order: the suggestion is not first
        assert dialog.find_element(By.CSS_SELECTOR, "li.choosable.active").get_attribute("data-node-id") == "D8.1"
        dialog.find_element(By.CSS_SELECTOR, ".picker-filter").send_keys(Keys.ESCAPE)
        # a node picked from the tree is marked where the eye is (it was above or below the screen: a browser walkthrough)
        if browser.find_elements(By.CSS_SELECTOR, "dialog.picker"):  # Esc from a script's key press may not close it: the cancel button does
            browser.find_element(By.CSS_SELECTOR, "dialog.picker .actions button").click()
        wait.until(lambda d: not d.find_elements(By.CSS_SELECTOR, "dialog.picker"))
        browser.execute_script("window.scrollTo(0, document.body.scrollHeight)")
        browser.execute_script("arguments[0].click()", browser.find_element(By.CSS_SELECTOR, '.pick-other[data-level="issue"]'))
        dialog = wait.until(EC.visibility_of_element_located((By.CSS_SELECTOR, "dialog.picker")))
        dialog.find_element(By.CSS_SELECTOR, ".picker-filter").send_keys("ห้องสมุด")
        dialog.find_element(By.CSS_SELECTOR, 'li.choosable[data-node-id="D6.3"]').click()
        marked = '#suggestions .picked[data-node-id="D6.3"], #suggestions .suggestion.chosen[data-node-id="D6.3"]'
        mark = wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, marked))[0]
        wait.until(lambda d: d.execute_script("var r = arguments[0].getBoundingClientRect(); return r.top >= -1 && r.bottom <= window.innerHeight + 1;", mark))
        _no_console_errors(browser)


def test_the_evaluation_page_runs_a_job_zero_shot_and_says_which_model_labelled_each(tmp_path: Path, browser) -> None:
    """The page could not ask for zero-shot (the API's learn=false), and a job never said which model labelled its file,
    as the command line and the planner page do (an entry-point audit)."""
    import httpx

    with served(tmp_path / "zero-shot") as url:
        httpx.post(f"{url}/v1/decisions", json={"text": "ลอกท่อระบายน้ำซอยวัดไผ่ตัน", "node_id": "D1.4", "level": "issue"}, timeout=WAIT)
        deadline = time.monotonic() + WAIT  # the background refit (2 s after the decision)
        while [m["version"] for m in httpx.get(f"{url}/v1/decisions/stats", timeout=WAIT).json()["models"]] != [1]:
            assert time.monotonic() < deadline, "no model fitted"
            time.sleep(0.3)
        upload = tmp_path / "drafts.csv"
        upload.write_text("ชื่อโครงการ\nโครงการลอกท่อระบายน้ำซอยวัดไผ่ตัน\nโครงการปลูกต้นไม้ริมคลองแสนแสบ\n", encoding="utf-8")
        browser.get("about:blank")
        browser.get(url + "/evaluate")
        wait = _submit_job(browser, upload, "ชื่อโครงการ", zero_shot=True)
        wait.until(EC.text_to_be_present_in_element((By.ID, "job-status"), "ประมวลผลเสร็จแล้ว"))
        assert browser.find_element(By.ID, "job-model").text == "ไม่ใช้การเรียนรู้ (ใช้แผนอย่างเดียว)"
        job_id = urllib.parse.unquote(browser.current_url.split("#job=")[1])
        assert httpx.get(f"{url}/v1/classify/jobs/{job_id}", timeout=WAIT).json()["params"]["learn"] is False
        learned = httpx.post(f"{url}/v1/classify/jobs", files={"file": ("drafts.csv", upload.read_bytes())}, data={"text_col": "ชื่อโครงการ"},
                             timeout=WAIT).json()
        browser.get("about:blank")
        browser.get(f"{url}/evaluate#job={learned['id']}")
        wait.until(EC.text_to_be_present_in_element((By.ID, "job-status"), "ประมวลผลเสร็จแล้ว"))
        assert browser.find_element(By.ID, "job-model").text == "รุ่นที่ 1 เรียนรู้จากการตัดสินใจ 1 รายการ"
        _no_console_errors(browser)
