// The guide's label step (portal/guide.html): read the QR from the phone's camera into the typed-code form,
// which stays the fallback. The reader is the browser's BarcodeDetector where it has one; otherwise zxing-cpp
// built to WebAssembly (zxing-wasm, vendor/zxing-wasm, served by this app), fetched only when the customer
// presses the button: about 1 MB that no page carries before then. The page names the reader's two files
// (data-reader, data-wasm) by their content-hashed URLs, which browsers keep for good (backend/static_files.py).
(function () {
  "use strict";
  var scanner = document.querySelector("[data-scan]");
  if (!scanner || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) { return; }
  var form = document.querySelector("form[data-scan-form]");
  var video = scanner.querySelector("video");
  var status = scanner.querySelector("[data-scan-status]");
  var failed = scanner.querySelector("[data-scan-failed]");
  var stream = null;
  scanner.hidden = false;

  // Each reader is a function from the playing video to a promise of the QR's text (null: none in this frame).
  function nativeReader() {
    var detector = new window.BarcodeDetector({ formats: ["qr_code"] });
    return Promise.resolve(function (source) {
      return detector.detect(source).then(function (codes) { return codes.length ? codes[0].rawValue : null; });
    });
  }

  function wasmReader() {
    return script(scanner.dataset.reader).then(function () {
      var zxing = window.ZXingWASM;
      var canvas = document.createElement("canvas");
      var context = canvas.getContext("2d", { willReadFrequently: true });
      var options = { formats: ["QRCode"], maxNumberOfSymbols: 1 };
      var read = function (source) {
        canvas.width = source.videoWidth;
        canvas.height = source.videoHeight;
        context.drawImage(source, 0, 0);
        var frame = context.getImageData(0, 0, canvas.width, canvas.height);
        return zxing.readBarcodes(frame, options).then(function (found) {
          return found.length && found[0].isValid ? found[0].text : null;
        });
      };
      // The .wasm from this app, not the package's default CDN; compiled now, so a failure shows before scanning.
      var located = { locateFile: function (path, prefix) { return /\.wasm$/.test(path) ? scanner.dataset.wasm : prefix + path; } };
      return zxing.prepareZXingModule({ overrides: located, fireImmediately: true }).then(function () { return read; });
    });
  }

  function script(src) {
    return new Promise(function (resolve, reject) {
      var tag = document.createElement("script");
      tag.src = src;
      tag.onload = resolve;
      tag.onerror = reject;
      document.head.appendChild(tag);
    });
  }

  function firstCode(read) {
    return new Promise(function (resolve, reject) {
      var look = function () {
        read(video).then(function (text) {
          if (text) { resolve(text); } else { window.requestAnimationFrame(look); }
        }, reject);
      };
      look();
    });
  }

  function stop() {
    if (stream) { stream.getTracks().forEach(function (track) { track.stop(); }); }
  }

  scanner.querySelector("[data-scan-start]").addEventListener("click", function (event) {
    event.currentTarget.disabled = true;
    failed.hidden = true;
    status.textContent = status.getAttribute("data-starting");
    // The camera first: where it is refused or missing, the reader is never fetched.
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false }).then(function (media) {
      stream = media;
      video.srcObject = media;
      return Promise.all([video.play(), "BarcodeDetector" in window ? nativeReader() : wasmReader()]);
    }).then(function (started) {
      status.textContent = status.getAttribute("data-scanning");
      return firstCode(started[1]);
    }).then(function (text) {
      stop();
      form.elements.payload.value = text;
      form.submit();
    }, function () {
      stop();
      status.textContent = "";
      video.hidden = true;
      failed.hidden = false;
      failed.focus();
    });
  });
})();
