// Morph the live DOM into a freshly parsed copy of the page, keeping what the user has on screen.
//
// Matching: an element is matched by id first, through id sets: each element carries the ids
// found in its subtree (ids present exactly once in both trees), so a wrapper without an id is
// still recognised by the ids inside it (the idea of idiomorph's id sets). Otherwise by position
// and tag. Matched nodes are patched in place, never replaced, so their JS properties, listeners,
// focus, caret and scroll survive; the rest is inserted or removed.
//
// Form fields need no special code: once the user (or a script) changed a field's value,
// checkedness or selectedness, the browser marks it dirty and stops following the attribute, so
// patching attributes updates the untouched fields and leaves the edited ones as they are.
//
// Scripts are never run: a script cloned from a parsed document stays inert. The caller reloads
// the page instead when its scripts changed.
import { mergeHead } from './head.js';
import { QUERY_BUST, unbusted } from './protocol.js';
import { restoreView, saveView } from './view.js';

var PERMANENT = ['data-hot-reload-permanent', 'hx-preserve'];

// Morph `liveRoot` into `newRoot` (an element from another document). With <html> roots the
// <head> is merged and new stylesheets load before the body changes, then old ones go: the page
// never shows unstyled. Resolves once done.
export async function morph(liveRoot, newRoot) {
  if (liveRoot.localName !== 'html') return patchTree(liveRoot, newRoot);
  var head = mergeHead(liveRoot.ownerDocument.head, newRoot.querySelector('head'));
  if (head.loads.length) await Promise.all(head.loads);
  patchAttributes(liveRoot, newRoot);
  var body = newRoot.querySelector('body');
  if (body) patchTree(liveRoot.ownerDocument.body, body);
  head.stale.forEach(function (node) {
    node.remove();
  });
}

function patchTree(live, fresh) {
  var view = saveView(live.ownerDocument);
  var ctx = context(live, fresh);
  morphNode(live, fresh, ctx);
  ctx.doomed.forEach(function (node) {
    if (!ctx.matched.has(node)) node.remove();
  });
  restoreView(view);
}

// --- The body: match, patch, insert, remove ---------------------------------------------------

function context(live, fresh) {
  var liveIds = uniqueIds(live);
  var freshIds = uniqueIds(fresh);
  liveIds.forEach(function (element, id) {
    if (!freshIds.has(id)) liveIds.delete(id);
  });
  freshIds.forEach(function (element, id) {
    if (!liveIds.has(id)) freshIds.delete(id);
  });
  return {
    byId: liveIds, // live element of each id present in both trees
    liveSets: idSets(live, liveIds),
    freshSets: idSets(fresh, freshIds),
    claimed: new Set(), // ids whose element is in its new place
    matched: new WeakSet(), // live nodes patched into the new tree
    doomed: [], // removed at the end: they hold ids still to be claimed
  };
}

function uniqueIds(root) {
  var found = new Map();
  var twice = new Set();
  var elements = Array.from(root.querySelectorAll('[id]'));
  if (root.id) elements.push(root);
  elements.forEach(function (element) {
    if (!element.id) return; // id=""
    if (found.has(element.id)) twice.add(element.id);
    found.set(element.id, element);
  });
  twice.forEach(function (id) {
    found.delete(id); // an id used twice matches nothing
  });
  return found;
}

// Each element of `root`'s tree that holds one of `elements` (by id), mapped to the ids it holds.
function idSets(root, elements) {
  var sets = new Map();
  elements.forEach(function (element, id) {
    for (var node = element; node; node = node === root ? null : node.parentNode) {
      if (!sets.has(node)) sets.set(node, new Set());
      sets.get(node).add(id);
    }
  });
  return sets;
}

function openIds(set, ctx) {
  return set ? Array.from(set).filter((id) => !ctx.claimed.has(id)) : [];
}

function sameKind(live, fresh) {
  return (
    live.nodeType === fresh.nodeType &&
    live.localName === fresh.localName &&
    live.namespaceURI === fresh.namespaceURI
  );
}

// Same kind at this position, and not holding ids that belong elsewhere.
function softMatch(live, fresh, ctx) {
  if (!sameKind(live, fresh) || openIds(ctx.liveSets.get(live), ctx).length) return false;
  return !live.id || live.id === fresh.id;
}

function idMatch(live, fresh, ctx) {
  var liveSet = ctx.liveSets.get(live);
  var ids = openIds(ctx.freshSets.get(fresh), ctx);
  return sameKind(live, fresh) && !!liveSet && ids.some((id) => liveSet.has(id));
}

function laterSibling(live, fresh, ctx, test) {
  for (var node = live; node; node = node.nextSibling) if (test(node, fresh, ctx)) return node;
  return null;
}

function nextElement(node) {
  while (node && node.nodeType !== 1) node = node.nextSibling;
  return node;
}

// The live node (from `cursor` on) that `fresh` should become, or null to insert it.
function findMatch(cursor, fresh, ctx) {
  if (ctx.freshSets.has(fresh)) {
    var byIds = laterSibling(cursor, fresh, ctx, idMatch);
    if (byIds || movable(fresh, ctx)) return byIds; // else it moves here
  }
  if (!cursor) return null;
  if (softMatch(cursor, fresh, ctx)) return cursor;
  var later = laterSibling(cursor.nextSibling, fresh, ctx, softMatch);
  if (!later) return null;
  // Skipping to `later` removes the nodes before it: not if the next live element is wanted
  // further on in the new page (then `fresh` is an insertion).
  var next = nextElement(cursor);
  if (next && next !== later && laterSibling(fresh.nextSibling, next, ctx, wantsLive)) return null;
  return later;
}

// The live element with `fresh`'s id, elsewhere in the page, if it can become `fresh`.
function movable(fresh, ctx) {
  var live = fresh.id && !ctx.claimed.has(fresh.id) && ctx.byId.get(fresh.id);
  return live && sameKind(live, fresh) ? live : null;
}

function wantsLive(fresh, live, ctx) {
  return softMatch(live, fresh, ctx);
}

function morphNode(live, fresh, ctx) {
  ctx.matched.add(live);
  if (live.id && ctx.byId.has(live.id)) ctx.claimed.add(live.id);
  if (live.nodeType !== 1) {
    if (live.nodeValue !== fresh.nodeValue) live.nodeValue = fresh.nodeValue;
  } else if (!PERMANENT.some((name) => live.hasAttribute(name))) {
    patchAttributes(live, fresh);
    if (live.localName === 'template') patchTemplate(live, fresh);
    else morphChildren(live, fresh, ctx);
  }
}

function morphChildren(parent, freshParent, ctx) {
  var cursor = parent.firstChild;
  for (var fresh = freshParent.firstChild; fresh; fresh = fresh.nextSibling) {
    var match = findMatch(cursor, fresh, ctx);
    if (match) {
      drop(cursor, match, ctx);
      morphNode(match, fresh, ctx);
      cursor = match.nextSibling;
    } else {
      // After the new node: the cursor itself may have moved into it (a new wrapper).
      cursor = insert(parent, fresh, cursor, ctx).nextSibling;
    }
  }
  drop(cursor, null, ctx);
}

// Put `fresh` before `before`: the live element of its id moved here, or a new node. Returns it.
function insert(parent, fresh, before, ctx) {
  var moved = movable(fresh, ctx);
  if (moved) {
    move(parent, moved, before);
    morphNode(moved, fresh, ctx);
    return moved;
  }
  if (!ctx.freshSets.has(fresh)) return parent.insertBefore(document.importNode(fresh, true), before);
  // It holds ids of live elements: build it empty, so they can be moved into it.
  var shell = parent.insertBefore(document.importNode(fresh, false), before);
  ctx.matched.add(shell);
  morphChildren(shell, fresh, ctx);
  return shell;
}

function move(parent, node, before) {
  // moveBefore keeps focus, iframes, videos and animations where insertBefore resets them.
  if (parent.moveBefore) {
    try {
      return parent.moveBefore(node, before);
    } catch (error) {
      // not movable this way (another document state): an ordinary move below
    }
  }
  parent.insertBefore(node, before);
}

function drop(from, until, ctx) {
  for (var node = from; node && node !== until; ) {
    var next = node.nextSibling;
    if (openIds(ctx.liveSets.get(node), ctx).length) ctx.doomed.push(node);
    else if (!/^hot-reload-/.test(node.localName)) node.remove(); // our overlay stays
    node = next;
  }
}

// `open` on <details>/<dialog> belongs to the user; <html>/<body> attributes a script added
// (a theme class, a modal flag) stay too. A nonce stays the page's own: the browser hid
// it, and the fetched one is not the page's (see nonce.js).
function patchAttributes(live, fresh) {
  var userOpen = live.localName === 'details' || live.localName === 'dialog';
  Array.from(fresh.attributes).forEach(function (attr) {
    if (attr.name === 'nonce' || (userOpen && attr.name === 'open')) return;
    var value = live.getAttribute(attr.name);
    if (value === attr.value || (swapped(attr.name, value) && sameUrl(value, attr.value))) return;
    live.setAttribute(attr.name, attr.value);
  });
  if (live.localName === 'html' || live.localName === 'body') return;
  Array.from(live.attributes).forEach(function (attr) {
    if (attr.name === 'nonce' || (userOpen && attr.name === 'open')) return;
    if (!fresh.hasAttribute(attr.name)) live.removeAttribute(attr.name);
  });
}

// An image (or a link in the body) fetched afresh by a swap: its URL carries our parameter, and
// putting the template's back would show the stale copy from the browser's cache.
function swapped(name, value) {
  return (name === 'src' || name === 'href') && value !== null && value.indexOf(QUERY_BUST) >= 0;
}

function sameUrl(a, b) {
  return unbusted(a) === unbusted(b);
}

function patchTemplate(live, fresh) {
  if (live.innerHTML !== fresh.innerHTML) {
    live.content.replaceChildren(document.importNode(fresh.content, true));
  }
}
