"""Every text the visit scripts show, translated on the server and handed to the page.

The scripts (static/visit/*.js) carry no words of their own: the page renders this table
as JSON in the reader's language, and `{name}` marks a value the script fills in. Words
that count (minutes, people) come in two forms, `.one` and `.other`, which the script
picks with Intl.PluralRules: enough for every language shipped (English and German).
"""

from __future__ import annotations

from collections.abc import Callable

Translate = Callable[[str], str]
Plural = Callable[[str, str, int], str]


def client_texts(_: Translate, ngettext: Plural) -> dict[str, str]:
    """The scripts' texts in the language `_` and `ngettext` translate into."""
    return {
        **_check_texts(_),
        **_fix_texts(_),
        **_lobby_texts(_),
        **_call_texts(_),
        **_plural_texts(ngettext),
    }


def _plural_texts(ngettext: Plural) -> dict[str, str]:
    # Each form is asked for by its own count, so each is the catalog's own text.
    forms = {
        "waitMinutes": (
            ngettext("about %(n)s minute", "about %(n)s minutes", 1),
            ngettext("about %(n)s minute", "about %(n)s minutes", 2),
        ),
        "lateMinutes": (
            ngettext(
                "Your provider is running %(n)s minute late.",
                "Your provider is running %(n)s minutes late.",
                1,
            ),
            ngettext(
                "Your provider is running %(n)s minute late.",
                "Your provider is running %(n)s minutes late.",
                2,
            ),
        ),
    }
    texts: dict[str, str] = {}
    for key, (one, other) in forms.items():
        texts[f"{key}.one"] = one.replace("%(n)s", "{n}")
        texts[f"{key}.other"] = other.replace("%(n)s", "{n}")
    return texts


def _check_texts(_: Translate) -> dict[str, str]:
    return {
        "start": _("Start the check"),
        "checking": _("Checking…"),
        "camera": _("Camera"),
        "microphone": _("Microphone"),
        "speaker": _("Speaker"),
        "network": _("Connection"),
        "browser": _("Browser"),
        "defaultDevice": _("Default"),
        "level": _("Microphone level"),
        "speakMeter": _("Say something: the bar moves when the microphone hears you."),
        "playTone": _("Play a test sound"),
        "heardTone": _("Did you hear the sound?"),
        "yes": _("Yes"),
        "no": _("No"),
        "toneHint": _("Turn the volume up, or choose another speaker, and play it again."),
        "ok": _("Works"),
        "blocked": _("Blocked"),
        "missing": _("Not found"),
        "error": _("Not working"),
        "untested": _("Not tested"),
        "cameraMissing": _("No camera was found. Connect one, or join with sound only."),
        "microphoneMissing": _("No microphone was found. Connect a headset or microphone."),
        "deviceError": _(
            "The device could not be started. Close other programs that use it "
            "(another video call, for example) and check again."
        ),
        "netChecking": _("Testing the connection…"),
        "netGood": _("The video service can be reached."),
        "netRelay": _("The video service can be reached through a relay."),
        "netFailed": _(
            "The video service cannot be reached from this network. A company or "
            "hotel network may block it: try another network or your mobile data."
        ),
        "roundTrip": _("Response time: {ms} ms"),
        "downlink": _("Download speed: {mbps} Mbit/s"),
        "slow": _("The connection is slow: video may stutter. Move closer to the Wi-Fi router."),
        "allGood": _("Everything works. You are ready for your visit."),
        "someFailed": _(
            "Some checks did not pass. You can still join, or fix them and check again."
        ),
        "saved": _("The result was saved: the business can see it before your visit."),
        "notSaved": _("The result could not be saved. You can still join."),
        "again": _("Check again"),
        "continue": _("Continue to the waiting room"),
        "continueAnyway": _("Join anyway"),
    }


def _fix_texts(_: Translate) -> dict[str, str]:
    return {
        "blockedTitle": _("Camera or microphone blocked"),
        "blockedIntro": _("Your browser does not let this page use the camera or microphone."),
        "blocked.chrome": _(
            "Chrome: tap the icon left of the address, open Permissions (or Site settings), "
            "set Camera and Microphone to Allow, then reload the page."
        ),
        "blocked.edge": _(
            "Edge: select the lock left of the address, set Camera and Microphone to Allow, "
            "then reload the page."
        ),
        "blocked.firefox": _(
            "Firefox: select the camera icon in the address bar, remove the block for Camera "
            "and Microphone, then reload the page."
        ),
        "blocked.safari": _(
            "Safari: open Settings for this website (aA on iPhone, Safari menu on a Mac), "
            "set Camera and Microphone to Allow, then reload the page."
        ),
        "blocked.other": _(
            "Open your browser's settings for this site, allow the camera and microphone, "
            "then reload the page."
        ),
        "blockedSystem": _(
            "If it is allowed there and still blocked, your device's own settings may "
            "forbid the browser the camera (Settings, Privacy)."
        ),
        "reload": _("Reload the page"),
        "unsupportedTitle": _("This browser cannot make video calls"),
        "unsupported": _(
            "Open this link in a current version of Chrome, Edge, Firefox or Safari. "
            "On an iPhone or iPad, use Safari."
        ),
        "insecure": _(
            "This page was not opened over a secure connection (https), so the browser keeps "
            "the camera off. Open the link exactly as it was sent to you."
        ),
    }


def _lobby_texts(_: Translate) -> dict[str, str]:
    return {
        "nameMissing": _("Enter your name."),
        "nameTooLong": _("Your name can have at most {max} characters."),
        "nameInvalid": _("Your name cannot contain line breaks, tabs or other control characters."),
        "lobbyTitle": _("Waiting room"),
        "lobbyIntro": _("Please stay on this page. You will be let in to the visit."),
        "yourPlace": _("You are number {position} in line"),
        "estimatedWait": _("Estimated wait: {wait}"),
        "underMinute": _("less than a minute"),
        "provider.ready": _("Your provider will admit you shortly."),
        "provider.away": _("Your provider is away for a moment and will be back soon."),
        "provider.inCall": _("Your provider is with someone else and will admit you next."),
        "providerSays": _("Message from your provider: {message}"),
        "messages": _("Messages"),
        "messageLabel": _("Message to the staff"),
        "send": _("Send"),
        "you": _("You"),
        "staff": _("Staff"),
        "leaveLobby": _("Leave the waiting room"),
        "leftLobby": _("You left the waiting room. Your place is kept until the visit ends."),
        "rejoin": _("Return to the waiting room"),
        "connecting": _("Connecting…"),
        "reconnecting": _("Connection lost. Reconnecting in {seconds} s…"),
        "deniedTitle": _("You were not let in"),
        "denied": _("The business did not admit you to this visit."),
        "endedTitle": _("The visit has ended"),
        "ended": _("Thank you. The visit has ended and you can close this page."),
        "elsewhere": _("This visit is open in another window or on another device."),
        "refused": _("This link no longer works. Please ask the business for a new link."),
        "protocolError": _("Something went wrong. Please reload the page."),
        "busy": _("The server is busy. Trying again shortly…"),
    }


def _call_texts(_: Translate) -> dict[str, str]:
    return {
        "callTitle": _("Your visit"),
        "mute": _("Mute"),
        "unmute": _("Unmute"),
        "cameraOff": _("Turn camera off"),
        "cameraOn": _("Turn camera on"),
        "share": _("Share screen"),
        "stopShare": _("Stop sharing"),
        "chat": _("Chat"),
        "participants": _("People"),
        "devices": _("Devices"),
        "leave": _("Leave"),
        "endForAll": _("End for all"),
        "endConfirm": _("End the visit for everyone?"),
        "muted": _("muted"),
        "cameraIsOff": _("camera off"),
        "sharing": _("sharing screen"),
        "waitingForOthers": _("Waiting for the others to join…"),
        "peerConnecting": _("connecting…"),
        "peerReconnecting": _("reconnecting…"),
        "chatLabel": _("Message"),
        "leftCall": _("You left the visit."),
        "rejoinCall": _("Rejoin the visit"),
        "role.provider": _("Provider"),
        "role.consumer": _("Patient or client"),
        "role.guest": _("Guest"),
    }
