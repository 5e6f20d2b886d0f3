// Progressive enhancement only: the pages work without it. A form is sent once: its button is
// disabled after the first press (a second press on a slow network would send it again).
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var button = event.target.querySelector("button[type=submit]:not([name])");
    if (button) { window.setTimeout(function () { button.disabled = true; }, 0); }
  });
})();

// The self-install guide (portal/guide.html). After a step, focus goes to the next step's heading, so a
// screen reader reads on where the customer is. The location step posts the browser's geolocation fix with
// its accuracy. The label step's camera reader is scan.js, loaded by that step's page only.
(function () {
  "use strict";
  var step = document.querySelector("[data-focus]");
  if (step && window.location.search.indexOf("msg=") !== -1) { step.focus(); }

  var locate = document.querySelector("form[data-locate]");
  if (locate) {
    var failed = locate.querySelector("[data-locate-failed]");
    if (navigator.geolocation) { failed.hidden = true; }
    locate.addEventListener("submit", function (event) {
      if (locate.elements.lat.value) { return; }
      event.preventDefault();
      if (!navigator.geolocation) { failed.hidden = false; return; }
      navigator.geolocation.getCurrentPosition(function (position) {
        locate.elements.lat.value = position.coords.latitude;
        locate.elements.lon.value = position.coords.longitude;
        locate.elements.accuracy_m.value = position.coords.accuracy;
        locate.submit();
      }, function () { failed.hidden = false; failed.focus(); }, { enableHighAccuracy: true, timeout: 30000 });
    });
  }
})();
