// The call: a mesh of RTCPeerConnections (up to 4 people) signalled over the page's
// WebSocket, per docs/realtime-protocol.md "Call signaling": the newcomer offers to
// everyone already in the call; descriptions go out whole once ICE gathering is done
// (no trickle, so aiortc peers work too); glare is settled by perfect negotiation (the
// polite peer is the one whose participantId sorts lower); a connection that fails, or
// stays disconnected for 5 s, restarts ICE without leaving the call. A connection that
// never came up (failed, no candidate of ours gathered, or not up within 20 s) shows
// #call-trouble, what to try instead of waiting; it hides again once one connects.
// window.openvisitCall.stats() gives tests per-peer {framesDecoded, totalSamplesReceived,
// iceRestarts, iceState, iceUfrags: [local, remote], localCandidateType,
// remoteCandidateType} (the selected candidate pair's: "host", "srflx", "relay"...).
import { fillSelect, openMedia, saveDevices, savedDevices } from "./devicecheck.js";
import { byId, config, element, show, t, text } from "./util.js";

const GATHER_TIMEOUT_MS = 4000;
const RESTART_AFTER_MS = 5000;
// Loopback and LAN calls connect in under a second, relayed ones in a few; past this the
// person is better told what to try than left looking at "connecting…".
const CONNECT_WITHIN_MS = 20000;
const CONNECTED = new Set(["connected", "completed"]);
const IN_CALL = new Set(["call", "inCall", "admitted", "joined"]);

export function inCall(participant) {
  return IN_CALL.has(participant.state);
}

function gathered(pc) {
  if (pc.iceGatheringState === "complete") {
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    const timer = setTimeout(finish, GATHER_TIMEOUT_MS);
    function finish() {
      clearTimeout(timer);
      pc.removeEventListener("icegatheringstatechange", check);
      resolve();
    }
    function check() {
      if (pc.iceGatheringState === "complete") {
        finish();
      }
    }
    pc.addEventListener("icegatheringstatechange", check);
  });
}

function ufrag(description) {
  return ((description && description.sdp.match(/a=ice-ufrag:(\S+)/)) || [])[1] || null;
}

class Peer {
  constructor(call, participant) {
    this.call = call;
    this.id = participant.participantId;
    this.polite = call.me.participantId < this.id;
    this.makingOffer = false;
    this.ignoreOffer = false;
    this.tracksAdded = false;
    this.restartTimer = null;
    this.iceRestarts = 0;
    this.everConnected = false;
    this.troubled = false;
    this.candidatesGathered = 0;
    this.pc = new RTCPeerConnection(call.rtcConfiguration);
    this.tile = call.addTile(participant);
    this.pc.ontrack = (event) => this.tile.attach(event.streams[0] || new MediaStream([event.track]));
    this.pc.onnegotiationneeded = () => this.offer();
    this.pc.oniceconnectionstatechange = () => this.iceChanged();
    this.pc.onconnectionstatechange = () => this.connectionChanged();
    this.pc.addEventListener("icecandidate", (event) => {
      if (event.candidate && event.candidate.candidate) { // not an end-of-candidates mark
        this.candidatesGathered += 1;
      }
    });
    this.pc.addEventListener("icegatheringstatechange", () => this.gatheringChanged());
    this.connectTimer = setTimeout(() => this.setTrouble(!this.everConnected), CONNECT_WITHIN_MS);
  }

  // offering: this side makes the offer, so it asks to receive what it cannot send (a
  // person without a camera still sees the others).
  addTracks(offering = false) {
    if (this.tracksAdded) {
      return;
    }
    this.tracksAdded = true;
    const tracks = this.call.outgoingTracks();
    for (const track of tracks) {
      this.pc.addTrack(track, this.call.localStream);
    }
    for (const kind of ["audio", "video"]) {
      if (offering && !tracks.some((track) => track.kind === kind)) {
        this.pc.addTransceiver(kind, { direction: "recvonly" });
      }
    }
  }

  async offer() {
    try {
      this.makingOffer = true;
      await this.pc.setLocalDescription();
      await gathered(this.pc);
      // An offer that crossed one from the other side was rolled back meanwhile.
      if (this.pc.signalingState === "have-local-offer") {
        this.send({ description: this.description() });
      }
    } catch (error) {
      console.warn("offer failed", error);
    } finally {
      this.makingOffer = false;
    }
  }

  // An offer from another page of that participant: another DTLS fingerprint.
  isFromAnotherPage(description) {
    const remote = this.pc.remoteDescription;
    if (!remote) {
      return false;
    }
    const print = (sdp) => (sdp.match(/a=fingerprint:(\S+ \S+)/) || [])[1];
    return print(description.sdp) !== print(remote.sdp);
  }

  description() {
    const local = this.pc.localDescription;
    return { type: local.type, sdp: local.sdp };
  }

  async onDescription(description) {
    const collision = description.type === "offer" && (this.makingOffer || this.pc.signalingState !== "stable");
    this.ignoreOffer = !this.polite && collision;
    if (this.ignoreOffer) {
      return;
    }
    await this.pc.setRemoteDescription(description);
    if (description.type === "offer") {
      this.addTracks(); // the answerer's tracks ride on the offered transceivers
      await this.pc.setLocalDescription();
      await gathered(this.pc);
      this.send({ description: this.description() });
    }
  }

  async onCandidate(candidate) {
    try {
      await this.pc.addIceCandidate(candidate);
    } catch (error) {
      if (!this.ignoreOffer) {
        console.warn("candidate refused", error);
      }
    }
  }

  iceChanged() {
    const state = this.pc.iceConnectionState;
    this.tile.setState(state);
    clearTimeout(this.restartTimer);
    this.noteConnection(state);
    if (state === "failed") {
      this.restartIce();
    } else if (state === "disconnected") {
      this.restartTimer = setTimeout(() => {
        if (this.pc.iceConnectionState === "disconnected" || this.pc.iceConnectionState === "failed") {
          this.restartIce();
        }
      }, RESTART_AFTER_MS);
    }
  }

  // New ICE credentials, offered through negotiationneeded (perfect negotiation settles
  // the glare when both sides restart at once); counted for the tests.
  restartIce() {
    this.iceRestarts += 1;
    this.pc.restartIce();
  }

  // DTLS can fail after ICE succeeded; the peer connection's own state says so.
  connectionChanged() {
    this.noteConnection(this.pc.connectionState);
  }

  noteConnection(state) {
    if (CONNECTED.has(state)) {
      this.everConnected = true;
      clearTimeout(this.connectTimer);
      this.setTrouble(false);
    } else if (state === "failed" && !this.everConnected) {
      this.setTrouble(true); // the restart above still runs: it may get through yet
    }
  }

  // Gathering that ends without one candidate of ours (the TURN server refused us or is
  // down, under the relay policy) can never connect: say so now, not after the timeout.
  gatheringChanged() {
    const state = this.pc.iceGatheringState;
    if (state === "gathering") {
      this.candidatesGathered = 0;
    } else if (state === "complete" && this.candidatesGathered === 0 && !this.everConnected) {
      this.setTrouble(true);
    }
  }

  setTrouble(troubled) {
    if (this.troubled !== troubled) {
      this.troubled = troubled;
      this.call.showTrouble();
    }
  }

  send(fields) {
    this.call.socket.send({ type: "signal", to: this.id, ...fields });
  }

  async stats() {
    const totals = {
      framesDecoded: 0,
      totalSamplesReceived: 0,
      iceRestarts: this.iceRestarts,
      iceState: this.pc.iceConnectionState,
      // New ones on both sides are what an ICE restart that went through leaves.
      iceUfrags: [this.pc.localDescription, this.pc.remoteDescription].map(ufrag),
    };
    const report = await this.pc.getStats();
    let pair = null;
    report.forEach((entry) => {
      if (entry.type === "inbound-rtp") {
        totals.framesDecoded += entry.framesDecoded || 0;
        totals.totalSamplesReceived += entry.totalSamplesReceived || 0;
      } else if (entry.type === "transport" && entry.selectedCandidatePairId) {
        pair = report.get(entry.selectedCandidatePairId) || pair;
      } else if (entry.type === "candidate-pair" && entry.selected) {
        pair = entry; // Firefox marks the pair itself and has no transport entry
      }
    });
    const candidateType = (id) => ((pair && report.get(id)) || {}).candidateType || null;
    totals.localCandidateType = pair ? candidateType(pair.localCandidateId) : null;
    totals.remoteCandidateType = pair ? candidateType(pair.remoteCandidateId) : null;
    return totals;
  }

  close() {
    clearTimeout(this.restartTimer);
    clearTimeout(this.connectTimer);
    this.pc.close();
    this.tile.remove();
    this.setTrouble(false);
  }
}

class Tile {
  constructor(container, participant) {
    this.figure = element("figure", "tile remote");
    this.figure.dataset.participant = participant.participantId;
    this.video = element("video");
    this.video.autoplay = true;
    this.video.playsInline = true;
    this.caption = element("figcaption");
    this.name = element("span", "name");
    this.flags = element("span", "flags");
    this.caption.append(this.name, " ", this.flags);
    this.figure.append(this.video, this.caption);
    container.append(this.figure);
    this.update(participant);
    this.setState("new");
  }

  attach(stream) {
    if (this.video.srcObject !== stream) {
      this.video.srcObject = stream;
      this.video.play().catch(() => {
        // Autoplay with sound refused (no gesture yet): play muted, sound on the next tap.
        this.video.muted = true;
        this.video.play().catch(() => {});
        document.addEventListener("click", () => { this.video.muted = false; }, { once: true });
      });
    }
  }

  update(participant) {
    this.name.textContent = participant.displayName;
    const media = participant.media || {};
    const flags = [];
    if (media.audio === false) {
      flags.push(t("muted"));
    }
    if (media.video === false) {
      flags.push(t("cameraIsOff"));
    }
    if (media.screen) {
      flags.push(t("sharing"));
    }
    this.flags.textContent = flags.length ? `(${flags.join(", ")})` : "";
    this.figure.dataset.screen = String(Boolean(media.screen)); // shown whole, not cropped
  }

  setState(state) {
    this.figure.dataset.state = state;
    if (state === "new" || state === "checking") {
      this.figure.dataset.note = t("peerConnecting");
    } else if (state === "disconnected" || state === "failed") {
      this.figure.dataset.note = t("peerReconnecting");
    } else {
      delete this.figure.dataset.note;
    }
  }

  setSink(sinkId) {
    if (typeof this.video.setSinkId === "function" && sinkId) {
      this.video.setSinkId(sinkId).catch(() => {});
    }
  }

  remove() {
    this.figure.remove();
  }
}

export class Call {
  // me: {participantId, role, displayName}; isStaff adds "End for all".
  constructor(socket, { me, localStream, rtcConfiguration, isStaff, onLeave, onEnd }) {
    this.socket = socket;
    this.me = me;
    this.localStream = localStream || new MediaStream();
    this.rtcConfiguration = rtcConfiguration || { iceServers: [] };
    this.isStaff = isStaff;
    this.onLeave = onLeave;
    this.onEnd = onEnd;
    this.peers = new Map();
    this.people = new Map();
    this.chatIds = new Set();
    this.screenTrack = null;
    this.devices = savedDevices();
    this.tiles = byId("tiles");
    this.wired = false;
    window.openvisitCall = { stats: () => this.stats(), peers: () => [...this.peers.keys()] };
  }

  // Enter the call stage; `participants` and `chat` from the snapshot. As the newcomer,
  // offer to everyone already there.
  enter(participants, chat) {
    show(byId("stage-call"), true);
    document.body.dataset.stage = "call";
    byId("local-video").srcObject = this.localStream;
    this.wire();
    this.people.clear();
    for (const person of participants || []) {
      this.people.set(person.participantId, person);
    }
    for (const person of this.people.values()) {
      if (person.participantId !== this.me.participantId && inCall(person)) {
        this.connectTo(person);
      }
    }
    for (const message of chat || []) {
      this.showChat(message);
    }
    this.sendMedia();
    this.refresh();
  }

  // A new connection of this page (the network dropped and came back): its old peer
  // connections are offered afresh, as a newcomer's, so both sides start from the same
  // place whether or not the others saw this page leave.
  rejoin(participants, chat) {
    for (const peer of this.peers.values()) {
      peer.close();
    }
    this.peers.clear();
    this.enter(participants, chat);
  }

  connectTo(person) {
    const existing = this.peers.get(person.participantId);
    if (existing) {
      existing.close();
    }
    const peer = new Peer(this, person);
    this.peers.set(person.participantId, peer);
    peer.addTracks(true); // fires negotiationneeded: this side offers
    return peer;
  }

  handle(frame) {
    if (frame.type === "participant") {
      this.onParticipant(frame.event, frame.participant);
    } else if (frame.type === "signal") {
      this.onSignal(frame);
    } else if (frame.type === "chat") {
      this.showChat(frame.message || frame);
    } else if (frame.type === "ack" && frame.chatId && this.pendingChat && this.pendingChat.id === frame.id) {
      this.showChat({ chatId: frame.chatId, from: this.me.participantId, displayName: this.me.displayName, text: this.pendingChat.text });
    } else if (frame.type === "snapshot") {
      const snapshot = frame.snapshot || frame;
      for (const person of snapshot.participants || []) {
        this.people.set(person.participantId, person);
      }
      for (const message of snapshot.chat || []) {
        this.showChat(message);
      }
      this.refresh();
    }
  }

  onParticipant(event, person) {
    if (!person || person.participantId === this.me.participantId) {
      return;
    }
    const id = person.participantId;
    if (event === "left" || !inCall(person)) {
      this.people.delete(id);
      const peer = this.peers.get(id);
      if (peer) {
        peer.close();
        this.peers.delete(id);
      }
    } else {
      if (event === "joined" && this.peers.has(id)) {
        // They came back (a reload): their old connection is dead; they will offer anew.
        this.peers.get(id).close();
        this.peers.delete(id);
      }
      this.people.set(id, person);
      const peer = this.peers.get(id);
      if (peer) {
        peer.tile.update(person);
      }
    }
    this.refresh();
  }

  async onSignal(frame) {
    let peer = this.peers.get(frame.from);
    if (peer && frame.description && frame.description.type === "offer" && peer.isFromAnotherPage(frame.description)) {
      // The other side reloaded or reconnected: a new page, a new connection.
      peer.close();
      this.peers.delete(frame.from);
      peer = null;
    }
    if (!peer) {
      if (!frame.description || frame.description.type !== "offer") {
        return;
      }
      const person = this.people.get(frame.from) || { participantId: frame.from, displayName: "", state: "call" };
      peer = new Peer(this, person);
      this.peers.set(frame.from, peer);
      this.refresh();
    }
    try {
      if (frame.description) {
        await peer.onDescription(frame.description);
      } else if (frame.candidate) {
        await peer.onCandidate(frame.candidate);
      }
    } catch (error) {
      console.warn("signal failed", error);
    }
  }

  outgoingTracks() {
    const tracks = [];
    const audio = this.localStream.getAudioTracks()[0];
    const video = this.screenTrack || this.localStream.getVideoTracks()[0];
    if (audio) {
      tracks.push(audio);
    }
    if (video) {
      tracks.push(video);
    }
    return tracks;
  }

  // One notice for the whole call: shown while any connection has never come up.
  showTrouble() {
    show(byId("call-trouble"), [...this.peers.values()].some((peer) => peer.troubled));
  }

  addTile(person) {
    const tile = new Tile(this.tiles, person);
    tile.setSink(this.devices.speaker); // the speaker chosen in the check or the call
    return tile;
  }

  refresh() {
    const count = this.peers.size + 1;
    this.tiles.dataset.count = String(Math.min(count, 4));
    show(byId("call-alone"), this.peers.size === 0);
    const list = byId("people");
    list.replaceChildren();
    const everyone = [{ ...this.me, media: this.mediaState() }, ...[...this.people.values()].filter((p) => p.participantId !== this.me.participantId && inCall(p))];
    for (const person of everyone) {
      const item = element("li", null);
      const role = person.role ? ` · ${t(`role.${person.role}`)}` : "";
      const you = person.participantId === this.me.participantId ? ` (${t("you")})` : "";
      item.textContent = `${person.displayName}${you}${role}`;
      list.append(item);
    }
    text(byId("people-count"), String(everyone.length));
  }

  mediaState() {
    const audio = this.localStream.getAudioTracks()[0];
    const video = this.localStream.getVideoTracks()[0];
    return { audio: Boolean(audio && audio.enabled), video: Boolean(video && video.enabled), screen: Boolean(this.screenTrack) };
  }

  sendMedia() {
    this.socket.send({ type: "media", ...this.mediaState() });
    const state = this.mediaState();
    const flags = [];
    if (!state.audio) {
      flags.push(t("muted"));
    }
    if (!state.video) {
      flags.push(t("cameraIsOff"));
    }
    text(byId("local-flags"), flags.length ? `(${flags.join(", ")})` : "");
  }

  wire() {
    if (this.wired) {
      return;
    }
    this.wired = true;
    const mute = byId("btn-mute");
    mute.addEventListener("click", () => {
      const tracks = this.localStream.getAudioTracks();
      const on = !(tracks[0] && tracks[0].enabled);
      tracks.forEach((track) => { track.enabled = on; });
      mute.setAttribute("aria-pressed", String(!on));
      mute.textContent = on ? t("mute") : t("unmute");
      this.sendMedia();
      this.refresh();
    });
    const camera = byId("btn-camera");
    camera.addEventListener("click", () => {
      const tracks = this.localStream.getVideoTracks();
      const on = !(tracks[0] && tracks[0].enabled);
      tracks.forEach((track) => { track.enabled = on; });
      camera.setAttribute("aria-pressed", String(!on));
      camera.textContent = on ? t("cameraOff") : t("cameraOn");
      this.sendMedia();
      this.refresh();
    });
    const share = byId("btn-share");
    const phone = window.matchMedia("(pointer: coarse)").matches;
    show(share, Boolean(navigator.mediaDevices && navigator.mediaDevices.getDisplayMedia) && !phone);
    share.addEventListener("click", () => (this.screenTrack ? this.stopShare() : this.startShare()));
    for (const [button, panel] of [["btn-chat", "panel-chat"], ["btn-people", "panel-people"], ["btn-devices", "panel-devices"]]) {
      byId(button).addEventListener("click", () => this.togglePanel(button, panel));
    }
    byId("call-chat-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const input = byId("call-message");
      const value = input.value.trim();
      if (value) {
        this.pendingChat = this.socket.sendChat(value);
        input.value = "";
      }
    });
    byId("btn-leave").addEventListener("click", () => this.leave());
    const end = byId("btn-end");
    show(end, this.isStaff);
    end.addEventListener("click", () => {
      if (window.confirm(t("endConfirm"))) {
        this.socket.send({ type: "end" });
      }
    });
    for (const kind of ["camera", "microphone", "speaker"]) {
      byId(`call-${kind}`).addEventListener("change", (event) => this.switchDevice(kind, event.target.value));
    }
    if (typeof HTMLMediaElement.prototype.setSinkId !== "function") {
      show(byId("call-speaker-field"), false);
    }
    this.listDevices();
  }

  togglePanel(buttonId, panelId) {
    const opening = byId(panelId).hidden;
    for (const [button, panel] of [["btn-chat", "panel-chat"], ["btn-people", "panel-people"], ["btn-devices", "panel-devices"]]) {
      show(byId(panel), false);
      byId(button).setAttribute("aria-expanded", "false");
    }
    show(byId(panelId), opening);
    show(byId("call-side"), opening);
    byId(buttonId).setAttribute("aria-expanded", String(opening));
    if (opening && panelId === "panel-chat") {
      show(byId("chat-unread"), false);
      this.unread = 0;
      byId("call-message").focus();
    }
    if (opening && panelId === "panel-devices") {
      this.listDevices();
    }
  }

  async listDevices() {
    let devices = [];
    try {
      devices = await navigator.mediaDevices.enumerateDevices();
    } catch (error) {
      return;
    }
    const active = {
      camera: (this.localStream.getVideoTracks()[0] || { getSettings: () => ({}) }).getSettings().deviceId,
      microphone: (this.localStream.getAudioTracks()[0] || { getSettings: () => ({}) }).getSettings().deviceId,
      speaker: this.devices.speaker,
    };
    const kinds = { camera: "videoinput", microphone: "audioinput", speaker: "audiooutput" };
    for (const [name, kind] of Object.entries(kinds)) {
      fillSelect(byId(`call-${name}`), devices.filter((device) => device.kind === kind), active[name]);
    }
  }

  // Another camera or microphone, without renegotiating: the senders' tracks are replaced.
  async switchDevice(kind, deviceId) {
    this.devices[kind] = deviceId;
    saveDevices({ [kind]: deviceId });
    if (kind === "speaker") {
      for (const peer of this.peers.values()) {
        peer.tile.setSink(deviceId);
      }
      return;
    }
    const wanted = kind === "camera" ? { video: { deviceId: { exact: deviceId } } } : { audio: { deviceId: { exact: deviceId } } };
    let fresh;
    try {
      fresh = await navigator.mediaDevices.getUserMedia(wanted);
    } catch (error) {
      return;
    }
    const track = fresh.getTracks()[0];
    const old = kind === "camera" ? this.localStream.getVideoTracks()[0] : this.localStream.getAudioTracks()[0];
    if (old) {
      track.enabled = old.enabled;
      this.localStream.removeTrack(old);
      old.stop();
    }
    this.localStream.addTrack(track);
    if (!(kind === "camera" && this.screenTrack)) {
      await this.replaceOutgoing(track.kind, track);
    }
    byId("local-video").srcObject = this.localStream;
  }

  async replaceOutgoing(kind, track) {
    for (const peer of this.peers.values()) {
      const sender = peer.pc.getSenders().find((candidate) => candidate.track && candidate.track.kind === kind);
      if (sender) {
        await sender.replaceTrack(track);
      } else if (peer.tracksAdded) {
        peer.pc.addTrack(track, this.localStream);
      }
    }
  }

  async startShare() {
    let stream;
    try {
      stream = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
    } catch (error) {
      return;
    }
    this.screenTrack = stream.getVideoTracks()[0];
    this.screenTrack.addEventListener("ended", () => this.stopShare());
    await this.replaceOutgoing("video", this.screenTrack);
    byId("local-video").srcObject = stream;
    const button = byId("btn-share");
    button.textContent = t("stopShare");
    button.setAttribute("aria-pressed", "true");
    this.sendMedia();
  }

  async stopShare() {
    if (!this.screenTrack) {
      return;
    }
    this.screenTrack.stop();
    this.screenTrack = null;
    const camera = this.localStream.getVideoTracks()[0];
    if (camera) {
      await this.replaceOutgoing("video", camera);
    }
    byId("local-video").srcObject = this.localStream;
    const button = byId("btn-share");
    button.textContent = t("share");
    button.setAttribute("aria-pressed", "false");
    this.sendMedia();
  }

  showChat(message) {
    if (!message || typeof message.chatId !== "number" || this.chatIds.has(message.chatId)) {
      return;
    }
    if (message.audience && message.audience !== "call") {
      return;
    }
    this.chatIds.add(message.chatId);
    const log = byId("call-chat");
    log.append(chatItem(message, this.me.participantId));
    log.scrollTop = log.scrollHeight;
    if (byId("panel-chat").hidden && message.from !== this.me.participantId) {
      this.unread = (this.unread || 0) + 1;
      text(byId("chat-unread"), String(this.unread));
      show(byId("chat-unread"), true);
    }
  }

  async stats() {
    const result = {};
    for (const [id, peer] of this.peers) {
      result[id] = await peer.stats();
    }
    return result;
  }

  leave() {
    this.closeAll();
    this.socket.leave();
    if (this.onLeave) {
      this.onLeave();
    }
  }

  closeAll() {
    for (const peer of this.peers.values()) {
      peer.close();
    }
    this.peers.clear();
    if (this.screenTrack) {
      this.screenTrack.stop();
      this.screenTrack = null;
    }
    show(byId("call-trouble"), false);
    show(byId("stage-call"), false);
  }
}

export function chatItem(message, myId) {
  const item = element("li", message.from === myId ? "mine" : "theirs");
  const who = element("span", "who", message.from === myId ? t("you") : message.displayName || t("staff"));
  const body = element("span", "body", message.text);
  item.append(who, body);
  if (message.at) {
    const time = element("time", "at", new Date(message.at).toLocaleTimeString(config().language, { hour: "numeric", minute: "2-digit" }));
    time.dateTime = message.at;
    item.append(time);
  }
  return item;
}

// The camera and microphone for the call: the device check's stream when there is one.
export async function localMedia(stream) {
  if (stream && stream.getTracks().some((track) => track.readyState === "live")) {
    return { stream };
  }
  return openMedia();
}
