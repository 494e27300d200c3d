// The messages the parts of the extension send the service worker (and the one it
// sends a content script), in one place: their names, and how each part sends them.
// background/router.js answers them; docs/extension.md lists what each one carries.
//
// A classic script, not a module, because content scripts cannot import modules: the
// manifest loads it before the content scripts, and the service worker and the
// extension's pages import it for what it leaves in globalThis.oahelper.messages.
// Loading it touches no chrome.* API: a page that is no article must not start the
// extension's messaging at all (its first use costs a page 5-20 ms in Firefox).

(() => {
  const oahelper = (globalThis.oahelper ??= {});

  const MSG = Object.freeze({
    // Content script -> service worker, always about the sender's own tab.
    PAGE: "page",
    NOT_ARTICLE: "not-article",
    HELD: "held",
    // Popup -> service worker.
    TAB_REPORT: "tab-report",
    CHECK: "check",
    LOOKUP_QUERY: "lookup-query",
    // Options page -> service worker.
    PAIR: "pair",
    UNPAIR: "unpair",
    HELPER_STATUS: "helper-status",
    // References page -> service worker, over the port named BATCH_PORT.
    CHECK_REFERENCES: "check-references",
    // Service worker -> content script: draw this badge.
    SHOW: "show",
  });

  // The references page keeps a port open: the answers arrive one by one.
  const BATCH_PORT = "batch";

  // The service worker's answer, as it is.
  function send(type, fields = {}) {
    return chrome.runtime.sendMessage({ type, ...fields });
  }

  // For messages whose answer never carries an `error` of its own: the router's
  // refusal or a handler's failure ({error}) becomes an exception.
  async function ask(type, fields = {}) {
    const answer = await send(type, fields);
    if (answer?.error) throw new Error(answer.error.message);
    return answer;
  }

  // Service worker -> the content script of a tab's top frame.
  function sendToTab(tabId, type, fields = {}) {
    return chrome.tabs.sendMessage(tabId, { type, ...fields }, { frameId: 0 });
  }

  function connectBatch() {
    return chrome.runtime.connect({ name: BATCH_PORT });
  }

  oahelper.messages = Object.freeze({ MSG, BATCH_PORT, send, ask, sendToTab, connectBatch });
})();
