// The documents page works without this: it only says "too large" before the browser
// sends a file the server would refuse unread (and some browsers would show a reset).
(function () {
  "use strict";
  var input = document.getElementById("file");
  var form = document.getElementById("upload-form");
  var message = document.getElementById("file-too-large");
  if (!input || !form || !message) {
    return;
  }
  var limit = Number(input.getAttribute("data-max-bytes"));
  function tooLarge() {
    return input.files.length > 0 && input.files[0].size > limit;
  }
  function check() {
    var refused = tooLarge();
    message.hidden = !refused;
    message.textContent = refused ? input.getAttribute("data-too-large") : "";
    input.setAttribute("aria-invalid", refused ? "true" : "false");
    return refused;
  }
  input.addEventListener("change", check);
  form.addEventListener("submit", function (event) {
    if (check()) {
      event.preventDefault();
      input.focus();
    }
  });
})();
