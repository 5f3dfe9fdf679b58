// The wire between the server and this client, JS half. _protocol.py is the Python half, and
// tests/test_protocol.py fails when the two disagree: change both or neither. Imports nothing.

// Routes, relative to the client's own URL (`{path}/client/`): `new URL('../' + WS, ...)`.
export var WS = 'ws';
export var EVENTS = 'events';

// Query parameters.
export var QUERY_PAGE = 'page';
export var QUERY_REV = 'rev';
export var QUERY_ORIGIN = 'origin';
export var QUERY_BUST = 'hot-reload';

// The script tag's attributes.
export var ATTR_MARK = 'data-hot-reload';
export var ATTR_BOOT = 'data-boot';
export var ATTR_REV = 'data-rev';
export var ATTR_PAGE = 'data-page';
export var ATTR_EVENTS = 'data-events';
export var ATTR_METHOD = 'data-method';
export var ATTR_MORPH = 'data-morph';
export var ATTR_STATUS = 'data-status';
export var ATTR_TEMPLATES = 'data-templates';
export var MORPH_OFF = 'false';
export var STATUS_OFF = 'off';

// Headers.
export var HEADER_PAGE = 'x-hot-reload-page';
export var HEADER_RESPONSE = 'x-hot-reload';
export var ERROR_PAGE = 'error-page';
export var TIMING = 'hot-reload';
export var ANY_TEMPLATE = '*';

// Message types.
export var HELLO = 'hello';
export var PAGE = 'page';
export var RELOAD = 'reload';
export var CSS = 'css';
export var IMAGE = 'image';
export var ERROR = 'error';
export var LOG = 'log';

// The tag this client was loaded by (none when a page imports the client some other way).
export var tag = document.querySelector('script[' + ATTR_MARK + ']');

// One of the tag's attributes, or null.
export function setting(attribute) {
  return tag ? tag.getAttribute(attribute) : null;
}

// Template names as encode_names() wrote them (data-templates, Server-Timing): a Set, or
// null for ANY_TEMPLATE (the page depends on everything).
export function decodeNames(text) {
  if (text === ANY_TEMPLATE) return null;
  return new Set(text.split(' ').filter(Boolean).map(decodeURIComponent));
}

// A URL attribute's value as a comparable URL: resolved against the page (a template's
// "/static/a.css" and "static/a.css" are one file), without the query parameter a swap adds.
export function unbusted(value) {
  var url;
  try {
    url = new URL(value, document.baseURI);
  } catch (error) {
    return value; // no URL: compared as written
  }
  if (url.searchParams.has(QUERY_BUST)) url.searchParams.delete(QUERY_BUST);
  return url.href;
}
