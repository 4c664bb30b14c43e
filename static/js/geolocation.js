// "Use my location" on the search page: the browser's position fills the hidden latitude and
// longitude fields and the form is sent. Without JavaScript or geolocation the button stays
// hidden and the postcode field does the job.
export function initGeolocation() {
  const button = document.querySelector("[data-use-location]");
  if (!button || !("geolocation" in navigator)) return;
  const form = button.closest("form");
  const status = document.getElementById("location-status");
  const say = (text) => {
    if (status) status.textContent = text;
  };
  button.hidden = false;
  button.addEventListener("click", (event) => {
    event.preventDefault();
    say("Finding your location…");
    button.disabled = true;
    navigator.geolocation.getCurrentPosition(
      (position) => {
        form.elements.latitude.value = position.coords.latitude.toFixed(5);
        form.elements.longitude.value = position.coords.longitude.toFixed(5);
        form.elements.postcode.value = "";
        say("Location found. Searching…");
        form.submit();
      },
      () => {
        button.disabled = false;
        say("Your location could not be found. Enter a postcode instead.");
      },
      { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 },
    );
  });
  // A typed postcode wins over an earlier position.
  form.elements.postcode.addEventListener("input", () => {
    form.elements.latitude.value = "";
    form.elements.longitude.value = "";
  });
}
