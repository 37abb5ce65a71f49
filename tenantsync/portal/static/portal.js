// tenantsync portal: the only script. Lists marked data-poll re-fetch their rows while the
// page is open (a run's progress shows without reloading); forms marked data-confirm ask first.
"use strict";

const POLL_MS = 2000;

function poll(box) {
  const refresh = async () => {
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
