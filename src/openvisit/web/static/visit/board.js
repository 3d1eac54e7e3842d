// /visits/today: the provider's live day board over the WebSocket (`hello` with
// board: true; `board` frames replace it whole). Someone arriving in a waiting room
// raises a notification: the Notification API when allowed, else an in-page alert and a
// sound. Admit, deny, message and "running late" go out as the protocol's staff frames.
import { VisitSocket } from "./socket.js";
import {
  connectionStatus,
  deviceCheckText,
  setProviderStatus,
  waitedText,
  wireReply,
  wireStatusForm,
} from "./staffkit.js";
import { beep, byId, clockTime, show, text } from "./util.js";

const COLUMNS = { upcoming: "upcoming", waiting: "waiting", inCall: "inCall", done: "done", noShow: "done", cancelled: "done" };
let socket = null;
let board = null;
let receivedAt = Date.now();
let known = null; // appointmentId -> status, to notice arrivals
let waiters = []; // the `waiting` list: who waits, with participantId and meetingId

function render() {
  if (!board) {
    return;
  }
  const zone = board.timeZone;
  text(byId("board-date"), `${formatDate(board.date, zone)} · ${zone ? zone.replace("_", " ") : ""}`);
  const counts = { upcoming: 0, waiting: 0, inCall: 0, done: 0 };
  for (const list of document.querySelectorAll("[data-list]")) {
    list.replaceChildren();
  }
  const elapsed = (Date.now() - receivedAt) / 1000;
  for (const appointment of board.appointments || []) {
    const column = COLUMNS[appointment.status] || "upcoming";
    counts[column] += 1;
    document.querySelector(`[data-list="${column}"]`).append(item(appointment, zone, elapsed));
  }
  for (const [column, count] of Object.entries(counts)) {
    text(document.querySelector(`[data-count="${column}"]`), String(count));
  }
}

function item(appointment, zone, elapsed) {
  const node = byId("board-item").content.firstElementChild.cloneNode(true);
  node.dataset.appointment = appointment.appointmentId;
  node.dataset.status = appointment.status;
  node.querySelector(".time").textContent = `${clockTime(appointment.start, zone, "en")} – ${clockTime(appointment.end, zone, "en")}`;
  node.querySelector(".name").textContent = appointment.customerName || "—";
  node.querySelector(".service-label").textContent = appointment.serviceName || "";
  const waitingNow = appointment.status === "waiting";
  node.querySelector(".waited").textContent = waitingNow ? waitedText((appointment.waitedSeconds || 0) + elapsed) : statusWords(appointment.status);
  const check = deviceCheckText(appointment.deviceCheck);
  const checkNode = node.querySelector(".device-check");
  checkNode.textContent = check.words;
  checkNode.dataset.ok = String(check.ok);
  const here = waiters.filter((person) => person.meetingId === appointment.meetingId);
  // The row is the customer's; a guest (an interpreter, family) who waits is named by the
  // name they typed. The buttons act on the first who waits, so they name them.
  const guests = here.filter((person) => person.role === "guest").map((person) => person.displayName);
  node.querySelector(".waiters").textContent = guests.length ? `Guest waiting: ${guests.join(", ")}` : "";
  const waiter = here[0];
  const participantId = waiter ? waiter.participantId : null;
  const who = appointment.customerName || "the customer";
  const admitting = waiter ? waiter.displayName : who;
  const admit = node.querySelector(".admit");
  const deny = node.querySelector(".deny");
  show(admit, waitingNow && Boolean(participantId));
  show(deny, waitingNow && Boolean(participantId));
  admit.setAttribute("aria-label", `Admit ${admitting}`);
  deny.setAttribute("aria-label", `Deny ${admitting}`);
  admit.addEventListener("click", () => socket.send({ type: "admit", participantId }));
  deny.addEventListener("click", () => socket.send({ type: "deny", participantId }));
  const join = node.querySelector(".join");
  join.href = appointment.joinUrl || `/visits/${appointment.meetingId}`;
  join.textContent = appointment.status === "inCall" || waitingNow ? "Join" : "Open";
  join.setAttribute("aria-label", `${join.textContent}: visit with ${who}`);
  show(join, appointment.status !== "cancelled" && Boolean(appointment.meetingId));
  const form = node.querySelector("form");
  show(form, waitingNow && Boolean(participantId));
  wireReply(form, (value) => socket.sendChat(value, "lobby.reply", { participantId }));
  return node;
}

function statusWords(status) {
  return { upcoming: "upcoming", inCall: "in call", done: "done", noShow: "did not come", cancelled: "cancelled" }[status] || status;
}

function formatDate(date, zone) {
  if (!date) {
    return "";
  }
  try {
    return new Intl.DateTimeFormat("en", { weekday: "long", day: "numeric", month: "long", timeZone: "UTC" }).format(new Date(`${date}T12:00:00Z`));
  } catch (error) {
    return date;
  }
}

function noticeArrivals() {
  const now = new Map((board.appointments || []).map((a) => [a.appointmentId, a.status]));
  if (known !== null) {
    for (const appointment of board.appointments || []) {
      if (appointment.status === "waiting" && known.get(appointment.appointmentId) !== "waiting") {
        arrived(appointment);
      }
    }
  }
  known = now;
}

function arrived(appointment) {
  const words = `${appointment.customerName || "Someone"} is waiting${appointment.serviceName ? ` (${appointment.serviceName})` : ""}.`;
  if ("Notification" in window && Notification.permission === "granted") {
    const note = new Notification("Waiting room", { body: words, tag: appointment.appointmentId });
    note.onclick = () => {
      window.focus();
      location.href = appointment.joinUrl || `/visits/${appointment.meetingId}`;
    };
  } else {
    const alert = byId("arrival-alert");
    alert.textContent = words;
    show(alert, true);
    beep();
  }
  document.body.dataset.arrivals = String(Number(document.body.dataset.arrivals || 0) + 1);
}

function onFrame(frame) {
  if (frame.type === "waiting" || (frame.snapshot && frame.snapshot.waiting)) {
    waiters = frame.waiting || frame.snapshot.waiting || [];
    if (frame.type === "waiting") {
      render();
    }
  }
  if (frame.type === "welcome" || frame.type === "snapshot" || frame.type === "board") {
    const next = frame.board || (frame.snapshot && frame.snapshot.board);
    if (next) {
      board = next;
      receivedAt = Date.now();
      setProviderStatus(board.provider);
      noticeArrivals();
      render();
    }
  }
}

function wireNotifications() {
  const button = byId("notify-enable");
  if (!("Notification" in window) || Notification.permission !== "default") {
    return;
  }
  show(button, true);
  button.addEventListener("click", async () => {
    await Notification.requestPermission();
    show(button, Notification.permission === "default");
  });
}

function main() {
  socket = new VisitSocket({ board: true }, { onFrame, onStatus: connectionStatus, onClosed: () => {} });
  wireStatusForm(socket);
  wireNotifications();
  setInterval(render, 15000);
  socket.start();
}

main();
