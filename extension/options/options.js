// The options page: the helper's port, pairing, the badge switches, and the
// helper's own status in words. Settings go straight to chrome.storage.local; the
// helper is reached only through the service worker (by message).

import { errorHelp } from "../lib/describe.js";
import { $, el } from "../lib/dom.js";
import "../lib/messages.js";
import { getSettings, isPort, setSettings, setSiteOff, siteOf } from "../lib/settings.js";

const { MSG, send } = globalThis.oahelper.messages;

function setPairStatus(text, tone) {
  const status = $("pair-status");
  status.textContent = text;
  status.className = tone ?? "";
  status.dataset.state = tone === "ok" ? "paired" : tone === "bad" ? "error" : "unpaired";
}

function showPairing(settings) {
  if (settings.token) {
    setPairStatus(`Paired: the helper knows this browser as “${settings.client ?? "this browser"}”.`, "ok");
  } else {
    setPairStatus("Not paired yet.");
  }
  $("unpair").hidden = !settings.token;
}

function showSites(sitesOff) {
  const list = $("sites-off");
  list.replaceChildren(...sitesOff.map((site) => {
    const button = el("button", { type: "button", "aria-label": `Turn oahelper back on for ${site}` }, "Turn back on");
    button.addEventListener("click", () => setSiteOff(site, false));
    return el("li", {}, site, button);
  }));
  $("sites-empty").hidden = sitesOff.length > 0;
}

// One source's line: "unpaywall: on, configured" or what is wrong with it.
function sourceLine(name, source) {
  const words = [];
  if (source.retired) words.push("retired (the service was shut down)");
  else words.push(source.enabled ? "on" : "off");
  if (source.enabled && !source.retired) words.push(source.configured ? "configured" : "not configured");
  const li = el("li", {}, `${name}: ${words.join(", ")}`);
  for (const problem of source.problems ?? []) {
    li.append(el("span", { class: "bad" }, ` — ${problem.message ?? problem}`));
  }
  if (source.last_error) li.append(el("span", { class: "muted" }, ` — last error: ${source.last_error.message ?? source.last_error}`));
  return li;
}

// The figures of /v1/status as sentences; fields this version does not know are
// listed as they come.
function figures(status) {
  const lines = [];
  const { cache, quota, keyring } = status;
  if (cache) {
    lines.push(`Cache: ${cache.entries} saved answers (${cache.fresh} still fresh), ` +
      `${Math.round((cache.bytes ?? 0) / 1024)} kB in ${cache.path}; ` +
      `${cache.hits} hits and ${cache.misses} misses since the helper started.`);
  }
  for (const [name, q] of Object.entries(quota ?? {})) {
    lines.push(`${name} calls today: ${q.calls_today} of ${q.limit} allowed.`);
  }
  if (keyring) {
    lines.push(keyring.available
      ? `Keyring: ${keyring.backend} (works; API keys are kept there).`
      : `Keyring: none works (${keyring.backend}); API keys cannot be stored.`);
  }
  const snapshot = status.snapshot;
  if (snapshot?.error) {
    lines.push(`Unpaywall snapshot: ${snapshot.error}`);
  } else if (snapshot?.present) {
    const share = snapshot.records ? ` (${Math.round((100 * snapshot.free) / snapshot.records)}% free)` : "";
    lines.push(`Unpaywall snapshot: ${snapshot.records} DOIs${share}, newest record ` +
      `${snapshot.newest_record ?? "none"}, ${Math.round((snapshot.disk_bytes ?? 0) / 1048576)} MB in ${snapshot.path}.`);
  } else if (snapshot) {
    lines.push("Unpaywall snapshot: none imported (optional: oahelper snapshot import FILE).");
  }
  const known = new Set(["service", "version", "api", "port", "sources", "problems", "cache", "quota", "keyring", "snapshot"]);
  for (const [key, value] of Object.entries(status)) {
    if (!known.has(key)) lines.push(`${key.replaceAll("_", " ")}: ${JSON.stringify(value)}`);
  }
  return lines;
}

function showHelperStatus(result) {
  const box = $("helper-status");
  box.replaceChildren();
  if (result.error) {
    const help = errorHelp(result.error, result.port);
    $("helper-state").textContent = help.title;
    $("helper-state").className = "bad";
    $("helper-state").dataset.state = result.error.kind;
    box.append(el("p", {}, help.body));
    if (help.command) box.append(el("p", {}, "Command: ", el("code", {}, help.command)));
    if (result.health) {
      $("helper-state").textContent = `The helper (version ${result.health.version}) is running on port ${result.port}. ${help.title}`;
    }
    return;
  }
  const { health, status } = result;
  $("helper-state").textContent = `The helper (version ${health.version}, API ${health.api}) is running on port ${result.port}.`;
  $("helper-state").className = "ok";
  $("helper-state").dataset.state = "running";

  const problems = status.problems ?? [];
  box.append(el("h3", {}, problems.length ? "Problems to fix" : "No problems reported."));
  if (problems.length) {
    box.append(el("ul", { id: "status-problems" },
      ...problems.map((problem) => el("li", { class: "bad" }, problem.message ?? String(problem)))));
  }
  const sources = Object.entries(status.sources ?? {}).map(([name, source]) => sourceLine(name, source));
  box.append(el("h3", {}, "Sources"), el("ul", { id: "status-sources" }, ...sources));
  const lines = figures(status);
  if (lines.length) {
    box.append(el("h3", {}, "Figures"), el("ul", { id: "status-figures" }, ...lines.map((line) => el("li", {}, line))));
  }
}

let asked = 0;

async function refreshStatus() {
  const mine = ++asked;
  $("helper-state").textContent = "Asking the helper…";
  $("helper-state").className = "";
  delete $("helper-state").dataset.state;
  const result = await send(MSG.HELPER_STATUS);
  // A newer question (the port changed meanwhile) has the answer that counts.
  if (mine === asked) showHelperStatus(result);
}

async function load() {
  const settings = await getSettings();
  $("port").value = settings.port;
  $("badge-enabled").checked = settings.badgeEnabled;
  showPairing(settings);
  showSites(settings.sitesOff);
  await refreshStatus();
}

$("port").addEventListener("change", async () => {
  const value = $("port").value.trim();
  if (!isPort(value)) {
    $("port-error").textContent = "A port is a whole number from 1 to 65535.";
    $("port-error").hidden = false;
    $("port").setAttribute("aria-invalid", "true");
    return;
  }
  $("port-error").hidden = true;
  $("port").removeAttribute("aria-invalid");
  await setSettings({ port: Number(value) });
  await refreshStatus();
});

$("pair-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const button = $("pair-submit");
  button.disabled = true;
  setPairStatus("Pairing…");
  try {
    const answer = await send(MSG.PAIR, { code: $("pair-code").value });
    if (answer.ok) {
      $("pair-code").value = "";
      showPairing(await getSettings());
      await refreshStatus();
    } else {
      const error = answer.error;
      const known = ["pair_code_invalid", "input", "rate_limited"].includes(error.kind);
      setPairStatus(known ? error.message : `${errorHelp(error).title} ${error.message}`, "bad");
    }
  } finally {
    button.disabled = false;
  }
});

$("unpair").addEventListener("click", async () => {
  await send(MSG.UNPAIR);
  showPairing(await getSettings());
  await refreshStatus();
});

$("badge-enabled").addEventListener("change", (event) => setSettings({ badgeEnabled: event.target.checked }));

$("site-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const raw = $("site-add").value.trim();
  const site = siteOf(/^https?:\/\//.test(raw) ? raw : `https://${raw}`);
  if (site) {
    await setSiteOff(site, true);
    $("site-add").value = "";
  }
});

$("refresh-status").addEventListener("click", refreshStatus);

// Another page (the popup) may change the list while this one is open.
chrome.storage.onChanged.addListener((changes, area) => {
  if (area !== "local") return;
  if (changes.sitesOff) showSites(changes.sitesOff.newValue ?? []);
  if (changes.badgeEnabled) $("badge-enabled").checked = changes.badgeEnabled.newValue;
});

load();
