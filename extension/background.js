// The service worker (Chrome) / background script (Firefox): the only part of the
// extension that talks to the helper, through callHelper() in lib/helper-client.js.
// This file hands the browser's events to the modules in background/, all of them
// here and in the script's first run: the browser wakes a stopped worker for an event,
// and delivers it only to listeners added by then.
//
//   router.js         messages from content scripts and extension pages: the protocol
//   lookups.js        a tab's lookups and what the popup is told about a tab
//   follow-ups.js     asking again while a tab's answer is pending
//   page-badge.js     the on-page badge, as the badge settings allow
//   content-limit.js  the cap on lookups a content script may ask for
//   pairing.js        pairing and the helper's status (options page)
//   references.js     a tab's references through /v1/batch (references page)

import { stopFollowUp } from "./background/follow-ups.js";
import { forgetTab } from "./background/lookups.js";
import { redrawPageBadges } from "./background/page-badge.js";
import { onConnect, onMessage } from "./background/router.js";
import { forgetHealth } from "./lib/helper-client.js";
import { clearTabState } from "./lib/tab-state.js";

chrome.runtime.onMessage.addListener(onMessage);
chrome.runtime.onConnect.addListener(onConnect);

chrome.tabs.onUpdated.addListener((tabId, change) => {
  // A new document (or a new URL in the same one): the old answer no longer applies.
  if (change.status === "loading" || change.url) {
    stopFollowUp(tabId);
    clearTabState(tabId);
  }
});

chrome.tabs.onRemoved.addListener(forgetTab);

chrome.storage.onChanged.addListener((changes, area) => {
  if (area !== "local") return;
  if (changes.port || changes.token) forgetHealth();
  if (changes.badgeEnabled || changes.sitesOff) redrawPageBadges();
});
