#!/usr/bin/python3
# report-browser.py -- render a report page in headless Chromium and write
# down what the browser drew, for tests/e2e/report-browser.sh to judge.
#
#   report-browser.py PAGE OUTDIR
#
# Runs Debian's Chromium through Debian's ChromeDriver (python3-selenium),
# with no network (every host name fails to resolve) and writes into
# OUTDIR:
#   text.txt     the page's rendered text (innerText)
#   svg.tsv      per inline SVG: its drawn size and how many rect, path and
#                text elements of it were drawn (a box larger than zero)
#   svg-text.txt the text of every drawn SVG text element, one a line
#   glyphs.tsv   per element whose own text the browser drew: the text, the
#                fonts Chromium says it drew it with (DevTools'
#                CSS.getPlatformFontsForNode) and the characters none of
#                those fonts has a glyph for (fontconfig's charset of each
#                font) -- those are drawn as empty boxes ("tofu")
#   facts        lang=, resources= (what the page fetched), width=, height=
#   page.png     a screenshot of the whole page
# The fonts come from fontconfig, so FONTCONFIG_FILE in the environment
# chooses them (the test's negative control).  Exits non-zero, with the
# reason on stderr, when the browser cannot be driven.
import os
import subprocess
import sys

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

CHROMIUM = os.environ.get("ATSM_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("ATSM_CHROMEDRIVER", "/usr/bin/chromedriver")

# what the page's script-free DOM drew: per SVG and per SVG text element
SVG_JS = """
const drawn = e => { const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
const svgs = [...document.querySelectorAll('svg')].map(s => {
  const r = s.getBoundingClientRect();
  const n = sel => [...s.querySelectorAll(sel)].filter(drawn).length;
  return [Math.round(r.width), Math.round(r.height), n('rect'), n('path'), n('text')];
});
const texts = [...document.querySelectorAll('svg text')].filter(drawn)
  .map(t => t.textContent.replace(/\\s+/g, ' ').trim()).filter(t => t.length);
return [svgs, texts, document.documentElement.lang,
        performance.getEntriesByType('resource').length,
        document.documentElement.scrollWidth, document.documentElement.scrollHeight];
"""


def charset(psname, cache={}):
    """The code points of the font fontconfig knows by this PostScript
    name, as a list of (low, high) ranges; None when it knows none."""
    if psname not in cache:
        out = subprocess.run(["fc-list", "-f", "%{charset}\n", ":postscriptname=" + psname],
                             capture_output=True, text=True, check=True).stdout.split("\n")[0]
        ranges = []
        for part in out.split():
            lo, _, hi = part.partition("-")
            ranges.append((int(lo, 16), int(hi or lo, 16)))
        cache[psname] = ranges or None
    return cache[psname]


def has_glyph(ranges, ch):
    c = ord(ch)
    return any(lo <= c <= hi for lo, hi in ranges)


def own_text(node):
    """The text of an element's own text children (what
    getPlatformFontsForNode reports on)."""
    return "".join(c.get("nodeValue", "") for c in node.get("children", []) if c["nodeType"] == 3)


def elements(node):
    if node["nodeType"] == 1:
        yield node
    for c in node.get("children", []):
        yield from elements(c)


def main():
    page, outdir = sys.argv[1], sys.argv[2]
    o = webdriver.ChromeOptions()
    # as root (the test bed) Chromium's sandbox cannot start; the page is
    # our own and has no script
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              "--window-size=1000,900", "--host-resolver-rules=MAP * ~NOTFOUND",
              "--lang=ja"):
        o.add_argument(a)
    o.binary_location = CHROMIUM
    d = webdriver.Chrome(service=Service(CHROMEDRIVER), options=o)
    try:
        d.get("file://" + os.path.abspath(page))
        svgs, texts, lang, resources, width, height = d.execute_script(SVG_JS)
        with open(os.path.join(outdir, "text.txt"), "w", encoding="utf-8") as f:
            f.write(d.execute_script("return document.body.innerText"))
        with open(os.path.join(outdir, "svg.tsv"), "w") as f:
            for s in svgs:
                f.write("\t".join(map(str, s)) + "\n")
        with open(os.path.join(outdir, "svg-text.txt"), "w", encoding="utf-8") as f:
            f.write("".join(t + "\n" for t in texts))
        with open(os.path.join(outdir, "facts"), "w") as f:
            f.write(f"lang={lang}\nresources={resources}\nwidth={width}\nheight={height}\n")

        d.execute_cdp_cmd("DOM.enable", {})
        d.execute_cdp_cmd("CSS.enable", {})
        root = d.execute_cdp_cmd("DOM.getDocument", {"depth": -1})["root"]
        with open(os.path.join(outdir, "glyphs.tsv"), "w", encoding="utf-8") as f:
            for e in elements(root):
                text = " ".join(own_text(e).split())
                if not text or e["nodeName"] in ("STYLE", "TITLE", "SCRIPT", "title", "desc"):
                    continue
                fonts = d.execute_cdp_cmd("CSS.getPlatformFontsForNode",
                                          {"nodeId": e["nodeId"]})["fonts"]
                if not fonts:  # not drawn (in <defs>, say)
                    continue
                ranges = []
                for font in fonts:
                    ranges += charset(font["postScriptName"]) or []
                missing = "".join(sorted({ch for ch in text if not ch.isspace() and not has_glyph(ranges, ch)}))
                names = ",".join(font["familyName"] for font in fonts)
                f.write(f"{text}\t{names}\t{missing}\n")

        # the whole page, not only the window
        d.set_window_size(max(width, 1000), height + 200)
        d.save_screenshot(os.path.join(outdir, "page.png"))
    finally:
        d.quit()


if __name__ == "__main__":
    main()
