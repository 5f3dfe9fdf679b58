import { log } from './log.js';
import { shadowHost } from './shadow.js';

// The error overlay, in a shadow root (shadow.js); every text goes in through textContent, so
// markup in an error is shown as text.
var overlay = null;

function element(parent, tag, text, className) {
  var node = document.createElement(tag);
  if (text) node.textContent = text;
  if (className) node.className = className;
  parent.appendChild(node);
  return node;
}

export function hideError() {
  if (overlay) overlay.remove();
  overlay = null;
}

export function showError(error) {
  hideError();
  var where = error.file ? error.file + (error.line ? ':' + error.line : '') : '';
  log('template error, not reloading: ' + error.message + (where ? ' (' + where + ')' : ''));
  var shadow = shadowHost('hot-reload-error', OVERLAY_STYLE);
  overlay = shadow.host;
  var box = element(shadow, 'div', '', 'box');
  box.setAttribute('role', 'alert');
  element(box, 'h2', error.message || 'Template error');
  if (where) {
    var place = element(box, 'p', '', 'where');
    var link = element(place, error.editor ? 'a' : 'span', where);
    if (error.editor) {
      link.href = error.editor; // from the server's editor option: opens the file at the line
      link.title = 'Open in your editor';
    }
  }
  var source = element(box, 'pre', '', 'source');
  (error.source || []).forEach(function (entry) {
    var text = String(entry[0]).padStart(5) + '  ' + entry[1];
    element(source, 'span', text, entry[0] === error.line ? 'hit' : '');
  });
  element(box, 'p', 'Fix the file and save: the page reloads by itself.', 'hint');
  var close = element(box, 'button', '\u00d7', 'close');
  close.setAttribute('aria-label', 'Dismiss');
  close.addEventListener('click', hideError);
}

var OVERLAY_STYLE =
  ':host{position:fixed;inset:0;z-index:2147483647;background:rgba(0,0,0,.45);' +
  'display:flex;align-items:flex-start;justify-content:center;padding-top:10vh}' +
  '.box{position:relative;max-width:min(60rem,92vw);max-height:75vh;overflow:auto;' +
  'background:#fff;color:#1d1d1f;border-top:6px solid #b00020;border-radius:6px;' +
  'padding:1rem 1.5rem;font:15px/1.5 system-ui,sans-serif;box-shadow:0 10px 40px #0006}' +
  'h2{font-size:1.1rem;color:#b00020;margin:.2rem 2rem .5rem 0;white-space:pre-wrap}' +
  '.where,pre{font:13px/1.45 ui-monospace,monospace}' +
  'pre{background:#f6f6f8;padding:.75rem;overflow:auto}pre span{display:block;min-height:1em}' +
  '.hit{background:#ffe3e3}a{color:#0645ad}' +
  '.hint{color:#555;margin:.5rem 0 0}.close{position:absolute;top:.5rem;right:.75rem;' +
  'border:0;background:none;font-size:1.5rem;cursor:pointer;color:#555}';
