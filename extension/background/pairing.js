// The options page's business with the helper: pairing this browser (the token goes
// to chrome.storage.local, lib/settings.js), forgetting the pairing, and the helper's
// health and status.

import { callHelper, checkHealth, forgetHealth, HelperError, plainError } from "../lib/helper-client.js";
import { getSettings, setSettings } from "../lib/settings.js";

const PLATFORMS = { linux: "Linux", mac: "macOS", win: "Windows", cros: "ChromeOS", android: "Android", openbsd: "OpenBSD" };

// How `oahelper clients list` will name this browser: "Chromium 156 on Linux".
async function clientName() {
  let browser = "Browser";
  if (chrome.runtime.getBrowserInfo) {
    const info = await chrome.runtime.getBrowserInfo();
    browser = `${info.name} ${info.version.split(".")[0]}`;
  } else {
    const brands = navigator.userAgentData?.brands ?? [];
    const known = ["Google Chrome", "Microsoft Edge", "Brave", "Opera", "Vivaldi", "Chromium"];
    const brand = known.map((k) => brands.find((b) => b.brand === k)).find(Boolean)
      ?? brands.find((b) => !/not.a.brand/i.test(b.brand));
    if (brand) browser = `${brand.brand} ${brand.version}`;
  }
  const { os } = await chrome.runtime.getPlatformInfo();
  return `${browser} on ${PLATFORMS[os] ?? os}`;
}

// What people type: "abcd efgh", "ABCDEFGH", " ABCD-EFGH ".
function normaliseCode(raw) {
  const code = String(raw ?? "").toUpperCase().replace(/[\s_]+/g, "");
  return /^[A-Z0-9]{8}$/.test(code) ? `${code.slice(0, 4)}-${code.slice(4)}` : code;
}

export async function pair(rawCode) {
  const code = normaliseCode(rawCode);
  if (!code) {
    return { ok: false, error: { kind: "input", message: "Type the code that `oahelper pair` printed." } };
  }
  try {
    const client = await clientName();
    const answer = await callHelper("/v1/pair", { method: "POST", auth: false, body: { code, client } });
    if (typeof answer.token !== "string" || !answer.token) {
      throw new HelperError("failed", "The helper's answer had no token.");
    }
    await setSettings({ token: answer.token, client: answer.client ?? client });
    return { ok: true, client: answer.client ?? client };
  } catch (err) {
    const error = plainError(err);
    if (error.detail?.code === "pair_code_invalid" || (error.kind === "not_paired" && error.detail?.status === 401)) {
      error.kind = "pair_code_invalid";
      error.message = "That code is not valid: it is mistyped, expired (codes last 2 minutes) or already used. Run `oahelper pair` again for a new one.";
    }
    return { ok: false, error };
  }
}

export async function unpair() {
  await setSettings({ token: null, client: null });
  return { ok: true };
}

export async function helperStatus() {
  const { port, token, client } = await getSettings();
  forgetHealth();
  const out = { port, paired: Boolean(token), client, health: null, status: null, error: null };
  try {
    out.health = await checkHealth(port);
    out.status = await callHelper("/v1/status");
  } catch (err) {
    out.error = plainError(err);
  }
  return out;
}
