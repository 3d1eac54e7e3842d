// What the staff pages share: device-check results and waits in words (staff pages are
// English, docs/i18n.md), the provider-status form, lobby replies.
import { byId, element, show, text } from "./util.js";

export function deviceCheckText(result) {
  if (!result) {
    return { ok: false, words: "No device check yet" };
  }
  const problems = [];
  if (result.browser && !result.browser.supported) {
    problems.push("browser cannot make calls");
  }
  for (const kind of ["camera", "microphone"]) {
    if (result[kind] && result[kind] !== "ok") {
      problems.push(`${kind} ${result[kind]}`);
    }
  }
  if (result.network && !result.network.reachable) {
    problems.push("network unreachable");
  }
  const network = result.network || {};
  const details = [];
  if (typeof network.roundTripMs === "number") {
    details.push(`${network.roundTripMs} ms`);
  }
  if (typeof network.downlinkKbps === "number") {
    details.push(`${(network.downlinkKbps / 1000).toFixed(1)} Mbit/s`);
  }
  const tail = details.length ? ` (${details.join(", ")})` : "";
  if (problems.length) {
    return { ok: false, words: `Device check: ${problems.join(", ")}${tail}` };
  }
  return { ok: true, words: `Device check passed${tail}` };
}

export function waitedText(seconds) {
  if (typeof seconds !== "number") {
    return "";
  }
  if (seconds < 60) {
    return `waiting ${Math.max(0, Math.round(seconds))} s`;
  }
  return `waiting ${Math.round(seconds / 60)} min`;
}

export function connectionStatus(state, seconds) {
  const line = byId("connection-status");
  line.dataset.state = state;
  if (state === "connected") {
    text(line, "");
  } else if (state === "reconnecting") {
    text(line, `Connection lost. Reconnecting in ${seconds} s…`);
  } else if (state === "busy") {
    text(line, "The server is busy. Trying again shortly…");
  } else {
    text(line, "Connecting…");
  }
}

// The "what the waiting room shows" form: sends providerStatus.
export function wireStatusForm(socket) {
  const form = byId("status-form");
  const state = byId("status-state");
  const late = byId("status-late-field");
  const sync = () => show(late, state.value === "late");
  state.addEventListener("change", sync);
  sync();
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const minutes = Number.parseInt(byId("status-late").value, 10);
    const message = byId("status-message").value.trim();
    const sent = socket.send({
      type: "providerStatus",
      state: state.value,
      lateMinutes: state.value === "late" && minutes > 0 ? minutes : null,
      message: message || null,
    });
    text(byId("status-saved"), sent ? "Sent to the waiting room." : "Not connected: try again.");
  });
}

export function setProviderStatus(provider) {
  if (!provider) {
    return;
  }
  byId("status-state").value = provider.state === "late" || provider.state === "away" ? provider.state : "ready";
  if (provider.lateMinutes) {
    byId("status-late").value = String(provider.lateMinutes);
  }
  byId("status-message").value = provider.message || "";
  show(byId("status-late-field"), byId("status-state").value === "late");
}

let formCount = 0;

// A reply form inside a cloned <template>: give its label and input an id pair.
export function wireReply(form, send) {
  formCount += 1;
  const input = form.querySelector("input");
  input.id = `reply-${formCount}`;
  form.querySelector("label").htmlFor = input.id;
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const value = input.value.trim();
    if (value) {
      send(value);
      input.value = "";
    }
  });
}

export function threadItem(message) {
  const item = element("li", message.role === "provider" ? "mine" : "theirs");
  item.append(element("span", "who", message.displayName || ""), element("span", "body", message.text));
  return item;
}
