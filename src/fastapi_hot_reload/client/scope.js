// Does a change touch this page? The page knows the templates it was rendered from (the tag's
// data-templates, else its own Server-Timing), adds those of every fetch, XHR, htmx swap or
// iframe since (each HTML response names them in Server-Timing: hot-reload;desc="..."), and
// knows the scripts it loaded. Whatever cannot be known makes the page depend on everything.
import { ATTR_TEMPLATES, decodeNames, setting, TIMING } from './protocol.js';
import { matches } from './swaps.js';

var UNKNOWN = null; // depends on every template
var client = new URL('.', import.meta.url).pathname; // our own modules are nobody's scripts
var loaded = new Set(); // URL paths of every resource the page fetched
var templates = initial();

function ours(entry) {
  var found = (entry.serverTiming || []).find(function (timing) {
    return timing.name === TIMING;
  });
  return found ? found.description : undefined;
}

function initial() {
  var own = setting(ATTR_TEMPLATES);
  if (own) return decodeNames(own);
  var page = performance.getEntriesByType('navigation')[0]; // a tag placed by hand
  var desc = page && ours(page);
  return desc ? decodeNames(desc) : UNKNOWN;
}

function add(entry) {
  var url = new URL(entry.name);
  if (url.origin !== location.origin) return;
  loaded.add(url.pathname);
  var desc = ours(entry);
  if (desc === undefined) {
    // Outside a secure context (http on a LAN address) no Server-Timing reaches the page:
    // a fetched response might have rendered any template.
    var fetched = ['fetch', 'xmlhttprequest', 'iframe'].indexOf(entry.initiatorType) >= 0;
    if (fetched && !window.isSecureContext) templates = UNKNOWN;
    return;
  }
  var more = decodeNames(desc);
  if (more === UNKNOWN) templates = UNKNOWN;
  else if (templates !== UNKNOWN) more.forEach(templates.add, templates);
}

var observer = new PerformanceObserver(function (list) {
  list.getEntries().forEach(add);
});
observer.observe({ type: 'resource', buffered: true });

function usesScript(paths) {
  var urls = Array.from(loaded);
  document.querySelectorAll('script[src]').forEach(function (script) {
    urls.push(new URL(script.src, location.href).pathname);
  });
  return urls.some(function (path) {
    return !path.startsWith(client) && matches(path, paths);
  });
}

// A reload message names the `templates` and/or `scripts` it is about; one without either is
// about a file any page may use (content, data): it touches every page.
export function touches(message) {
  observer.takeRecords().forEach(add); // entries not yet handed to the observer
  if (!message.templates && !message.scripts) return true;
  var rendered = message.templates || [];
  if (rendered.length && templates === UNKNOWN) return true;
  // A large set came as its key (data-templates="#..."), held among the names.
  var held = rendered.concat(message.sets || []);
  if (held.some((name) => templates.has(name))) return true;
  return Boolean(message.scripts) && usesScript(message.scripts);
}
