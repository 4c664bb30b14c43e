// The NHS design system's components, then our own small behaviours.
import { initAll } from "../vendor/nhsuk/nhsuk-frontend.min.js";
import { initGeolocation } from "./geolocation.js";
import { initLive } from "./live.js";

initAll();
initGeolocation();
initLive();
