// The extension's settings, kept in chrome.storage.local so every part of the
// extension (service worker, popup, options page) sees the same values.
// The e2e tests read and set these keys directly (tests/e2e/harness.py), so their
// names are part of that contract.

export const DEFAULT_PORT = 28757;

export const DEFAULTS = Object.freeze({
  port: DEFAULT_PORT,      // the helper's port on 127.0.0.1
  token: null,             // bearer token from pairing; only the service worker sends it
  client: null,            // the name the helper knows this browser by
  badgeEnabled: true,      // show the on-page badge on article pages
  sitesOff: [],            // hosts where oahelper checks nothing on its own
});

export async function getSettings() {
  const stored = await chrome.storage.local.get(Object.keys(DEFAULTS));
  const settings = { ...DEFAULTS };
  for (const [name, value] of Object.entries(stored)) {
    // A removed value (null) means the default again, except for the token.
    if (value !== null && value !== undefined) settings[name] = value;
  }
  return settings;
}

export async function setSettings(values) {
  await chrome.storage.local.set(values);
}

// A site is its host name without a leading "www.", so that turning oahelper off on
// www.example.org also covers example.org.
export function siteOf(url) {
  try {
    const { protocol, hostname } = new URL(url);
    if (protocol !== "http:" && protocol !== "https:") return null;
    return hostname.replace(/^www\./, "");
  } catch {
    return null;
  }
}

export function isPort(value) {
  const n = Number(value);
  return Number.isInteger(n) && n >= 1 && n <= 65535;
}

export async function setSiteOff(site, off) {
  const { sitesOff } = await getSettings();
  const rest = sitesOff.filter((s) => s !== site);
  await setSettings({ sitesOff: off ? [...rest, site].sort() : rest });
}
