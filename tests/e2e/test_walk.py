"""As a new user would: with each demo role, every page reached from the navigation (and
the main form and detail pages one click further), at phone width, in Vietnamese and in
English. A Vietnamese page must show no English interface text; no page may scroll
sideways. Findings are listed page by page, with the string."""
from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from babel.messages.pofile import read_po

from cdt.config import ROOT
from cdt.demo import DEMO_ACCOUNTS

pytestmark = pytest.mark.e2e

# Pages one click beyond the navigation: forms, and the first detail page of each list.
EXTRA = ["/members/new", "/members/import", "/teams/new", "/training/new", "/account/password", "/admin/users/new"]
DETAIL = re.compile(r"^/(teams|members|training|admin/users)/\d+$")
# Words that give away English interface text in an all-ASCII string.
ENGLISH_WORDS = set("""
the and of to for with from this that these those is are was were be no not yes add edit delete remove save cancel
new search back next previous page pages team teams member members village villages commune communes district
districts province provinces training session sessions report reports download upload import export log out
name date status all none or filter show hide open close choose select required optional invalid error errors
please password username user users role roles topic topics coverage held planned attendance invite invited
people person phone gender birth leader deputy youth union trained total totals sign sheet calendar file files
""".split())
VISIBLE_TEXT = """
() => {
  const out = [];
  // Skip text in another language on purpose (the language switch) and names that are not
  // interface text (translate="no": usernames, codes).
  const skip = (el) => {
    const l = el.closest('[lang]');
    return (l && l.getAttribute('lang') !== document.documentElement.lang) ||
           el.closest('[translate=no],code,kbd,samp') !== null;
  };
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode, el = node.parentElement;
    if (!el || el.closest('script,style,noscript') || skip(el)) continue;
    const t = node.textContent.replace(/\\s+/g, ' ').trim();
    if (t) out.push(t);
  }
  for (const el of document.querySelectorAll('[placeholder],[aria-label],[title],[alt],input[type=submit][value],input[type=button][value]')) {
    if (skip(el)) continue;
    for (const a of ['placeholder', 'aria-label', 'title', 'alt']) if (el.getAttribute(a)) out.push(el.getAttribute(a).trim());
    if (el.matches('input[type=submit],input[type=button]')) out.push(el.value.trim());
  }
  out.push(document.title);
  return out;
}
"""


def _english_msgids() -> set[str]:
    with open(ROOT / "translations" / "vi" / "LC_MESSAGES" / "messages.po", "rb") as fh:
        catalogue = read_po(fh, locale="vi")
    ids = set()
    for m in catalogue:
        for msgid in (m.id if isinstance(m.id, tuple) else (m.id,)):
            if msgid and "%" not in msgid and re.search(r"[A-Za-z]{3}", msgid):
                strings = m.string if isinstance(m.string, tuple) else (m.string,)
                if msgid not in strings:
                    ids.add(msgid)
    return ids


ENGLISH_MSGIDS = _english_msgids()


USERNAMES = {username for username, *_ in DEMO_ACCOUNTS}  # data, not interface text


def english_in(texts: list[str]) -> list[str]:
    found = []
    for text in dict.fromkeys(texts):
        if text in USERNAMES:
            continue
        if text in ENGLISH_MSGIDS:
            found.append(text)
            continue
        if text.isascii():
            words = {w.lower() for w in re.findall(r"[A-Za-z]+", text)}
            if words & ENGLISH_WORDS and len(words) >= 1 and not re.fullmatch(r"[\w.@-]+", text):
                found.append(text)
            elif text.lower() in ENGLISH_WORDS:
                found.append(text)
    return found


def test_english_detector():
    assert english_in(["Đăng nhập", "Save", "Members", "Tổ CNS", "02866-001", "commune", "VNeID", "1.562", "Teams"]) == [
        "Save", "Members", "Teams"]  # "commune" is a username here
    assert english_in(["No team yet", "Thôn 3"]) == ["No team yet"]


def _pages(browse) -> list[str]:
    page = browse.page
    links = page.locator("#nav-main a.nav-link").evaluate_all("els => els.map(e => e.getAttribute('href'))")
    return [h for h in dict.fromkeys(links) if h and h.startswith("/")]


@pytest.mark.parametrize("viewport", ["phone"], indirect=True)
@pytest.mark.parametrize("language", ["vi", "en"])
@pytest.mark.parametrize("username", [u for u, *_ in DEMO_ACCOUNTS])
def test_walk_every_page(browse, username, language):
    browse.login(username)
    if language == "en":
        browse.switch_language("English")
    page = browse.page
    queue = _pages(browse)
    assert queue, "no navigation"
    queue += EXTRA
    seen, findings, overflow, errors = set(), [], [], []
    details_followed = set()
    while queue:
        path = queue.pop(0)
        if path in seen:
            continue
        seen.add(path)
        response = page.goto(path)
        if response is None or response.status in (403, 404, 405):
            continue  # an extra page this role may not open
        if not response.ok:
            errors.append(f"{path}: HTTP {response.status}")
            continue
        if page.locator("html").get_attribute("lang") != language:
            errors.append(f"{path}: not in {language}")
        width = browse.scroll_overflow()
        if width > 0:
            overflow.append(f"{path}: {width}px")
            browse.check(re.sub(r"\W+", "_", path).strip("_") or "home")
        if language == "vi":
            findings += [f"{path}: {text!r}" for text in english_in(page.evaluate(VISIBLE_TEXT))]
        # One detail page per kind, one click further.
        for href in page.locator("main a[href]").evaluate_all("els => els.map(e => e.getAttribute('href'))"):
            target = urlsplit(href).path
            kind = DETAIL.match(target)
            if kind and kind.group(1) not in details_followed:
                details_followed.add(kind.group(1))
                queue.append(target)
    print(f"{username} [{language}] walked {len(seen)} pages: {sorted(seen)}")
    problems = errors + [f"English on a Vietnamese page: {f}" for f in findings] + [f"sideways scrolling: {o}" for o in overflow]
    assert not problems, f"{username} [{language}] at {browse.viewport['width']}px:\n" + "\n".join(problems)
