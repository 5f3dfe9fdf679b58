// What the page tells the developer (console lines) and tests (the readiness signal).

export function log(text) {
  console.info('[hot-reload] ' + text);
}

// document.documentElement.dataset.hotReload: connecting, connected, reconnecting, reloading.
export function setState(value) {
  document.documentElement.dataset.hotReload = value;
}
