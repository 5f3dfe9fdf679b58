// What the page tells the developer (console lines) and tests (the readiness signal).

export function log(text) {
  console.info('[hot-reload] ' + text);
}

// What a change message is about: `a.html, b.css changed`, or its own `why`.
export function what(message) {
  return message.why || (message.paths || []).join(', ') + ' changed';
}

// document.documentElement.dataset.hotReload: connecting, connected, reconnecting,
// morphing, reloading.
export function setState(value) {
  document.documentElement.dataset.hotReload = value;
}
