// The inbox's cue that a referral has arrived, whatever keeps the inbox current: the number
// of unanswered referrals in the tab's title ("(2) Inbox"), and, only if the partner switches
// it on, a short beep. The beep is made with WebAudio, so there is no sound file to fetch.
// It reads the count from the element carrying data-unanswered inside #inbox-live.
const STORE = "frontdoor.inbox.sound";
let audio = null;

function soundOn() {
  try {
    return window.localStorage.getItem(STORE) === "on";
  } catch {
    return false; // storage blocked: the sound stays off, as by default
  }
}

function remember(on) {
  try {
    window.localStorage.setItem(STORE, on ? "on" : "off");
  } catch {
    // storage blocked: the choice lasts for this page only
  }
}

function context() {
  const Context = window.AudioContext || window.webkitAudioContext;
  if (!Context) return null;
  audio = audio || new Context();
  // Browsers start audio suspended until the user does something on the page.
  if (audio.state === "suspended") audio.resume().catch(() => {});
  return audio;
}

function beep() {
  const ctx = context();
  if (!ctx) return;
  const start = ctx.currentTime;
  const tone = ctx.createOscillator();
  const volume = ctx.createGain();
  tone.type = "sine";
  tone.frequency.value = 880;
  // Two short pips, faded in and out so they do not click.
  volume.gain.setValueAtTime(0.0001, start);
  for (const at of [0, 0.25]) {
    volume.gain.exponentialRampToValueAtTime(0.3, start + at + 0.02);
    volume.gain.exponentialRampToValueAtTime(0.0001, start + at + 0.18);
  }
  tone.connect(volume).connect(ctx.destination);
  tone.start(start);
  tone.stop(start + 0.5);
}

export function initInboxCue() {
  const live = document.getElementById("inbox-live");
  if (!live) return;
  const title = document.title.replace(/^\(\d+\) /, "");
  const count = () => {
    const element = live.querySelector("[data-unanswered]");
    return element ? Number(element.dataset.unanswered) || 0 : 0;
  };
  const show = (n) => {
    document.title = n > 0 ? `(${n}) ${title}` : title;
  };

  const control = document.getElementById("inbox-sound-control");
  const toggle = document.getElementById("inbox-sound");
  if (control && toggle) {
    control.hidden = false; // no script, no sound: the switch only shows when it can work
    toggle.checked = soundOn();
    toggle.addEventListener("change", () => {
      remember(toggle.checked);
      if (toggle.checked) context(); // a click may start audio: ready it now
    });
  }

  let last = count();
  show(last);
  new MutationObserver(() => {
    const now = count();
    if (now === last) return;
    if (now > last && soundOn()) beep();
    last = now;
    show(now);
  }).observe(live, {
    childList: true,
    subtree: true,
    attributes: true,
    attributeFilter: ["data-unanswered"],
  });
}

initInboxCue();
