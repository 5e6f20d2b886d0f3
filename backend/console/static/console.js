// Keyboard shortcuts for the three decisions and the lease countdown. No dependencies.
(function () {
  "use strict";
  var form = document.querySelector("form.decide");
  var codes = form ? JSON.parse(form.getAttribute("data-codes")) : {};
  function choose(outcome) {
    if (!form) return;
    var radio = form.querySelector('input[name="outcome"][value="' + outcome + '"]');
    if (!radio) return;
    radio.checked = true;
    fillCodes(outcome);
    form.querySelector('select[name="reason_code"]').focus();
  }
  function fillCodes(outcome) {
    var select = form.querySelector('select[name="reason_code"]');
    select.innerHTML = "";
    (codes[outcome] || []).forEach(function (pair) {  // [code, its words in the reader's language]
      var option = document.createElement("option");
      option.value = pair[0]; option.textContent = pair[1];
      select.appendChild(option);
    });
  }
  if (form) {
    form.addEventListener("change", function (event) {
      if (event.target.name === "outcome") fillCodes(event.target.value);
    });
    var checked = form.querySelector('input[name="outcome"]:checked');
    if (checked) fillCodes(checked.value);
  }
  document.addEventListener("keydown", function (event) {
    var typing = /^(INPUT|TEXTAREA|SELECT)$/.test(event.target.tagName);
    if (form && event.ctrlKey && event.key === "Enter") { form.requestSubmit(); return; }
    if (typing || event.altKey || event.ctrlKey || event.metaKey) return;
    if (event.key === "a") choose("approve");
    if (event.key === "r") choose("reject");
    if (event.key === "i") choose("request_info");
  });
  var lease = document.querySelector("[data-lease-expires]");
  if (lease) {
    var until = Date.parse(lease.getAttribute("data-lease-expires"));
    var tick = function () {
      var left = Math.max(0, Math.round((until - Date.now()) / 1000));
      lease.textContent = Math.floor(left / 60) + ":" + String(left % 60).padStart(2, "0");
      if (left === 0) lease.classList.add("overdue");
    };
    tick(); setInterval(tick, 1000);
  }
})();
