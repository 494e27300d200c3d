// The content script's flow. On an article page (detect.js says so) it hands the
// URL and HTML to the service worker and draws the badge it gets back; on any other
// page it only tells the service worker "not an article", with no page data, so the
// toolbar can say so. It never talks to the helper itself.
//
// Single-page sites swap articles without a reload, so the page is checked again
// whenever its URL or its scholarly metadata changes.

(() => {
  const oahelper = globalThis.oahelper;
  if (!oahelper || oahelper.started) return;
  oahelper.started = true;

  // The helper reads bodies up to 8 MiB; a page bigger than this sends its <head>
  // only, which holds the citation metadata.
  const MAX_HTML_CHARS = 2_500_000;
  // Single-page sites often change the URL first and the meta tags a moment later.
  const SETTLE_MS = 400;

  let lastKey = null;
  let timer = null;

  function pageHtml() {
    const html = document.documentElement.outerHTML;
    if (html.length <= MAX_HTML_CHARS) return html;
    return `<html>${document.head?.outerHTML ?? ""}</html>`;
  }

  async function send(message) {
    try {
      return await chrome.runtime.sendMessage(message);
    } catch {
      // The extension was updated or removed under this page: stay quiet.
      return null;
    }
  }

  async function check() {
    const url = location.href;
    const signature = oahelper.scholarlySignature(document);
    const key = `${url}\n${signature}`;
    if (key === lastKey) return;
    lastKey = key;
    oahelper.badge.remove();
    if (!signature) {
      await send({ type: "not-article", url });
      return;
    }
    const answer = await send({ type: "page", url, html: pageHtml() });
    // Another article came along while this one was being looked up.
    if (lastKey !== key) return;
    oahelper.badge.show(answer?.view ?? null);
  }

  function soon() {
    clearTimeout(timer);
    timer = setTimeout(check, SETTLE_MS);
  }

  chrome.runtime.onMessage.addListener((message, sender, sendResponse) => {
    if (sender.id !== chrome.runtime.id) return false;
    if (message?.type === "collect") {
      // The user clicked the toolbar button: send this page whatever it is.
      lastKey = `${location.href}\n${oahelper.scholarlySignature(document)}`;
      sendResponse({ url: location.href, html: pageHtml() });
    } else if (message?.type === "show") {
      oahelper.badge.show(message.view);
      sendResponse({});
    }
    return false;
  });

  // History navigation: back/forward, and pushState where the Navigation API exists
  // (Chrome); without it (older Firefox) a cheap look at the URL once a second.
  addEventListener("popstate", soon);
  if (globalThis.navigation?.addEventListener) {
    globalThis.navigation.addEventListener("navigatesuccess", soon);
  } else {
    let seen = location.href;
    setInterval(() => {
      if (location.href !== seen) {
        seen = location.href;
        soon();
      }
    }, 1000);
  }
  // Meta tags added or changed after load (sites that render their head with script).
  new MutationObserver(soon).observe(document.head ?? document.documentElement, {
    childList: true, subtree: true, attributes: true, attributeFilter: ["content"],
  });

  check();
})();
