// The content script's flow. On an article page (detect.js says so) it hands the
// URL and HTML (page.js says which) to the service worker and draws the badge it gets
// back. On any other page it does nothing more: it does not even touch the extension's
// messaging, whose first use costs a page 5-20 ms in Firefox. The toolbar button
// reaches it when the user asks (the service worker calls oahelper.collect() through
// chrome.scripting). It never talks to the helper itself.
//
// Single-page sites swap articles without a reload, so the page is checked again
// whenever its URL or its scholarly metadata changes — but a page may change its meta
// tags as often as it likes, and each lookup costs an upstream call made with the
// user's e-mail (and a daily quota). So the page checks itself on its own at most
// AUTO_CHECKS times a minute; beyond that only a navigation the user made (a click or
// key press in the page just before the URL changed), a new page load, or the toolbar
// button checks it again.

(() => {
  const oahelper = globalThis.oahelper;
  if (!oahelper || oahelper.started) return;
  oahelper.started = true;
  const { MSG } = oahelper.messages;

  // Single-page sites often change the URL first and the meta tags a moment later.
  const SETTLE_MS = 400;
  // Checks this page makes on its own, per minute (the service worker has its own cap).
  const AUTO_CHECKS = 4;
  const AUTO_WINDOW_MS = 60_000;

  let lastKey = null;
  let timer = null;
  let userAsked = false;   // the pending re-check follows the user's own action
  const autoChecks = [];   // when the automatic checks ran (ms), newest last

  // Room for one more automatic check now? (Counts it when there is.)
  function withinBudget() {
    const now = performance.now();
    while (autoChecks.length && autoChecks[0] <= now - AUTO_WINDOW_MS) autoChecks.shift();
    if (autoChecks.length >= AUTO_CHECKS) return false;
    autoChecks.push(now);
    return true;
  }

  // The service worker's messages ("show" a badge) are listened to from the first
  // time this page talks to it.
  let listening = false;
  function listen() {
    if (listening) return;
    listening = true;
    chrome.runtime.onMessage.addListener((message, sender, sendResponse) => {
      if (sender.id !== chrome.runtime.id) return false;
      if (message?.type === MSG.SHOW) {
        oahelper.badge.show(message.view);
        sendResponse({});
      }
      return false;
    });
  }

  async function send(type, fields) {
    listen();
    try {
      return await oahelper.messages.send(type, fields);
    } catch {
      // The extension was updated or removed under this page: stay quiet.
      return null;
    }
  }

  async function check() {
    const byUser = userAsked;
    userAsked = false;
    const url = location.href;
    const signature = oahelper.scholarlySignature(document);
    const key = `${url}\n${signature}`;
    if (key === lastKey) return;
    if (signature && !byUser && !withinBudget()) {
      // Too many changes: not looked up until the user navigates or clicks.
      lastKey = key;
      oahelper.badge.remove();
      await send(MSG.HELD, { url });
      return;
    }
    lastKey = key;
    oahelper.badge.remove();
    oahelper.decided = { url, article: Boolean(signature) };
    if (!signature) {
      // Said only on a page that talked to the service worker before (a single-page
      // site that left its article): its toolbar must forget that article.
      if (listening) await send(MSG.NOT_ARTICLE, { url });
      return;
    }
    const answer = await send(MSG.PAGE, { url, html: oahelper.pageHtml() });
    // Another article came along while this one was being looked up.
    if (lastKey !== key) return;
    oahelper.badge.show(answer?.view ?? null);
  }

  function soon() {
    clearTimeout(timer);
    timer = setTimeout(check, SETTLE_MS);
  }

  // A new URL. It is the user's navigation when they clicked or pressed a key in the
  // page moments ago (the browser's transient user activation, which a page's own
  // script cannot fake), or used the browser's back and forward buttons.
  function navigated(userInitiated = false) {
    if (userInitiated || navigator.userActivation?.isActive) userAsked = true;
    soon();
  }

  // The user clicked the toolbar button: the service worker takes this page, whatever
  // it is, whole (chrome.scripting runs this in the content scripts' world).
  oahelper.collect = () => {
    listen();
    lastKey = `${location.href}\n${oahelper.scholarlySignature(document)}`;
    return { url: location.href, html: oahelper.pageHtml(true) };
  };

  // History navigation: back/forward, and pushState where the Navigation API exists
  // (Chrome, Firefox ESR 153); without it (older Firefox) a look at the URL once a second.
  addEventListener("popstate", () => navigated());
  if (globalThis.navigation?.addEventListener) {
    let byUser = false;
    globalThis.navigation.addEventListener("navigate", (event) => { byUser = event.userInitiated; });
    globalThis.navigation.addEventListener("navigatesuccess", () => navigated(byUser));
  } else {
    let seen = location.href;
    setInterval(() => {
      if (location.href !== seen) {
        seen = location.href;
        navigated();
      }
    }, 1000);
  }
  // Meta tags added or changed after load (sites that render their head with script).
  new MutationObserver(soon).observe(document.head ?? document.documentElement, {
    childList: true, subtree: true, attributes: true, attributeFilter: ["content"],
  });

  check();
})();
