// /join/{token}: device check (skipped once passed on this device), then the waiting
// room, then the call, on one page. The server's `welcome` says where this person
// stands (lobby or call), so a reload or a dropped network returns them there.
import { Call, localMedia } from "./call.js";
import { DeviceCheck, explainBlocked, passedBefore, support } from "./devicecheck.js";
import { askName, rememberedName } from "./guestname.js";
import { Lobby } from "./lobby.js";
import { VisitSocket } from "./socket.js";
import { byId, config, show, t, text } from "./util.js";

const cfg = config();
let stream = null;
let socket = null;
let lobby = null;
let call = null;
let check = null;
let guestName = null;
let me = { participantId: null, role: cfg.role, displayName: cfg.displayName };

function checkStage() {
  show(byId("stage-end"), false);
  document.body.dataset.stage = "check";
  if (check) {
    show(byId("stage-check"), true);
    return;
  }
  check = new DeviceCheck({ onContinue: (checked) => enterVisit(checked) });
  check.mount();
}

async function enterVisit(checked) {
  document.body.dataset.stage = "connecting";
  const media = await localMedia(checked);
  stream = media.stream;
  if (!stream && (media.camera === "blocked" || media.microphone === "blocked")) {
    // Permission was taken back since the last check: say how to fix it, then connect
    // anyway (the person can still wait, chat and hear).
    show(byId("stage-check"), true);
    explainBlocked(byId("check-problem"));
  }
  if (socket) {
    socket.restart();
  } else {
    connect();
  }
}

function connect() {
  // A guest's own name rides on every hello, so each reconnect keeps it too.
  const hello = cfg.role === "guest" && guestName ? { join: cfg.join, name: guestName } : { join: cfg.join };
  socket = new VisitSocket(hello, { onFrame, onStatus, onClosed });
  lobby = new Lobby(socket, { me, onLeave: leftLobby, onRecheck: recheck });
  socket.start();
}

function onStatus(state, seconds) {
  const line = byId("connection-status");
  line.dataset.state = state;
  if (state === "connected") {
    text(line, "");
  } else if (state === "reconnecting") {
    text(line, t("reconnecting", { seconds }));
  } else if (state === "busy") {
    text(line, t("busy"));
  } else {
    text(line, t("connecting"));
  }
}

function onFrame(frame) {
  if (frame.type === "welcome" || frame.type === "snapshot") {
    if (frame.rtcConfiguration) {
      // The server's ICE servers (TURN credentials per participant) replace the default.
      socket.rtcConfiguration = frame.rtcConfiguration;
    }
    if (frame.you) {
      me = { ...me, ...frame.you };
      lobby.me = me;
    }
    place(frame.snapshot || frame, frame.type === "welcome");
    return;
  }
  if (frame.type === "admitted") {
    // The snapshot that follows names who is in the call: this page then offers to them.
    lobby.hide();
    document.body.dataset.stage = "admitted";
    return;
  }
  if (frame.type === "denied") {
    finish("deniedTitle", frame.message || t("denied"));
    return;
  }
  if (frame.type === "ended") {
    finish("endedTitle", t("ended"));
    return;
  }
  if (frame.type === "error") {
    console.warn("server error", frame.code, frame.message);
    return;
  }
  if (call && document.body.dataset.stage === "call") {
    call.handle(frame);
  } else {
    lobby.handle(frame);
  }
}

// Where the snapshot says this person stands.
function place(snapshot, fresh) {
  const state = snapshot.state;
  if (state === "call") {
    lobby.hide();
    if (call && document.body.dataset.stage === "call") {
      if (fresh) {
        call.rtcConfiguration = socket.rtcConfiguration || cfg.rtcConfiguration;
        call.rejoin(snapshot.participants, snapshot.chat);
      } else {
        call.handle({ type: "snapshot", snapshot });
      }
    } else {
      startCall(snapshot.participants, snapshot.chat);
    }
  } else if (state === "lobby") {
    lobby.enter(snapshot.lobby, snapshot.chat, stream);
  } else if (state === "denied") {
    finish("deniedTitle", t("denied"));
  } else if (state === "ended") {
    finish("endedTitle", t("ended"));
  }
}

function startCall(participants, chat) {
  if (!call) {
    call = new Call(socket, {
      me,
      localStream: stream,
      rtcConfiguration: cfg.rtcConfiguration,
      isStaff: false,
      onLeave: leftCall,
    });
  }
  call.me = me;
  call.rtcConfiguration = socket.rtcConfiguration || cfg.rtcConfiguration;
  call.enter(participants, chat);
}

function onClosed(code) {
  if (code === 4410) {
    if (document.body.dataset.stage !== "end") {
      finish("endedTitle", t("ended"));
    }
  } else if (code === 4409) {
    finish("endedTitle", t("elsewhere"), true);
  } else if (code === 4403) {
    finish("endedTitle", t("refused"));
  } else if (code === 4426) {
    location.reload();
  } else if (code === 4400) {
    finish("endedTitle", t("protocolError"), true);
  }
}

function finish(titleKey, message, canRejoin = false) {
  if (call) {
    call.closeAll();
  }
  lobby.hide();
  document.body.dataset.stage = "end";
  text(byId("end-title"), t(titleKey));
  text(byId("end-message"), message);
  const again = byId("end-rejoin");
  again.textContent = t("rejoin");
  show(again, canRejoin);
  again.onclick = () => {
    show(byId("stage-end"), false);
    socket.restart();
  };
  show(byId("stage-end"), true);
}

function leftLobby() {
  document.body.dataset.stage = "left";
  text(byId("end-title"), t("lobbyTitle"));
  text(byId("end-message"), t("leftLobby"));
  const again = byId("end-rejoin");
  again.textContent = t("rejoin");
  show(again, true);
  again.onclick = () => {
    show(byId("stage-end"), false);
    socket.restart();
  };
  show(byId("stage-end"), true);
}

function leftCall() {
  document.body.dataset.stage = "left";
  text(byId("end-title"), t("callTitle"));
  text(byId("end-message"), t("leftCall"));
  const again = byId("end-rejoin");
  again.textContent = t("rejoinCall");
  show(again, true);
  again.onclick = () => {
    show(byId("stage-end"), false);
    socket.restart();
  };
  show(byId("stage-end"), true);
}

function recheck() {
  checkStage();
}

function main() {
  if (cfg.role === "guest") {
    guestName = rememberedName();
    if (!guestName) {
      askName((name) => {
        guestName = name;
        me = { ...me, displayName: name };
        checkOrEnter();
      });
      return;
    }
  }
  checkOrEnter();
}

function checkOrEnter() {
  const found = support();
  if (!found.supported || !passedBefore(cfg.meetingId)) {
    checkStage();
    return;
  }
  enterVisit(null);
}

main();
