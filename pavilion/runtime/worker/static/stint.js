/* The worker's own token in this browser's storage: the live page keeps it, and a reload of the task link that
   brings no cookie (a page framed by the platform gets no SameSite=Lax cookie) resumes with it. Without it the
   resume page just says the place is open elsewhere: link parameters alone never reach a present stint. */
(function () {
  "use strict";
  var stint = document.querySelector('meta[name="pavilion-stint"]');
  if (!stint) { return; }
  var key = "pavilion-stint-" + stint.content;
  var token = document.querySelector('meta[name="pavilion-token"]');
  var live = stint.getAttribute("data-live-url");
  try {
    if (token) {
      window.localStorage.setItem(key, token.content);
      return;
    }
    var kept = window.localStorage.getItem(key);
    if (kept && live) {
      window.location.replace(live + "?token=" + encodeURIComponent(kept));
    }
  } catch (e) {
    /* storage blocked (private mode, policy): the page's message stands */
  }
}());
