// Hidden tabs wait: a change for a tab in the background is kept, and applied when the tab is
// shown again, once however many changes landed meanwhile (page updates join into one, see
// update.js). Nothing is fetched while hidden.
import { log, what } from './log.js';
import { RELOAD } from './protocol.js';

var waiting = [];
var apply = null;

export function whenShown(message, run) {
  if (document.visibilityState !== 'hidden') return run(message);
  log(what(message) + ', tab hidden: updating when it is shown');
  apply = run;
  waiting.push(message);
}

document.addEventListener('visibilitychange', function () {
  if (document.visibilityState === 'hidden' || !waiting.length) return;
  var kept = waiting;
  waiting = [];
  var reload = kept.find(function (message) {
    return message.type === RELOAD; // one reload covers every swap
  });
  (reload ? [reload] : kept).forEach(apply);
});
