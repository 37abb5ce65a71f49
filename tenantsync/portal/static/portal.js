// tenantsync portal: the only script. Lists marked data-poll re-fetch their rows while the
// page is open: every 2 s while a run is in progress (a .live row) or just after the page
// loaded (a run just triggered), every 16 s otherwise; forms marked data-confirm ask first.
"use strict";

const POLL_MS = 2000;
const IDLE_EVERY = 8;  // ticks between refreshes when nothing runs
const EAGER_MS = 30000;

function poll(box) {
  const loaded = Date.now();
  let tick = 0;
  const refresh = async () => {
    tick += 1;
    const eager = box.querySelector(".live") || Date.now() - loaded < EAGER_MS;
    if (!eager && tick % IDLE_EVERY) return;
    if (document.hidden || box.contains(document.activeElement)) return;
    try {
      const answer = await fetch(box.dataset.poll, {credentials: "same-origin"});
      if (answer.status === 401) { window.location.assign("/portal/login"); return; }
      if (answer.ok) box.innerHTML = await answer.text();
    } catch (err) { /* the service restarts: try again at the next tick */ }
  };
  setInterval(refresh, POLL_MS);
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-poll]").forEach(poll);
  document.addEventListener("submit", (event) => {
    const question = event.target.dataset && event.target.dataset.confirm;
    if (question && !window.confirm(question)) event.preventDefault();
  });
});
