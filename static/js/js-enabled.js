// Runs first in <body>, before paint: tells the NHS design system's CSS that JavaScript is
// on (the design system's own inline snippet, moved to a file for the Content-Security-Policy).
document.body.classList.add("js-enabled");
if ("noModule" in HTMLScriptElement.prototype) {
  document.body.classList.add("nhsuk-frontend-supported");
}
