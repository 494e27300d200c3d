// Every message the service worker answers, who may send it, and the module that does
// the work: the whole protocol in the `handlers` table (names: lib/messages.js).

import { checkTab, lookUpPage, lookUpQuery, markTab, tabReport } from "./lookups.js";
import { helperStatus, pair, unpair } from "./pairing.js";
import { checkReferences } from "./references.js";
import { plainError } from "../lib/helper-client.js";
import "../lib/messages.js";

const { MSG, BATCH_PORT } = globalThis.oahelper.messages;

// Who may send each message. A content script runs inside a web page, so it may only
// speak of its own tab (the browser's sender.tab.id, never an id it names) and only in
// the page's top frame; everything else comes from the extension's own pages (the
// popup and the options page, also when they are opened as a tab).
const FROM_CONTENT = "content script";
const FROM_EXTENSION = "extension page";

function senderKind(sender) {
  if (sender.id !== chrome.runtime.id) return null;
  if (sender.url?.startsWith(chrome.runtime.getURL(""))) return FROM_EXTENSION;
  if (sender.tab?.id !== undefined && sender.frameId === 0) return FROM_CONTENT;
  return null;
}

// The content script says what its page is, with no lookup.
const mark = (kind) => async (msg, sender) => {
  await markTab(sender.tab.id, kind, msg.url);
  return {};
};

const handlers = {
  // Content script, on its own: an article page (with its HTML) or not an article.
  [MSG.PAGE]: [FROM_CONTENT, (msg, sender) => lookUpPage(sender.tab.id, msg)],
  [MSG.NOT_ARTICLE]: [FROM_CONTENT, mark("not_article")],
  // The page changed its article more often than it may be checked on its own.
  [MSG.HELD]: [FROM_CONTENT, mark("held")],
  // Popup.
  [MSG.TAB_REPORT]: [FROM_EXTENSION, (msg) => tabReport(msg.tabId)],
  [MSG.CHECK]: [FROM_EXTENSION, async (msg) => {
    await checkTab(msg.tabId);
    return tabReport(msg.tabId);
  }],
  [MSG.LOOKUP_QUERY]: [FROM_EXTENSION, (msg) => lookUpQuery(msg.query)],
  // Options page.
  [MSG.PAIR]: [FROM_EXTENSION, (msg) => pair(msg.code)],
  [MSG.UNPAIR]: [FROM_EXTENSION, () => unpair()],
  [MSG.HELPER_STATUS]: [FROM_EXTENSION, () => helperStatus()],
};

export function onMessage(msg, sender, sendResponse) {
  // Only our own pages and content scripts can reach this listener (no
  // externally_connectable), but a content script lives in a web page's process.
  const entry = Object.hasOwn(handlers, msg?.type) ? handlers[msg.type] : null;
  if (!entry) return false;
  const [allowed, handler] = entry;
  if (senderKind(sender) !== allowed) {
    sendResponse({ error: { kind: "refused", message: `'${msg.type}' is accepted from the ${allowed} only.`, detail: {} } });
    return false;
  }
  Promise.resolve(handler(msg, sender)).then(sendResponse, (err) => sendResponse({ error: plainError(err) }));
  return true; // answer asynchronously
}

export function onConnect(port) {
  if (port.name !== BATCH_PORT) return;
  // It names any tab, so it is for the extension's own pages only (see senderKind).
  if (senderKind(port.sender ?? {}) !== FROM_EXTENSION) {
    port.disconnect();
    return;
  }
  checkReferences(port);
}
