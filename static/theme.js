// Applies the saved theme before the first paint (loaded, blocking, from <head>).
// "system" follows prefers-color-scheme (static/app.css); static/js/theme.js changes it.
(function () {
  let theme = "system";
  try {
    theme = localStorage.getItem("sysmon.theme") || "system";
  } catch (_err) {
    // storage disabled: follow the system
  }
  document.documentElement.dataset.theme = theme;
})();
