// The on-page badge of a tab: the ready view (lib/describe.js badgeView) the content
// script draws, as the badge settings allow. The toolbar badge is lib/tab-state.js's.

import { badgeView } from "../lib/describe.js";
import "../lib/messages.js";
import { getSettings, siteOf } from "../lib/settings.js";
import { getTabState } from "../lib/tab-state.js";

const { MSG, sendToTab } = globalThis.oahelper.messages;

// The on-page badge for a state, unless the user turned badges off (everywhere or on
// this site).
export async function viewFor(state, settings = undefined) {
  if (!state) return null;
  const { badgeEnabled, sitesOff } = settings ?? await getSettings();
  if (!badgeEnabled || sitesOff.includes(siteOf(state.url))) return null;
  return badgeView(state);
}

export async function showOnPage(tabId, state) {
  try {
    await sendToTab(tabId, MSG.SHOW, { view: await viewFor(state) });
  } catch {
    // No content script in that tab (a browser page, a PDF): the toolbar says it all.
  }
}

// The badge settings changed: show or hide the on-page badge in open tabs at once.
export async function redrawPageBadges() {
  for (const tab of await chrome.tabs.query({})) {
    const state = await getTabState(tab.id);
    if (state?.kind === "result") await showOnPage(tab.id, state);
  }
}
