// Small helpers every visit script shares: the page's config block, texts, DOM bits.
// The config is JSON the server renders into <script type="application/json"
// id="visit-config"> (data, not script, so the page's policy allows it).

let loaded = null;

export function config() {
  if (loaded === null) {
    const node = document.getElementById("visit-config");
    loaded = node ? JSON.parse(node.textContent) : { texts: {} };
  }
  return loaded;
}

// The text `key` in the page's language, `{name}` filled from `values`.
export function t(key, values = {}) {
  const text = config().texts[key];
  const template = text === undefined ? key : text;
  return template.replace(/\{(\w+)\}/g, (whole, name) =>
    Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : whole,
  );
}

// A counted text: `key.one` or `key.other`, as the language's plural rules pick.
export function plural(key, count) {
  let form = "other";
  try {
    form = new Intl.PluralRules(config().language).select(count);
  } catch (error) {
    form = count === 1 ? "one" : "other";
  }
  const chosen = config().texts[`${key}.${form}`] !== undefined ? form : "other";
  return t(`${key}.${chosen}`, { n: count });
}

export function byId(id) {
  return document.getElementById(id);
}

export function show(node, visible) {
  if (node) {
    node.hidden = !visible;
  }
}

export function text(node, value) {
  if (node) {
    node.textContent = value;
  }
}

export function element(tag, className, content) {
  const node = document.createElement(tag);
  if (className) {
    node.className = className;
  }
  if (content !== undefined) {
    node.textContent = content;
  }
  return node;
}

// A unique enough id for client message ids and frame ids.
export function randomId(prefix) {
  const bytes = new Uint8Array(9);
  crypto.getRandomValues(bytes);
  return prefix + Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

export function clockTime(iso, timeZone, language) {
  try {
    return new Intl.DateTimeFormat(language || config().language, {
      hour: "numeric",
      minute: "2-digit",
      timeZone: timeZone || undefined,
    }).format(new Date(iso));
  } catch (error) {
    return iso;
  }
}

export function minutesText(seconds) {
  if (seconds === null || seconds === undefined) {
    return "";
  }
  if (seconds < 60) {
    return t("underMinute");
  }
  return plural("waitMinutes", Math.round(seconds / 60));
}

// A short tone through the Web Audio API: the board's arrival sound.
export function beep() {
  try {
    const context = new AudioContext();
    const oscillator = context.createOscillator();
    const gain = context.createGain();
    oscillator.frequency.value = 880;
    gain.gain.value = 0.15;
    oscillator.connect(gain).connect(context.destination);
    oscillator.start();
    oscillator.stop(context.currentTime + 0.25);
    oscillator.onended = () => context.close();
  } catch (error) {
    // No audio output: the in-page alert still shows.
  }
}

// Which browser family, for the "how to unblock the camera" advice and the result.
export function browserInfo() {
  const agent = navigator.userAgent;
  const patterns = [
    ["edge", "Edge", /Edg\/(\d+)/],
    ["firefox", "Firefox", /Firefox\/(\d+)/],
    ["chrome", "Chrome", /(?:Chrome|CriOS|Chromium)\/(\d+)/],
    ["safari", "Safari", /Version\/(\d+)[.\d]* .*Safari/],
  ];
  for (const [family, name, pattern] of patterns) {
    const match = agent.match(pattern);
    if (match) {
      return { family, name: `${name} ${match[1]}` };
    }
  }
  return { family: "other", name: agent.slice(0, 100) || "unknown" };
}
