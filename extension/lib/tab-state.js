// What oahelper knows about each tab, and the toolbar badge that shows it.
//
// The state lives in chrome.storage.session (not in a variable) because the browser
// stops an idle service worker at any time; the popup must still find the answer
// for its tab when it opens a minute later.

import { COLORS, toolbarView } from "./describe.js";

// The one place that names a tab's storage key (tests/e2e/harness.py reads it too).
const key = (tabId) => `tab:${tabId}`;

export async function getTabState(tabId) {
  const found = await chrome.storage.session.get(key(tabId));
  return found[key(tabId)] ?? null;
}

export async function setTabState(tabId, state) {
  const stamped = { ...state, at: Date.now() };
  await chrome.storage.session.set({ [key(tabId)]: stamped });
  await showOnToolbar(tabId, stamped);
  return stamped;
}

export async function clearTabState(tabId) {
  await chrome.storage.session.remove(key(tabId));
  await showOnToolbar(tabId, null);
}

// A closed tab: its state goes, and it has no toolbar badge left to clear.
export async function forgetTabState(tabId) {
  await chrome.storage.session.remove(key(tabId));
}

// onChange() whenever any part of the extension changes the tab's state.
export function watchTabState(tabId, onChange) {
  chrome.storage.onChanged.addListener((changes, area) => {
    if (area === "session" && changes[key(tabId)]) onChange();
  });
}

async function showOnToolbar(tabId, state) {
  const view = toolbarView(state);
  const { bg, fg } = COLORS[view.color];
  try {
    await chrome.action.setBadgeText({ tabId, text: view.text });
    await chrome.action.setBadgeBackgroundColor({ tabId, color: bg });
    if (chrome.action.setBadgeTextColor) await chrome.action.setBadgeTextColor({ tabId, color: fg });
    const title = view.title || chrome.runtime.getManifest().action.default_title;
    await chrome.action.setTitle({ tabId, title });
  } catch {
    // The tab was closed while we were busy: nothing to show it on.
  }
}
