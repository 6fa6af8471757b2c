/* Behaviour shared by every page. No inline script anywhere (the CSP forbids it):
 * templates opt in with data attributes.
 *   <form data-confirm="Are you sure?">        asks before submitting
 *   <select data-autosubmit>                    submits its form when changed (filters)
 *   <button type="button" data-check-all="SEL"  data-checked="true|false">
 *                                               ticks (or clears) every checkbox matching SEL
 */
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var message = event.target.getAttribute && event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) {
      event.preventDefault();
    }
  });
  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el.hasAttribute && el.hasAttribute("data-autosubmit") && el.form) {
      if (typeof el.form.requestSubmit === "function") { el.form.requestSubmit(); } else { el.form.submit(); }
    }
  });
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-check-all]");
    if (!button) { return; }
    var checked = button.getAttribute("data-checked") !== "false";
    document.querySelectorAll(button.getAttribute("data-check-all")).forEach(function (box) {
      if (box.type === "checkbox" && !box.disabled && box.checked !== checked) {
        box.checked = checked;
        box.dispatchEvent(new Event("change", { bubbles: true }));
      }
    });
  });
})();
