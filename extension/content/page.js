// What of the page goes to the helper (docs/scraping.md, "What the extension sends").
//
// The helper reads citation metadata, JSON-LD, COinS and the visible text; of a
// page's <script> elements it reads JSON-LD only (its body-text rules drop the others
// first). The others — code, and data such as a framework's state — are often most of
// a page (a 1.2 MB frontiersin.org page: 540 KB of application/json state and 120 KB
// of code), and every byte costs time in the browser twice: messaging it to the
// service worker and uploading it. So an article page checked on its own is sent with
// the text of its <script> elements left out, JSON-LD excepted (the elements and their
// attributes stay, for the rules that look at them).
//
// Sent whole: pages on the sites whose rule in the helper reads a page's own script
// or state (SITE_HOSTS mirrors helper/oahelper/scrape/sites.py; a test keeps the two
// in step), and any page the user asks about from the toolbar.

(() => {
  const oahelper = (globalThis.oahelper ??= {});

  // The helper reads bodies up to 8 MiB; a page bigger than this sends its <head>
  // only, which holds the citation metadata.
  const MAX_HTML_CHARS = 2_500_000;
  const SITE_HOSTS = ["sciencedirect.com", "ieeexplore.ieee.org", "pubmed.ncbi.nlm.nih.gov"];
  // A <script> and its text, as outerHTML writes it (its text cannot hold "</script").
  const SCRIPT = /<script\b([^>]*)>([\s\S]*?)<\/script>/gi;
  // The scraper's own test for a JSON-LD script (helper/oahelper/scrape/document.py).
  const JSON_LD = /ld\+json/i;

  // As the helper decides it: by the host of the page's address or canonical link.
  function onSiteWithRule() {
    const canonical = document.querySelector('link[rel~="canonical" i]')?.href;
    return [location.href, canonical].some((url) => {
      let host;
      try {
        host = new URL(url).hostname.toLowerCase();
      } catch {
        return false;
      }
      return SITE_HOSTS.some((h) => host === h || host.endsWith(`.${h}`));
    });
  }

  // The page's HTML for the helper; `whole` keeps every script's text.
  oahelper.pageHtml = (whole = false) => {
    let html = document.documentElement.outerHTML;
    if (!whole && !onSiteWithRule()) {
      html = html.replace(SCRIPT, (all, attributes, text) =>
        text && !JSON_LD.test(attributes) ? `<script${attributes}></script>` : all);
    }
    if (html.length <= MAX_HTML_CHARS) return html;
    return `<html>${document.head?.outerHTML ?? ""}</html>`;
  };
})();
