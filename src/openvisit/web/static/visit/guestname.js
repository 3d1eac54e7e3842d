// A guest names themselves before joining: the same rule the server applies
// (meetings/guest_names.py: trimmed, 1-80 characters, no control characters). The name
// is kept for this tab (sessionStorage), so a reload goes straight on.
import { byId, config, show, t, text } from "./util.js";

const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

function storageKey() {
  return `openvisit.guestName:${config().join}`;
}

// The name this tab gave before, or null.
export function rememberedName() {
  try {
    return sessionStorage.getItem(storageKey());
  } catch (error) {
    return null; // storage refused (private mode): ask again
  }
}

function remember(name) {
  try {
    sessionStorage.setItem(storageKey(), name);
  } catch (error) {
    // Not kept: a reload asks again, prefilled with the name the server stored.
  }
}

// Why `name` (trimmed) is no name, or "" when it is one.
export function nameProblem(name) {
  const max = Number(byId("guest-name").maxLength) || 80;
  if (!name) {
    return t("nameMissing");
  }
  if ([...name].length > max) {
    return t("nameTooLong", { max });
  }
  return CONTROL.test(name) ? t("nameInvalid") : "";
}

// Show the prompt; onNamed(name) once a good name is given.
export function askName(onNamed) {
  const stage = byId("stage-name");
  const input = byId("guest-name");
  const error = byId("guest-name-error");
  document.body.dataset.stage = "name";
  show(stage, true);
  input.focus();
  byId("name-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const name = input.value.trim();
    const problem = nameProblem(name);
    text(error, problem);
    show(error, Boolean(problem));
    if (problem) {
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("aria-describedby", "guest-name-error guest-name-hint");
      input.focus();
      return;
    }
    input.removeAttribute("aria-invalid");
    input.setAttribute("aria-describedby", "guest-name-hint");
    remember(name);
    show(stage, false);
    onNamed(name);
  });
}
