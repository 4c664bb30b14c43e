// Parts of a page that keep themselves current: an element with data-live-url is refreshed
// from that URL every data-live-seconds. The URL answers JSON {"html": "...", "done": bool}:
// the html (rendered and escaped by the server) replaces the element's content, and "done"
// stops the polling (a closed referral never changes again). A failed fetch (poor signal)
// keeps the last content and tries again later, backing off up to a minute.
export function initLive() {
  for (const element of document.querySelectorAll("[data-live-url]")) {
    follow(element);
  }
}

function follow(element) {
  const url = element.dataset.liveUrl;
  const every = Number(element.dataset.liveSeconds || "5") * 1000;
  let wait = every;
  let last = null;

  const tick = async () => {
    try {
      const response = await fetch(url, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
        cache: "no-store",
      });
      if (!response.ok) throw new Error(String(response.status));
      const data = await response.json();
      if (data.html !== last) {
        element.innerHTML = data.html;
        last = data.html;
      }
      wait = every;
      if (data.done) return;
    } catch {
      wait = Math.min(wait * 2, 60000);
    }
    setTimeout(tick, wait);
  };
  if (element.dataset.liveDone !== "true") setTimeout(tick, every);
}
