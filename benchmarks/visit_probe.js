// Timings for benchmarks/visit.py, installed in every page before the page's own scripts
// (Playwright's addInitScript). Every time is performance.timeOrigin + performance.now():
// milliseconds since the epoch, comparable between the two pages of one machine.
// - stages: each value of <body data-stage> (check, connecting, lobby, admitted, call...)
//   with the moment it was set (a MutationObserver, called in the same task);
// - clicks: every click on the page (capture phase) with the control's text;
// - online / offline: the moments the page heard the browser's events;
// - sockets: every WebSocket the page opened, when it was made and when it opened;
// - peers: every RTCPeerConnection the page made, when, and the first moment a getStats()
//   poll (every POLL_MS) found inbound video framesDecoded > 0 on it.
(() => {
  const POLL_MS = 10;
  const at = () => performance.timeOrigin + performance.now();
  const probe = { stages: [], clicks: [], online: [], offline: [], sockets: [], peers: [] };
  window.visitProbe = probe;

  new MutationObserver(() => {
    const stage = document.body ? document.body.dataset.stage : undefined;
    const last = probe.stages[probe.stages.length - 1];
    if (stage && (!last || last.stage !== stage)) {
      probe.stages.push({ stage, at: at() });
    }
  }).observe(document, { subtree: true, attributes: true, attributeFilter: ["data-stage"] });

  document.addEventListener(
    "click",
    (event) => {
      const control = event.target.closest ? event.target.closest("button, a") : null;
      probe.clicks.push({ at: at(), label: control ? control.textContent.trim() : "" });
    },
    true,
  );
  addEventListener("online", () => probe.online.push(at()));
  addEventListener("offline", () => probe.offline.push(at()));

  const NativeSocket = window.WebSocket;
  window.WebSocket = class extends NativeSocket {
    constructor(...args) {
      super(...args);
      const socket = { created: at(), opened: null };
      probe.sockets.push(socket);
      this.addEventListener("open", () => {
        socket.opened = at();
      });
    }
  };

  const Native = window.RTCPeerConnection;
  if (typeof Native !== "function") {
    return;
  }
  window.RTCPeerConnection = class extends Native {
    constructor(...args) {
      super(...args);
      const peer = { created: at(), firstFrame: null };
      probe.peers.push(peer);
      const poll = async () => {
        if (this.signalingState === "closed") {
          return;
        }
        let frames = 0;
        (await this.getStats()).forEach((entry) => {
          if (entry.type === "inbound-rtp" && entry.kind === "video") {
            frames += entry.framesDecoded || 0;
          }
        });
        if (frames > 0) {
          peer.firstFrame = at();
        } else {
          setTimeout(poll, POLL_MS);
        }
      };
      setTimeout(poll, POLL_MS);
    }
  };
})();
