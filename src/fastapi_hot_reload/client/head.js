// The <head> of a morph: elements compared whole; unchanged ones are kept (never fetched
// again), new stylesheets load before the body changes, the server's stale ones go after.
import { unbusted } from './protocol.js';

// Head elements the server sent (the page as loaded, then what morphs inserted): only these may
// be removed, so styles or scripts that the page's own JS added to <head> (htmx's indicator
// styles, say) stay. Module scripts run before DOMContentLoaded, before most such additions.
var served = new WeakSet(document.head ? document.head.children : []);

// What makes two head elements the same. Not a nonce: it is new on every response (and hidden
// from the live page's markup); not how a URL is written (a swap makes a stylesheet's href
// absolute and adds its cache-busting parameter; the template's stays "/static/a.css").
export function sameKey(node) {
  var copy = node.cloneNode(true);
  copy.removeAttribute('nonce');
  ['href', 'src'].forEach(function (name) {
    var value = copy.getAttribute(name);
    if (value !== null) copy.setAttribute(name, unbusted(value));
  });
  return copy.outerHTML;
}

export function mergeHead(liveHead, freshHead) {
  var live = new Map();
  var stale = [];
  Array.from(liveHead.children).forEach(function (node) {
    var key = sameKey(node);
    if (!live.has(key)) live.set(key, node);
    else if (served.has(node)) stale.push(node); // a duplicate
  });
  var loads = [];
  var previous = null;
  var wanted = new Set();
  Array.from(freshHead ? freshHead.children : []).forEach(function (fresh) {
    var key = sameKey(fresh);
    var node = live.get(key);
    if (!node || wanted.has(key)) {
      node = document.importNode(fresh, true);
      served.add(node);
      if (node.localName === 'link' && /\bstylesheet\b/i.test(node.rel)) loads.push(loaded(node));
      if (previous) previous.after(node);
      else liveHead.prepend(node);
    }
    wanted.add(key);
    previous = node;
  });
  live.forEach(function (node, key) {
    if (!wanted.has(key) && served.has(node)) stale.push(node);
  });
  return { loads: loads, stale: stale };
}

function loaded(link) {
  return new Promise(function (resolve) {
    link.addEventListener('load', resolve, { once: true });
    link.addEventListener('error', resolve, { once: true }); // a broken link must not stall
  });
}
