// The waiting room stage: where the person stands (position, estimated wait from `lobby`
// frames), what the provider says ("running 10 minutes late"), and messages with staff.
import { chatItem } from "./call.js";
import { byId, minutesText, plural, show, t, text } from "./util.js";

export class Lobby {
  constructor(socket, { me, onLeave, onRecheck }) {
    this.socket = socket;
    this.me = me;
    this.chatIds = new Set();
    this.wired = false;
    this.entered = false;
    this.onLeave = onLeave;
    this.onRecheck = onRecheck;
  }

  enter(lobby, chat, stream) {
    document.body.dataset.stage = "lobby";
    show(byId("stage-lobby"), true);
    byId("lobby-preview").srcObject = stream || null;
    show(byId("lobby-preview"), Boolean(stream && stream.getVideoTracks().length));
    this.wire();
    // A snapshot carries no numbers (a `lobby` frame follows it): keep those shown.
    if (lobby || !this.entered) {
      this.update(lobby || {});
    }
    this.entered = true;
    for (const message of chat || []) {
      this.showChat(message);
    }
  }

  hide() {
    show(byId("stage-lobby"), false);
  }

  update(lobby) {
    const position = lobby.position;
    const positionNode = byId("lobby-position");
    positionNode.dataset.position = position === undefined ? "" : String(position);
    text(positionNode, position ? t("yourPlace", { position }) : "");
    const parts = [];
    if (lobby.estimatedWaitSeconds !== undefined && lobby.estimatedWaitSeconds !== null) {
      parts.push(t("estimatedWait", { wait: minutesText(lobby.estimatedWaitSeconds) }));
    }
    text(byId("lobby-wait"), parts.join(" · "));
    const provider = lobby.provider || { state: "ready" };
    let words = t(`provider.${provider.state}`);
    if (provider.state === "late") {
      words = provider.lateMinutes ? plural("lateMinutes", provider.lateMinutes) : t("provider.ready");
    }
    const providerNode = byId("lobby-provider");
    providerNode.dataset.state = provider.state;
    text(providerNode, words);
    const said = byId("lobby-provider-message");
    text(said, provider.message ? t("providerSays", { message: provider.message }) : "");
    show(said, Boolean(provider.message));
  }

  showChat(message) {
    if (!message || typeof message.chatId !== "number" || this.chatIds.has(message.chatId)) {
      return;
    }
    if (message.audience && message.audience !== "lobby") {
      return;
    }
    this.chatIds.add(message.chatId);
    byId("lobby-chat").append(chatItem(message, this.me.participantId));
  }

  handle(frame) {
    if (frame.type === "lobby") {
      this.update(frame);
    } else if (frame.type === "chat") {
      this.showChat(frame.message || frame);
    } else if (frame.type === "ack" && frame.chatId && this.pending && this.pending.id === frame.id) {
      this.showChat({ chatId: frame.chatId, from: this.me.participantId, text: this.pending.text, audience: "lobby" });
    }
  }

  wire() {
    if (this.wired) {
      return;
    }
    this.wired = true;
    byId("lobby-chat-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const input = byId("lobby-message");
      const value = input.value.trim();
      if (value) {
        this.pending = this.socket.sendChat(value);
        input.value = "";
      }
    });
    byId("lobby-leave").addEventListener("click", () => {
      this.socket.leave();
      this.hide();
      this.onLeave();
    });
    byId("lobby-recheck").addEventListener("click", (event) => {
      event.preventDefault();
      this.socket.stop();
      this.hide();
      this.onRecheck();
    });
  }
}
