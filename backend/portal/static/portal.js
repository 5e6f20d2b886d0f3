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
// its accuracy; the label step reads the QR with the camera where the browser has a BarcodeDetector
// (typing the printed code always works).
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

  var scanner = document.querySelector("[data-scan]");
  if (scanner && "BarcodeDetector" in window && navigator.mediaDevices) {
    scanner.hidden = false;
    scanner.querySelector("[data-scan-start]").addEventListener("click", function () {
      var video = scanner.querySelector("video");
      var detector = new window.BarcodeDetector({ formats: ["qr_code"] });
      navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } }).then(function (stream) {
        video.srcObject = stream;
        video.play();
        var look = function () {
          detector.detect(video).then(function (codes) {
            if (!codes.length) { window.requestAnimationFrame(look); return; }
            stream.getTracks().forEach(function (track) { track.stop(); });
            var form = scanner.nextElementSibling;
            form.elements.payload.value = codes[0].rawValue;
            form.submit();
          }, function () { window.requestAnimationFrame(look); });
        };
        look();
      }, function () { scanner.hidden = true; });
    });
  }
})();
