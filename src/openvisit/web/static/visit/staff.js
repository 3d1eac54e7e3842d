// /visits/{meetingId}: the provider in the call, with the waiting list beside it (who
// waits, for how long, their device check; admit, deny, message, "running late").
import { Call } from "./call.js";
import { openMedia } from "./devicecheck.js";
import { VisitSocket } from "./socket.js";
import {
  connectionStatus,
  deviceCheckText,
  setProviderStatus,
  threadItem,
  waitedText,
  wireReply,
  wireStatusForm,
} from "./staffkit.js";
import { byId, config, randomId, show, text } from "./util.js";

const cfg = config();
let socket = null;
let call = null;
let stream = null;
let me = { participantId: null, role: "provider", displayName: cfg.displayName };
let waiting = [];
let receivedAt = Date.now();
const threads = new Map(); // participantId -> lobby messages
const seenChat = new Set();
let inviteId = null;

function wireInvite() {
  byId("invite-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const name = byId("invite-name").value.trim();
    if (name) {
      inviteId = randomId("f_");
      socket.send({ type: "invite", id: inviteId, displayName: name });
    }
  });
}

function invited(url) {
  const link = byId("invite-link");
  link.value = url;
  show(byId("invite-result"), true);
  byId("invite-name").value = "";
  link.focus();
  link.select();
}

function renderWaiting() {
  const list = byId("waiting-list");
  // A re-render (someone new, a message) must not throw away a reply being typed.
  const typed = new Map();
  for (const node of list.querySelectorAll("li[data-participant]")) {
    const input = node.querySelector("form input");
    if (input && input.value) {
      typed.set(node.dataset.participant, { value: input.value, focused: document.activeElement === input });
    }
  }
  list.replaceChildren();
  const elapsed = (Date.now() - receivedAt) / 1000;
  for (const person of waiting) {
    const item = byId("waiting-item").content.firstElementChild.cloneNode(true);
    item.dataset.participant = person.participantId;
    item.querySelector(".name").textContent = person.displayName;
    item.querySelector(".role").textContent = person.role === "guest" ? "guest" : "";
    item.querySelector(".waited").textContent = waitedText((person.waitedSeconds || 0) + elapsed);
    const check = deviceCheckText(person.deviceCheck);
    const checkNode = item.querySelector(".device-check");
    checkNode.textContent = check.words;
    checkNode.dataset.ok = String(check.ok);
    const thread = item.querySelector(".lobby-thread");
    for (const message of threads.get(person.participantId) || []) {
      thread.append(threadItem(message));
    }
    item.querySelector(".admit").addEventListener("click", () => {
      socket.send({ type: "admit", participantId: person.participantId });
    });
    item.querySelector(".deny").addEventListener("click", () => {
      socket.send({ type: "deny", participantId: person.participantId });
    });
    item.querySelector(".admit").setAttribute("aria-label", `Admit ${person.displayName}`);
    item.querySelector(".deny").setAttribute("aria-label", `Deny ${person.displayName}`);
    wireReply(item.querySelector("form"), (value) => {
      socket.sendChat(value, "lobby.reply", { participantId: person.participantId });
    });
    list.append(item);
    const kept = typed.get(person.participantId);
    if (kept) {
      const input = item.querySelector("form input");
      input.value = kept.value;
      if (kept.focused) {
        input.focus();
      }
    }
  }
  show(byId("waiting-empty"), waiting.length === 0);
  text(byId("waiting-count"), waiting.length ? String(waiting.length) : "");
}

function lobbyMessage(message) {
  if (seenChat.has(message.chatId)) {
    return;
  }
  seenChat.add(message.chatId);
  const owner = message.lobbyParticipantId || message.to || message.from;
  const thread = threads.get(owner) || [];
  thread.push(message);
  threads.set(owner, thread);
  renderWaiting();
}

function onFrame(frame) {
  if (frame.type === "welcome" || frame.type === "snapshot") {
    if (frame.you) {
      me = { ...me, ...frame.you };
    }
    const snapshot = frame.snapshot || frame;
    if (frame.rtcConfiguration) {
      socket.rtcConfiguration = frame.rtcConfiguration;
    }
    if (snapshot.lobby) {
      waiting = snapshot.lobby.waiting || [];
      receivedAt = Date.now();
      setProviderStatus(snapshot.lobby.provider);
    }
    for (const message of snapshot.chat || []) {
      if (message.audience === "lobby") {
        lobbyMessage(message);
      }
    }
    renderWaiting();
    if (snapshot.state === "ended") {
      ended();
      return;
    }
    if (!call) {
      call = new Call(socket, {
        me,
        localStream: stream,
        rtcConfiguration: socket.rtcConfiguration || cfg.rtcConfiguration,
        isStaff: true,
        onLeave: left,
      });
      call.enter(snapshot.participants, (snapshot.chat || []).filter((m) => m.audience !== "lobby"));
    } else if (frame.type === "welcome") {
      call.me = me;
      call.rejoin(snapshot.participants, (snapshot.chat || []).filter((m) => m.audience !== "lobby"));
    } else {
      call.handle({ type: "snapshot", snapshot });
    }
    return;
  }
  if (frame.type === "ack" && frame.joinUrl && frame.id === inviteId) {
    invited(frame.joinUrl);
    return;
  }
  if (frame.type === "waiting") {
    waiting = frame.waiting || [];
    receivedAt = Date.now();
    renderWaiting();
    return;
  }
  if (frame.type === "chat" && (frame.message || frame).audience === "lobby") {
    lobbyMessage(frame.message || frame);
    return;
  }
  if (frame.type === "ended") {
    ended();
    return;
  }
  if (call) {
    call.handle(frame);
  }
}

function ended() {
  if (call) {
    call.closeAll();
  }
  text(byId("end-title"), "The visit has ended");
  text(byId("end-message"), "The visit was ended for everyone.");
  show(byId("stage-end"), true);
  document.body.dataset.stage = "end";
}

function left() {
  text(byId("end-title"), "You left the visit");
  text(byId("end-message"), "The others may still be in the call.");
  const again = byId("end-rejoin");
  again.textContent = "Rejoin the visit";
  show(again, true);
  again.onclick = () => {
    show(byId("stage-end"), false);
    socket.restart(); // the welcome that follows brings the call back (call.rejoin)
  };
  show(byId("stage-end"), true);
  document.body.dataset.stage = "left";
}

function onClosed(code) {
  if (code === 4410) {
    ended();
  } else if (code === 4403) {
    text(byId("end-title"), "Not allowed");
    text(byId("end-message"), "You may not run this visit (signed out, or not on the appointment).");
    show(byId("stage-end"), true);
  } else if (code === 4409) {
    text(byId("end-title"), "Opened elsewhere");
    text(byId("end-message"), "This visit is open in another tab or on another device.");
    show(byId("stage-end"), true);
  } else if (code === 4426) {
    location.reload();
  }
}

async function main() {
  const media = await openMedia();
  stream = media.stream;
  socket = new VisitSocket({ meeting: cfg.meetingId }, { onFrame, onStatus: connectionStatus, onClosed });
  wireStatusForm(socket);
  wireInvite();
  setInterval(renderWaitedOnly, 10000);
  socket.start();
}

function renderWaitedOnly() {
  const elapsed = (Date.now() - receivedAt) / 1000;
  for (const person of waiting) {
    const node = document.querySelector(`#waiting-list [data-participant="${CSS.escape(person.participantId)}"] .waited`);
    if (node) {
      node.textContent = waitedText((person.waitedSeconds || 0) + elapsed);
    }
  }
}

main();
