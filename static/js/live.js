// Parts of a page that keep themselves current: an element with data-live-url asks that URL
// every data-live-seconds (a short poll: it works behind any proxy and with WSGI workers,
// where a held-open stream would tie up a worker per page). It sends the version it shows
// (data-live-version, then each answer's "version"): an unchanged part answers 204 at the
// cost of one small query, a changed one JSON {"html", "version", "done", "actions"?}:
//   html     rendered and escaped by the server; replaces the element's content;
//   done     stops the polling (a closed referral never changes again);
//   actions  the actions the server's state machine allows now: any control on the page
//            marked data-action="<name>" whose action is not among them is removed.
// Each change is announced as a "live:update" event on the element (detail: the answer).
// A failed fetch (poor signal) keeps the last content and tries again later, backing off up
// to a minute; a hidden tab does not poll, and asks at once when shown again.
export function initLive() {
  for (const element of document.querySelectorAll("[data-live-url]")) {
    follow(element);
  }
}

function follow(element) {
  const every = Number(element.dataset.liveSeconds || "5") * 1000;
  let version = element.dataset.liveVersion || "";
  let wait = every;
  let timer = null;
  let stopped = element.dataset.liveDone === "true";
  let busy = false; // a request in flight

  const schedule = (delay) => {
    clearTimeout(timer);
    timer = stopped || document.hidden ? null : setTimeout(tick, delay);
  };

  const apply = (data) => {
    if (typeof data.html === "string") element.innerHTML = data.html;
    if (Array.isArray(data.actions)) {
      for (const control of document.querySelectorAll("[data-action]")) {
        if (!data.actions.includes(control.dataset.action)) control.remove();
      }
    }
    element.dispatchEvent(new CustomEvent("live:update", { bubbles: true, detail: data }));
  };

  async function tick() {
    timer = null;
    busy = true;
    try {
      const url = new URL(element.dataset.liveUrl, window.location.href);
      if (version) url.searchParams.set("v", version);
      const response = await fetch(url, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
        cache: "no-store",
      });
      if (response.status !== 204) {
        if (!response.ok) throw new Error(String(response.status));
        const data = await response.json();
        version = data.version || "";
        apply(data);
        if (data.done) stopped = true;
      }
      wait = every;
    } catch {
      wait = Math.min(wait * 2, 60000);
    }
    busy = false;
    schedule(wait);
  }

  document.addEventListener("visibilitychange", () => {
    if (!document.hidden && timer === null && !busy) schedule(0);
  });
  schedule(every);
}
