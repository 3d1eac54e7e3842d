// One WebSocket per page, per docs/realtime-protocol.md: `hello` first, heartbeats,
// reconnect with backoff (0.5 s doubling to 10 s, with jitter) and `resume` after any
// close but the final ones, and chat messages resent (same clientMessageId) until acked.
import { config, randomId } from "./util.js";

// Closes after which reconnecting would not help; the page says why instead.
const FINAL = new Set([1000, 4400, 4403, 4409, 4410, 4426]);
const FIRST_DELAY_MS = 500;
const MAX_DELAY_MS = 10000;
const MISSED_PINGS = 3;

export class VisitSocket {
  // hello: the fields of the hello frame besides type/v/resume ({join}, {meeting}, {board}).
  // onFrame(frame), onStatus(state, detail), onClosed(code) for a final close.
  constructor(hello, { onFrame, onStatus, onClosed }) {
    this.hello = hello;
    this.onFrame = onFrame;
    this.onStatus = onStatus || (() => {});
    this.onClosed = onClosed || (() => {});
    this.ws = null;
    this.connectionId = null;
    this.lastSeq = 0;
    this.lastChatId = 0;
    this.attempts = 0;
    this.heartbeatMs = 20000;
    this.lastHeard = 0;
    this.watchdog = null;
    this.retryTimer = null;
    this.stopped = false;
    this.welcomed = false;
    this.unacked = new Map(); // frame id -> chat frame, resent after a reconnect
  }

  start() {
    this.stopped = false;
    if (!this.listening) {
      // The browser knows of a dropped network before three pings are missed: go at once,
      // and come back as soon as it is up again instead of at the end of a backoff.
      this.listening = true;
      window.addEventListener("offline", () => this.dropped());
      window.addEventListener("online", () => this.back());
    }
    this.connect();
  }

  dropped() {
    if (this.ws && !this.stopped) {
      const ws = this.ws;
      ws.close();
      this.closed(ws, 4408);
    }
  }

  back() {
    if (!this.stopped && !this.ws) {
      this.attempts = 0;
      this.connect();
    }
  }

  connect() {
    clearTimeout(this.retryTimer);
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(`${scheme}//${location.host}${config().socketPath}`);
    this.ws = ws;
    this.welcomed = false;
    this.onStatus("connecting");
    ws.onopen = () => {
      const hello = { type: "hello", v: 1, ...this.hello };
      if (this.connectionId) {
        hello.resume = {
          connectionId: this.connectionId,
          lastSeq: this.lastSeq,
          lastChatId: this.lastChatId,
        };
      }
      ws.send(JSON.stringify(hello));
    };
    ws.onmessage = (event) => this.received(ws, event.data);
    ws.onclose = (event) => this.closed(ws, event.code);
  }

  received(ws, data) {
    if (ws !== this.ws) {
      return;
    }
    let frame;
    try {
      frame = JSON.parse(data);
    } catch (error) {
      return;
    }
    this.lastHeard = Date.now();
    if (typeof frame.seq === "number") {
      this.lastSeq = frame.seq;
    }
    if (frame.type === "welcome") {
      this.welcomed = true;
      this.attempts = 0;
      this.connectionId = frame.connectionId;
      this.heartbeatMs = (frame.heartbeatSeconds || 20) * 1000;
      this.watch();
      this.onStatus("connected");
      this.noteChat(frame.snapshot && frame.snapshot.chat);
      for (const pending of this.unacked.values()) {
        this.send(pending);
      }
    } else if (frame.type === "ping") {
      this.send({ type: "pong", t: frame.t });
      return;
    } else if (frame.type === "pong") {
      return;
    } else if (frame.type === "snapshot") {
      this.noteChat(frame.chat || (frame.snapshot && frame.snapshot.chat));
    } else if (frame.type === "chat") {
      this.noteChat([frame.message || frame]);
    } else if (frame.type === "ack" && frame.id) {
      this.unacked.delete(frame.id);
    }
    this.onFrame(frame);
  }

  noteChat(messages) {
    for (const message of messages || []) {
      if (typeof message.chatId === "number" && message.chatId > this.lastChatId) {
        this.lastChatId = message.chatId;
      }
    }
  }

  watch() {
    clearInterval(this.watchdog);
    this.lastHeard = Date.now();
    // Three missed server pings: the connection is gone even if the browser has not noticed.
    this.watchdog = setInterval(() => {
      if (Date.now() - this.lastHeard > this.heartbeatMs * MISSED_PINGS) {
        this.ws.close();
        this.closed(this.ws, 4408);
      }
    }, 1000);
  }

  closed(ws, code) {
    if (ws !== this.ws) {
      return;
    }
    this.ws = null;
    clearInterval(this.watchdog);
    if (this.stopped) {
      return;
    }
    if (FINAL.has(code)) {
      this.stopped = true;
      this.onClosed(code);
      return;
    }
    const base = code === 4429 ? MAX_DELAY_MS : Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** this.attempts);
    const delay = Math.round(base * (0.5 + Math.random() * 0.5));
    this.attempts += 1;
    this.onStatus(code === 4429 ? "busy" : "reconnecting", Math.max(1, Math.round(delay / 1000)));
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  send(frame) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN && (this.welcomed || frame.type === "hello")) {
      this.ws.send(JSON.stringify(frame));
      return true;
    }
    return false;
  }

  // A chat message (lobby or call), kept until the server acks it.
  sendChat(textValue, type = "chat.send", extra = {}) {
    const frame = { type, id: randomId("f_"), text: textValue, clientMessageId: randomId("m_"), ...extra };
    this.unacked.set(frame.id, frame);
    this.send(frame);
    return frame;
  }

  // Leave on purpose (the server ends presence); no reconnect follows.
  leave() {
    this.send({ type: "leave" });
    this.stop();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearInterval(this.watchdog);
    if (this.ws) {
      this.ws.close(1000);
      this.ws = null;
    }
  }

  // Reconnect now, as a fresh start (after a "leave" and "return").
  restart() {
    this.stop();
    this.attempts = 0;
    this.start();
  }
}
