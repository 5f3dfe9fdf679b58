// fastapi-hot-reload browser client: keeps the page current when the server says a file changed.
// Settings come from the script tag: data-boot (server process) and data-rev (changes seen).
// One message switch; each kind of update lives in a module of its own.
import { connect } from './connection.js';
import { whenShown } from './hidden.js';
import { log, setState } from './log.js';
import { hideError, showError } from './overlay.js';
import { touches } from './scope.js';
import { refreshImages, swapStylesheets } from './swaps.js';

var tag = document.querySelector('script[data-hot-reload]');
var boot = tag ? tag.dataset.boot : '';
var rev = tag ? Number(tag.dataset.rev) : 0;
var reloading = false;
var url = new URL('../ws', import.meta.url); // beside the client, so prefixes work
url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';

function reload(why) {
  if (reloading) return;
  reloading = true;
  log('reloading: ' + why);
  connection.stop();
  setState('reloading');
  location.reload();
}

function apply(message) {
  var paths = message.paths || [];
  if (message.type === 'reload') return reload(message.why || paths.join(', ') + ' changed');
  var found = message.type === 'css' ? swapStylesheets(paths) : refreshImages(paths);
  log(message.type + ' ' + paths.join(', ') + (found ? ' updated in place' : ' not on this page'));
}

// A change (reload, css, image) newer than the page: the page is up to date with it once it is
// applied, or at once when it does not touch the page; a hidden tab applies it when shown.
function changed(message) {
  if (message.rev <= rev) return;
  rev = message.rev;
  if (message.type === 'reload' && !touches(message)) {
    return log((message.paths || []).join(', ') + ' changed, not used by this page');
  }
  whenShown(message, apply);
}

// hello.missed: the changes since the rev this tab connected with (`?rev=`), when the server
// still remembers them all; without it, a newer rev means the page must update.
function hello(message) {
  setState('connected'); // first: an update it starts says 'reloading' after it
  if (message.boot !== boot) return whenShown(reloadFor('the server restarted'), apply);
  if (message.missed) message.missed.forEach(changed);
  else if (message.rev > rev) whenShown(reloadFor('a file changed while connecting'), apply);
}

function reloadFor(why) {
  return { type: 'reload', why: why };
}

function onMessage(message) {
  switch (message.type) {
    case 'hello':
      return hello(message);
    case 'error':
      return showError(message.error || {});
    case 'reload':
    case 'css':
    case 'image':
      return changed(message);
  }
}

var events = Boolean(tag && 'events' in tag.dataset);
var connection = connect(url, onMessage, events, function () {
  return '?rev=' + rev; // so the server can replay exactly what this tab missed
});
window.addEventListener('pageshow', function (event) {
  if (event.persisted) reloading = false;
});
document.addEventListener('keydown', function (event) {
  if (event.key === 'Escape') hideError();
});
