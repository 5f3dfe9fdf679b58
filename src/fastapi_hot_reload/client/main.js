// fastapi-hot-reload browser client: keeps the page current when the server says a file changed.
// Settings come from the script tag: data-boot (server process) and data-rev (changes seen).
// One message switch; each kind of update lives in a module of its own.
import { connect } from './connection.js';
import { log, setState } from './log.js';
import { hideError, showError } from './overlay.js';
import { refreshImages, swapStylesheets } from './swaps.js';
import { reload, update } from './update.js';

var tag = document.querySelector('script[data-hot-reload]');
var boot = tag ? tag.dataset.boot : '';
var rev = tag ? Number(tag.dataset.rev) : 0;
var url = new URL('../ws', import.meta.url); // beside the client, so prefixes work
url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';

// The page was rendered for an older rev (or by an older server): fetch it again and morph.
function refresh(message, why) {
  boot = message.boot || boot;
  rev = message.rev;
  hideError(); // a good change: the error it showed is fixed
  return update(why);
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
      setState('connected');
      if (message.boot !== boot) return refresh(message, 'the server restarted');
      // Which file is unknown (a script, say): reload, as for any file but a template.
      if (message.rev > rev) return reload('a file changed while connecting');
      return;
    case 'error':
      return showError(message.error || {});
    case 'page': // templates changed (and maybe stylesheets or images, swapped here too)
      if (message.rev > rev) {
        swapStylesheets(message.paths || []);
        refreshImages(message.paths || []);
        refresh(message, (message.paths || []).join(', ') + ' changed');
      }
      return;
    case 'reload':
      if (message.rev > rev) reload((message.paths || []).join(', ') + ' changed');
      return;
    case 'css':
    case 'image':
      if (message.rev > rev) swap(message);
      return;
  }
}

connect(url, onMessage, Boolean(tag && 'events' in tag.dataset));
document.addEventListener('keydown', function (event) {
  if (event.key === 'Escape') hideError();
});
