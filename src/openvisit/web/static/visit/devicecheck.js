// The device check: camera preview and pickers, microphone level (Web Audio
// AnalyserNode), a speaker test tone, and a network check (ICE gathering against the
// configured STUN/TURN, timed round trips, a short download). The result, in the shape
// of docs/realtime-protocol.md "Device-check result", is POSTed to /join/{token}/check.
import { browserInfo, byId, config, element, show, t, text } from "./util.js";

const PASSED_KEY = "openvisit.deviceCheck.";
const DEVICES_KEY = "openvisit.devices";
const ICE_TIMEOUT_MS = 5000;
const PINGS = 5;
const DOWNLOAD_KB = 256;
const DOWNLOAD_TIMEOUT_MS = 8000;
const SLOW_KBPS = 1000;

export function support() {
  const media = navigator.mediaDevices && navigator.mediaDevices.getUserMedia;
  if (!window.isSecureContext) {
    return { supported: false, why: "insecure" };
  }
  if (typeof RTCPeerConnection !== "function" || !media) {
    return { supported: false, why: "unsupported" };
  }
  return { supported: true, why: null };
}

export function passedBefore(meetingId) {
  try {
    return localStorage.getItem(PASSED_KEY + meetingId) === "passed";
  } catch (error) {
    return false;
  }
}

function rememberPassed(meetingId, passed) {
  try {
    if (passed) {
      localStorage.setItem(PASSED_KEY + meetingId, "passed");
    } else {
      localStorage.removeItem(PASSED_KEY + meetingId);
    }
  } catch (error) {
    // Private mode: the check is simply offered again next time.
  }
}

export function savedDevices() {
  try {
    return JSON.parse(localStorage.getItem(DEVICES_KEY) || "{}");
  } catch (error) {
    return {};
  }
}

export function saveDevices(devices) {
  try {
    localStorage.setItem(DEVICES_KEY, JSON.stringify({ ...savedDevices(), ...devices }));
  } catch (error) {
    // Not kept: the defaults are used next time.
  }
}

export function mediaState(error) {
  if (!error) {
    return "ok";
  }
  if (error.name === "NotAllowedError" || error.name === "SecurityError") {
    return "blocked";
  }
  if (error.name === "NotFoundError" || error.name === "OverconstrainedError") {
    return "missing";
  }
  return "error";
}

function constraint(deviceId) {
  return deviceId ? { deviceId: { exact: deviceId } } : {};
}

// Camera and microphone, each tried alone when both together fail, so the page can say
// which one is blocked or missing. Returns {stream, camera, microphone}.
export async function openMedia(devices = savedDevices()) {
  const video = { width: { ideal: 640 }, height: { ideal: 480 }, ...constraint(devices.camera) };
  const audio = { echoCancellation: true, noiseSuppression: true, ...constraint(devices.microphone) };
  try {
    const stream = await navigator.mediaDevices.getUserMedia({ audio, video });
    return { stream, camera: "ok", microphone: "ok" };
  } catch (both) {
    if (both.name === "OverconstrainedError" && (devices.camera || devices.microphone)) {
      return openMedia({}); // a saved device is gone: the defaults
    }
    if (mediaState(both) === "blocked") {
      return { stream: null, camera: "blocked", microphone: "blocked", error: both };
    }
    const stream = new MediaStream();
    const results = {};
    for (const [kind, wanted] of [["microphone", { audio }], ["camera", { video }]]) {
      try {
        const one = await navigator.mediaDevices.getUserMedia(wanted);
        one.getTracks().forEach((track) => stream.addTrack(track));
        results[kind] = "ok";
      } catch (error) {
        results[kind] = mediaState(error);
      }
    }
    return { stream: stream.getTracks().length ? stream : null, ...results };
  }
}

export function explainBlocked(container) {
  const family = browserInfo().family;
  container.replaceChildren(
    element("h3", null, t("blockedTitle")),
    element("p", null, t("blockedIntro")),
    element("p", "fix", t(`blocked.${family}`)),
    element("p", "hint", t("blockedSystem")),
  );
  const reload = element("button", "secondary", t("reload"));
  reload.type = "button";
  reload.addEventListener("click", () => location.reload());
  container.append(reload);
  show(container, true);
}

export function explainUnsupported(container, why) {
  container.replaceChildren(
    element("h3", null, t("unsupportedTitle")),
    element("p", null, t(why === "insecure" ? "insecure" : "unsupported")),
  );
  show(container, true);
}

export class DeviceCheck {
  // onContinue(stream): the join page's next stage (absent on the standalone check page).
  constructor({ onContinue } = {}) {
    this.cfg = config();
    this.onContinue = onContinue;
    this.stream = null;
    this.audioContext = null;
    this.meterFrame = 0;
    this.speaker = "untested";
    this.result = null;
    this.devices = savedDevices();
    this.preview = byId("check-preview");
    this.problem = byId("check-problem");
    this.tone = new Audio("/static/visit/tone.wav");
    this.tone.preload = "auto";
  }

  mount() {
    show(byId("stage-check"), true);
    const found = support();
    if (!found.supported) {
      explainUnsupported(this.problem, found.why);
      show(byId("check-start"), false);
      this.setState("browser", "error", t("error"));
      this.submit(this.build({ supported: false }, "error", "error", { reachable: false, relay: false }));
      return;
    }
    this.setState("browser", "ok", browserInfo().name);
    byId("check-start").addEventListener("click", () => this.run());
    byId("check-again").addEventListener("click", () => this.run());
    const next = byId("check-continue");
    if (next) {
      next.addEventListener("click", () => this.finish());
    }
    byId("play-tone").addEventListener("click", () => this.playTone());
    byId("tone-yes").addEventListener("click", () => this.heard(true));
    byId("tone-no").addEventListener("click", () => this.heard(false));
    for (const kind of ["camera", "microphone"]) {
      byId(`pick-${kind}`).addEventListener("change", (event) => {
        this.devices[kind] = event.target.value;
        saveDevices({ [kind]: event.target.value });
        this.openDevices();
      });
    }
    const speakers = byId("pick-speaker");
    if (typeof HTMLMediaElement.prototype.setSinkId !== "function") {
      show(speakers, false);
      byId("speaker-label").hidden = true;
    }
    speakers.addEventListener("change", (event) => {
      this.devices.speaker = event.target.value;
      saveDevices({ speaker: event.target.value });
      this.tone.setSinkId(event.target.value).catch(() => {});
    });
  }

  async run() {
    show(byId("check-start"), false);
    show(byId("check-again"), false);
    show(byId("check-continue"), false);
    show(this.problem, false);
    text(byId("check-summary"), t("checking"));
    if (this.speaker !== "ok") {
      this.setState("speaker", "untested", t("untested"));
    }
    const media = await this.openDevices();
    const network = await this.checkNetwork();
    const result = this.build({ supported: true }, media.camera, media.microphone, network);
    this.result = result;
    const passed = result.camera === "ok" && result.microphone === "ok" && network.reachable;
    rememberPassed(this.cfg.meetingId, passed);
    text(byId("check-summary"), passed ? t("allGood") : t("someFailed"));
    show(byId("check-again"), true);
    const next = byId("check-continue");
    if (next) {
      next.textContent = passed ? t("continue") : t("continueAnyway");
      show(next, true);
    }
    await this.submit(result);
  }

  async openDevices() {
    this.stopStream();
    for (const kind of ["camera", "microphone"]) {
      this.setState(kind, "", t("checking"));
    }
    const media = await openMedia(this.devices);
    this.stream = media.stream;
    this.preview.srcObject = this.stream;
    // Nothing to preview or pick while the browser refuses both: only the fix is shown.
    show(byId("check-grid"), Boolean(this.stream));
    for (const kind of ["camera", "microphone"]) {
      this.setState(kind, media[kind], this.deviceText(kind, media[kind]));
    }
    if (media.camera === "blocked" || media.microphone === "blocked") {
      explainBlocked(this.problem);
    }
    await this.listDevices();
    this.startMeter();
    byId("play-tone").disabled = false;
    return media;
  }

  deviceText(kind, state) {
    if (state === "missing") {
      return t(`${kind}Missing`);
    }
    if (state === "error") {
      return t("deviceError");
    }
    return t(state);
  }

  async listDevices() {
    let devices = [];
    try {
      devices = await navigator.mediaDevices.enumerateDevices();
    } catch (error) {
      devices = [];
    }
    const kinds = { camera: "videoinput", microphone: "audioinput", speaker: "audiooutput" };
    const active = {};
    for (const track of this.stream ? this.stream.getTracks() : []) {
      active[track.kind === "video" ? "camera" : "microphone"] = track.getSettings().deviceId;
    }
    for (const [name, kind] of Object.entries(kinds)) {
      const select = byId(`pick-${name}`);
      fillSelect(select, devices.filter((device) => device.kind === kind), active[name] || this.devices[name]);
    }
  }

  startMeter() {
    cancelAnimationFrame(this.meterFrame);
    const track = this.stream && this.stream.getAudioTracks()[0];
    const meter = byId("mic-level");
    if (!track) {
      meter.value = 0;
      return;
    }
    if (!this.audioContext) {
      this.audioContext = new AudioContext();
    }
    this.audioContext.resume().catch(() => {});
    const source = this.audioContext.createMediaStreamSource(new MediaStream([track]));
    const analyser = this.audioContext.createAnalyser();
    analyser.fftSize = 1024;
    source.connect(analyser);
    const samples = new Float32Array(analyser.fftSize);
    const draw = () => {
      analyser.getFloatTimeDomainData(samples);
      let sum = 0;
      for (const sample of samples) {
        sum += sample * sample;
      }
      meter.value = Math.min(1, Math.sqrt(sum / samples.length) * 4);
      this.meterFrame = requestAnimationFrame(draw);
    };
    draw();
  }

  async playTone() {
    const sink = byId("pick-speaker").value;
    if (sink && typeof this.tone.setSinkId === "function") {
      await this.tone.setSinkId(sink).catch(() => {});
    }
    this.tone.currentTime = 0;
    try {
      await this.tone.play();
    } catch (error) {
      // Nothing could play: the question still lets the person say so.
    }
    show(byId("tone-question"), true);
  }

  heard(yes) {
    this.speaker = yes ? "ok" : "untested";
    this.setState("speaker", this.speaker, yes ? t("ok") : t("toneHint"));
    show(byId("tone-question"), false);
    if (this.result) {
      this.result.speaker = this.speaker;
      this.submit(this.result);
    }
  }

  async checkNetwork() {
    this.setState("network", "", t("netChecking"));
    const [ice, roundTripMs] = await Promise.all([gatherCandidates(this.cfg.rtcConfiguration), timeRoundTrips(this.cfg.pingUrl)]);
    const downlinkKbps = await measureDownload(this.cfg.downloadUrl);
    const reachable = ice.reachable && roundTripMs !== null;
    const network = { reachable, relay: ice.relay, roundTripMs, downlinkKbps };
    const words = reachable ? t(ice.relay && !ice.direct ? "netRelay" : "netGood") : t("netFailed");
    this.setState("network", reachable ? "ok" : "error", words);
    const details = [];
    if (roundTripMs !== null) {
      details.push(t("roundTrip", { ms: roundTripMs }));
    }
    if (downlinkKbps !== null) {
      details.push(t("downlink", { mbps: (downlinkKbps / 1000).toFixed(1) }));
      if (downlinkKbps < SLOW_KBPS) {
        details.push(t("slow"));
      }
    }
    text(byId("check-network-detail"), details.join(" · "));
    return network;
  }

  build(browser, camera, microphone, network) {
    return {
      browser: { supported: browser.supported, name: browserInfo().name },
      camera,
      microphone,
      speaker: this.speaker,
      network,
      checkedAt: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    };
  }

  async submit(result) {
    let stored = false;
    try {
      const answer = await fetch(this.cfg.checkUrl, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(result),
        cache: "no-store",
      });
      stored = answer.ok;
    } catch (error) {
      stored = false;
    }
    document.body.dataset.deviceCheck = stored ? "saved" : "failed";
    text(byId("check-saved"), stored ? t("saved") : t("notSaved"));
  }

  setState(item, state, words) {
    const row = document.querySelector(`#check-results [data-item="${item}"]`);
    if (!row) {
      return;
    }
    row.dataset.state = state;
    row.querySelector(".state").textContent = words;
  }

  finish() {
    cancelAnimationFrame(this.meterFrame);
    this.tone.pause();
    show(byId("stage-check"), false);
    if (this.onContinue) {
      this.onContinue(this.stream);
    }
  }

  stopStream() {
    if (this.stream) {
      this.stream.getTracks().forEach((track) => track.stop());
      this.stream = null;
    }
  }
}

export function fillSelect(select, devices, current) {
  select.replaceChildren();
  devices.forEach((device, index) => {
    const option = element("option", null, device.label || `${t("defaultDevice")} ${index + 1}`);
    option.value = device.deviceId;
    option.selected = device.deviceId === current;
    select.append(option);
  });
  select.disabled = devices.length === 0;
}

// ICE gathering against the configured servers: were they reached, and is there a relay?
async function gatherCandidates(rtcConfiguration) {
  const servers = (rtcConfiguration && rtcConfiguration.iceServers) || [];
  const found = { host: false, srflx: false, relay: false };
  let pc;
  try {
    pc = new RTCPeerConnection({ iceServers: servers });
  } catch (error) {
    return { reachable: false, relay: false, direct: false };
  }
  pc.createDataChannel("probe");
  const done = new Promise((resolve) => {
    const timer = setTimeout(resolve, ICE_TIMEOUT_MS);
    pc.onicecandidate = (event) => {
      if (!event.candidate) {
        clearTimeout(timer);
        resolve();
        return;
      }
      const type = event.candidate.type || (event.candidate.candidate.match(/ typ (\w+)/) || [])[1];
      if (type in found) {
        found[type] = true;
      }
    };
  });
  try {
    await pc.setLocalDescription(await pc.createOffer());
    await done;
  } finally {
    pc.close();
  }
  // Without STUN/TURN configured, a host candidate is all there can be (a same-network or
  // loopback call); with them, one of them must have answered.
  const reachable = servers.length ? found.srflx || found.relay : found.host || found.srflx;
  return { reachable, relay: found.relay, direct: found.host || found.srflx };
}

async function timeRoundTrips(url) {
  const times = [];
  for (let index = 0; index <= PINGS; index += 1) {
    const started = performance.now();
    try {
      const answer = await fetch(`${url}?n=${Date.now()}-${index}`, { cache: "no-store" });
      if (!answer.ok) {
        return null;
      }
    } catch (error) {
      return null;
    }
    if (index > 0) {
      times.push(performance.now() - started); // the first one also opened the connection
    }
  }
  times.sort((a, b) => a - b);
  return Math.max(0, Math.round(times[Math.floor(times.length / 2)]));
}

async function measureDownload(url) {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), DOWNLOAD_TIMEOUT_MS);
  try {
    const started = performance.now();
    const answer = await fetch(`${url}?kb=${DOWNLOAD_KB}&n=${Date.now()}`, { cache: "no-store", signal: abort.signal });
    const bytes = (await answer.arrayBuffer()).byteLength;
    const seconds = Math.max(0.001, (performance.now() - started) / 1000);
    return answer.ok ? Math.round((bytes * 8) / 1000 / seconds) : null;
  } catch (error) {
    return null;
  } finally {
    clearTimeout(timer);
  }
}
