// Tenderflow's own script: the print buttons (no inline handlers, so that the pages'
// Content-Security-Policy can forbid inline script).
document.addEventListener("click", function (e) {
  var button = e.target.closest && e.target.closest("[data-print]");
  if (button) {
    window.print();
  }
});
