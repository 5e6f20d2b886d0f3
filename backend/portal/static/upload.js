// A photo form with JavaScript: the guide's photo step (portal/guide.html) and the extra photo a specialist
// asks for (portal/install.html). The form's data attributes name the upload (data-upload: where it is
// created, data-install and data-slot, data-chunk); the chosen photo goes in chunks through the portal's
// resumable upload (backend/portal/uploads.py, the IETF draft's requests), so a dropped connection in a meter
// cabinet costs a chunk, not the photo. After a failed request the script asks the server how much
// it holds and continues from there, waiting longer each time, a bounded number of times, and says so in the
// live region. The upload's address is kept in sessionStorage per install, slot and file, so after a reload
// choosing the same photo continues it. When the last chunk is in, the script opens the page the server names
// (the one the form path redirects to: the guide with the photo's checks, or the install's page saying the
// answer is in). Without JavaScript, the form posts the photo in one go.
(function () {
  "use strict";
  var form = document.querySelector("form[data-upload]");
  if (!form || !window.XMLHttpRequest || !window.sessionStorage || !window.Promise) { return; }
  var TRIES = 6; // failed requests in a row before the customer is asked to press again
  var FIRST_WAIT_MS = 1000;
  var LONGEST_WAIT_MS = 15000;
  // A connection can die without a word (a half-open one in a basement): a request that sends no byte for
  // this long, or whose answer does not come, is given up and the server asked where it is.
  var SILENCE_MS = 30000;
  var CHECKS_MS = 120000; // the last chunk's answer comes after the photo's checks
  var chunk = parseInt(form.getAttribute("data-chunk"), 10);
  var status = form.querySelector("[data-upload-status]");
  var said = form.querySelector("[data-upload-said]");
  var bar = form.querySelector("[data-upload-bar]");
  var button = form.querySelector("button[type=submit]");
  var token = form.elements._csrf_token.value;

  function say(name, values) {
    said.textContent = status.getAttribute("data-" + name).replace(/\{(\w+)\}/g, function (_, key) {
      return values[key];
    });
  }

  // A file the browser knows no type for (a HEIC on many Android phones): its name says what it claims to be;
  // the server checks the bytes (guide.py's _photo_type, the same table, for the form without script).
  var TYPE_BY_SUFFIX = { jpg: "image/jpeg", jpeg: "image/jpeg", png: "image/png", heic: "image/heic", heif: "image/heif" };
  function suffix(name) { return name.indexOf(".") < 0 ? "" : name.split(".").pop().toLowerCase(); }

  function percent(done, size) { return size ? Math.floor(100 * done / size) : 100; }

  function shown(done, size) {
    bar.hidden = false;
    bar.value = percent(done, size);
  }

  // One request on the portal's session: the cookie, the CSRF token in its header, the page's language
  // (a refusal's words). Resolves with the finished request; rejects when no answer came: after an error,
  // SILENCE_MS without a byte sent, or `patience` ms for the answer once the body is out.
  function ask(method, url, headers, body, progress, patience) {
    return new Promise(function (resolve, reject) {
      var xhr = new XMLHttpRequest();
      var watchdog = null;
      var watch = function (ms) {
        window.clearTimeout(watchdog);
        watchdog = window.setTimeout(function () { xhr.abort(); }, ms);
      };
      xhr.open(method, url);
      xhr.setRequestHeader("X-CSRFToken", token);
      xhr.setRequestHeader("Accept-Language", document.documentElement.lang);
      xhr.setRequestHeader("Accept", "application/problem+json, application/json"); // a refusal's words as data
      Object.keys(headers).forEach(function (name) { xhr.setRequestHeader(name, headers[name]); });
      xhr.upload.onprogress = function (event) {
        watch(SILENCE_MS);
        if (progress) { progress(event.loaded); }
      };
      xhr.upload.onload = function () { watch(patience || SILENCE_MS); };
      xhr.onload = function () { window.clearTimeout(watchdog); resolve(xhr); };
      xhr.onerror = xhr.onabort = function () { window.clearTimeout(watchdog); reject(new Error("no answer")); };
      watch(body && body.size ? SILENCE_MS : patience || SILENCE_MS); // an empty body sends no progress
      xhr.send(body);
    });
  }

  // Worth another try: no answer, the server's bad day, a timeout, a limit for now.
  function passing(xhr) { return xhr.status >= 500 || xhr.status === 408 || xhr.status === 429; }

  function wait(ms) { return new Promise(function (resolve) { window.setTimeout(resolve, ms); }); }

  // The wait before trying again; while the phone says it is offline, until it is online again (no try is
  // spent on a request that cannot leave the phone).
  function back(ms) {
    return wait(ms).then(function () {
      if (navigator.onLine !== false) { return null; }
      say("offline", {});
      return new Promise(function (resolve) { window.addEventListener("online", resolve, { once: true }); });
    });
  }

  function Refused(xhr) { this.xhr = xhr; }
  function Gone() {}

  function refusal(xhr) {
    try { return JSON.parse(xhr.responseText).detail; } catch (e) { return ""; }
  }

  // The upload of one file, continued from wherever the server is.
  function Upload(file) {
    this.file = file;
    this.key = ["si-upload", form.getAttribute("data-install"), form.getAttribute("data-slot"),
      file.name, file.size, file.lastModified].join("|");
    this.url = window.sessionStorage.getItem(this.key);
    this.offset = 0;
    this.known = !this.url; // a stored upload's offset is asked first
  }

  Upload.prototype.create = function () {
    var self = this;
    var headers = { "Content-Type": self.file.type || TYPE_BY_SUFFIX[suffix(self.file.name)] || "application/octet-stream",
      "Upload-Length": String(self.file.size), "Upload-Complete": "?0" };
    return ask("POST", form.getAttribute("data-upload"), headers, null).then(function (xhr) {
      if (xhr.status !== 201) { throw passing(xhr) ? new Error("again") : new Refused(xhr); }
      self.url = xhr.getResponseHeader("Location");
      self.offset = 0;
      self.known = true;
      window.sessionStorage.setItem(self.key, self.url);
    });
  };

  // Where the server is (HEAD); the outcome's page if the photo was made but its answer got lost.
  Upload.prototype.ask = function () {
    var self = this;
    return ask("HEAD", self.url, {}, null).then(function (xhr) {
      if (xhr.status === 404) { throw new Gone(); }
      if (xhr.status !== 204) { throw passing(xhr) ? new Error("again") : new Refused(xhr); }
      self.offset = parseInt(xhr.getResponseHeader("Upload-Offset"), 10);
      self.known = true;
      say("resuming", { percent: percent(self.offset, self.file.size) });
      shown(self.offset, self.file.size);
      return xhr.getResponseHeader("Page-Location");
    });
  };

  // The next chunk (the last carries Upload-Complete: ?1); the outcome's page once the photo is made.
  Upload.prototype.append = function () {
    var self = this;
    var size = self.file.size;
    var end = Math.min(self.offset + chunk, size);
    var headers = { "Content-Type": "application/partial-upload", "Upload-Offset": String(self.offset),
      "Upload-Complete": end === size ? "?1" : "?0" };
    var start = self.offset;
    return ask("PATCH", self.url, headers, self.file.slice(start, end), function (loaded) {
      shown(start + loaded, size);
      if (start + loaded === size) { say("checking", {}); } // the last answer comes after the checks
    }, end === size ? CHECKS_MS : SILENCE_MS).then(function (xhr) {
      if (xhr.status === 204) {
        self.offset = parseInt(xhr.getResponseHeader("Upload-Offset"), 10);
        say("sending", { percent: percent(self.offset, size) });
        return null;
      }
      if (xhr.status === 200 || xhr.status === 201) { return JSON.parse(xhr.responseText).page; }
      if (xhr.status === 409 && xhr.getResponseHeader("Upload-Offset") !== null) {
        self.offset = parseInt(xhr.getResponseHeader("Upload-Offset"), 10); // the server holds more (or less)
        return null;
      }
      if (xhr.status === 404) { throw new Gone(); }
      throw passing(xhr) ? new Error("again") : new Refused(xhr);
    });
  };

  Upload.prototype.step = function () {
    if (!this.url) { return this.create().then(function () { return null; }); }
    if (!this.known) { return this.ask(); }
    return this.append();
  };

  // Steps until the photo is made; failures in a row wait longer each time, up to TRIES of them.
  Upload.prototype.run = function (failures) {
    var self = this;
    return self.step().then(function (page) {
      if (page) { return page; }
      return self.run(0);
    }, function (error) {
      if (error instanceof Refused) { throw error; }
      if (error instanceof Gone) { // expired or cancelled: the photo starts again, once
        window.sessionStorage.removeItem(self.key);
        if (self.restarted) { throw new Refused(null); }
        self.restarted = true;
        self.url = null;
        return self.run(failures);
      }
      if (failures + 1 >= TRIES) { throw error; }
      say("retrying", { attempt: failures + 2, tries: TRIES });
      self.known = !self.url; // what the server holds is asked before the next chunk
      return back(Math.min(FIRST_WAIT_MS * Math.pow(2, failures), LONGEST_WAIT_MS)).then(function () {
        return self.run(failures + 1);
      });
    });
  };

  form.addEventListener("submit", function (event) {
    var file = form.elements.photo.files[0];
    if (!file) { return; }
    event.preventDefault();
    button.disabled = true;
    var upload = new Upload(file);
    say("sending", { percent: 0 });
    shown(0, file.size);
    upload.run(0).then(function (page) {
      window.sessionStorage.removeItem(upload.key);
      window.location.assign(page);
    }, function (error) {
      button.disabled = false;
      if (error instanceof Refused) { // the server said no in words: a new photo is needed, not a retry
        window.sessionStorage.removeItem(upload.key);
        bar.hidden = true;
        said.textContent = (error.xhr && refusal(error.xhr)) || status.getAttribute("data-stopped");
        return;
      }
      say("stopped", {});
    });
  });
})();
