// Progressive enhancement only: the pages work without it. A form is sent once: its button is
// disabled after the first press (a second press on a slow network would send it again).
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var button = event.target.querySelector("button[type=submit]:not([name])");
    if (button) { window.setTimeout(function () { button.disabled = true; }, 0); }
  });
})();
