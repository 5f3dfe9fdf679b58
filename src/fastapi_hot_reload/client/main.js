// fastapi-hot-reload browser client: keeps the page current when the server says a file changed.
// Settings come from the script tag: data-boot (server process) and data-rev (changes seen).
// One message switch; each kind of update lives in a module of its own.
import { connect } from './connection.js';
import { log, setState } from './log.js';
import { hideError, showError } from './overlay.js';
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

function swap(message) {
  rev = message.rev; // the page is up to date again, without a reload
  var paths = message.paths || [];
  var found = message.type === 'css' ? swapStylesheets(paths) : refreshImages(paths);
  log(message.type + ' ' + paths.join(', ') + (found ? ' updated in place' : ' not on this page'));
}

function onMessage(message) {
  switch (message.type) {
    case 'hello':
      if (message.boot !== boot) return reload('the server restarted');
      if (message.rev > rev) return reload('a file changed while connecting');
      return setState('connected');
    case 'error':
      return showError(message.error || {});
    case 'reload':
      if (message.rev > rev) reload((message.paths || []).join(', ') + ' changed');
      return;
    case 'css':
    case 'image':
      if (message.rev > rev) swap(message);
      return;
  }
}

var connection = connect(url, onMessage);
window.addEventListener('pageshow', function (event) {
  if (event.persisted) reloading = false;
});
document.addEventListener('keydown', function (event) {
  if (event.key === 'Escape') hideError();
});
