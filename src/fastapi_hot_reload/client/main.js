// fastapi-hot-reload browser client: keeps the page current when the server says a file changed.
// Settings come from the script tag: data-boot (server process) and data-rev (changes seen).
// One message switch; each kind of update lives in a module of its own.
import { connect } from './connection.js';
import { whenShown } from './hidden.js';
import { log, setState, what } from './log.js';
import { hideError, showError } from './overlay.js';
import { touches } from './scope.js';
import { refreshImages, swapStylesheets } from './swaps.js';
import { reload, update } from './update.js';

var tag = document.querySelector('script[data-hot-reload]');
var boot = tag ? tag.dataset.boot : '';
var rev = tag ? Number(tag.dataset.rev) : 0;
var url = new URL('../ws', import.meta.url); // beside the client, so prefixes work
url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';

function apply(message) {
  var paths = message.paths || [];
  if (message.type === 'reload') return reload(what(message));
  if (message.type === 'page') {
    // Templates changed (and maybe stylesheets or images, swapped here too): fetch and morph.
    swapStylesheets(paths);
    refreshImages(paths);
    hideError(); // a good change: the error it showed is fixed
    return update(what(message));
  }
  var found = message.type === 'css' ? swapStylesheets(paths) : refreshImages(paths);
  log(message.type + ' ' + paths.join(', ') + (found ? ' updated in place' : ' not on this page'));
}

// A change newer than the page: the page is up to date with it once it is applied, or at once
// when it does not touch the page; a hidden tab applies it when shown.
function changed(message) {
  if (message.rev <= rev) return;
  rev = message.rev;
  if (!touches(message)) return log(what(message) + ', not used by this page');
  whenShown(message, apply);
}

// hello.missed: the changes since the rev this tab connected with (`?rev=`), when the server
// still remembers them all; without it, a newer rev means the page must update.
function hello(message) {
  setState('connected'); // first: an update it starts says 'morphing' or 'reloading' after it
  if (message.boot !== boot) {
    boot = message.boot; // a new server: its revs count from its start
    rev = message.rev;
    return whenShown({ type: 'page', why: 'the server restarted' }, apply);
  }
  if (message.missed) message.missed.forEach(changed);
  else if (message.rev > rev) {
    // Which file is unknown (a script, say): reload, as for any file but a template.
    whenShown({ type: 'reload', why: 'a file changed while connecting' }, apply);
  }
}

function onMessage(message) {
  switch (message.type) {
    case 'hello':
      return hello(message);
    case 'error':
      return showError(message.error || {});
    case 'page':
    case 'reload':
    case 'css':
    case 'image':
      return changed(message);
  }
}

connect(url, onMessage, Boolean(tag && 'events' in tag.dataset), function () {
  return '?rev=' + rev; // so the server can replay exactly what this tab missed
});
document.addEventListener('keydown', function (event) {
  if (event.key === 'Escape') hideError();
});
