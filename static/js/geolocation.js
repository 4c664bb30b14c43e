// "Use my location" on the search page: the device's position fills the form's hidden lat
// and lon fields and the form is sent. Whatever goes wrong (no geolocation, permission
// denied, no fix, a prompt nobody answers) ends within WAIT_MS with a message and the
// postcode field focused, so the crew is never left waiting on a spinner.
const WAIT_MS = 8000;
// A fix a few minutes old is still the same street for a crew standing on scene; a coarse
// (network) fix comes in a second or two where waiting for GPS can take half a minute.
const OPTIONS = { enableHighAccuracy: false, timeout: WAIT_MS - 1000, maximumAge: 300000 };

const MESSAGES = {
  unsupported: "This device cannot share its location. Enter the postcode instead.",
  denied: "Location is turned off for this site. Enter the postcode instead.",
  unavailable: "Your location could not be found. Enter the postcode instead.",
  timeout: "Finding your location took too long. Enter the postcode instead.",
};

export function initGeolocation() {
  const button = document.querySelector("[data-use-location]");
  if (!button) return;
  const form = button.closest("form");
  const { lat, lon, postcode } = form.elements;
  const status = document.getElementById("location-status");
  const say = (text) => {
    if (status) status.textContent = text;
  };
  let pending = null; // the watchdog of the request in flight

  const giveUp = (reason) => {
    clearTimeout(pending);
    pending = null;
    button.disabled = false;
    say(MESSAGES[reason]);
    postcode.focus();
  };

  const found = (position) => {
    if (pending === null) return; // already given up: the crew is typing a postcode
    clearTimeout(pending);
    pending = null;
    lat.value = position.coords.latitude.toFixed(5);
    lon.value = position.coords.longitude.toFixed(5);
    postcode.value = "";
    say("Location found. Searching…");
    form.submit();
  };

  const failed = (error) => {
    if (pending === null) return;
    const reason = { 1: "denied", 2: "unavailable", 3: "timeout" }[error && error.code];
    giveUp(reason || "unavailable");
  };

  button.hidden = false;
  button.addEventListener("click", (event) => {
    event.preventDefault();
    if (!("geolocation" in navigator)) {
      giveUp("unsupported");
      return;
    }
    say("Finding your location…");
    button.disabled = true;
    // The API's own timeout does not count the time a permission prompt stays open.
    pending = setTimeout(() => giveUp("timeout"), WAIT_MS);
    try {
      navigator.geolocation.getCurrentPosition(found, failed, OPTIONS);
    } catch {
      giveUp("unavailable");
    }
  });

  // A typed postcode wins over an earlier position.
  postcode.addEventListener("input", () => {
    lat.value = "";
    lon.value = "";
  });
}
