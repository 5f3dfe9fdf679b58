// In-place updates: stylesheets (linked and @import-ed) and images are fetched again under a
// new query string; the old sheet goes only once the new one has loaded, so the page never flashes.
import { QUERY_BUST } from './protocol.js';

export function matches(url, paths) {
  var path = new URL(url, location.href).pathname;
  return paths.some(function (changed) {
    return path === '/' + changed || path.endsWith('/' + changed);
  });
}

function busted(url) {
  var fresh = new URL(url, location.href);
  fresh.searchParams.set(QUERY_BUST, String(Date.now()));
  return fresh.href;
}

export function swapStylesheets(paths) {
  var found = 0;
  document.querySelectorAll('link[rel~="stylesheet"][href]').forEach(function (link) {
    if (link.hotReloadOld) return; // already being replaced
    if (matches(link.href, paths)) found += swapLink(link);
    else if (link.sheet) found += refreshImports(link.sheet, paths);
  });
  document.querySelectorAll('style').forEach(function (style) {
    if (style.sheet) found += refreshImports(style.sheet, paths);
  });
  return found;
}

function swapLink(link) {
  // The new sheet loads beside the old one, which goes only then: the page never flashes.
  var fresh = link.cloneNode();
  link.hotReloadOld = true;
  fresh.href = busted(link.href);
  fresh.onload = function () {
    link.remove();
  };
  fresh.onerror = function () {
    fresh.remove(); // keep the old styles rather than none
    link.hotReloadOld = false;
  };
  link.after(fresh);
  return 1;
}

function refreshImports(sheet, paths) {
  var rules;
  try {
    rules = sheet.cssRules;
  } catch (error) {
    return 0; // a sheet from another origin: not ours to read
  }
  var found = 0;
  for (var i = rules.length - 1; i >= 0; i--) {
    var rule = rules[i];
    if (!(rule instanceof CSSImportRule)) continue;
    var href = new URL(rule.href, sheet.href || location.href).href;
    if (matches(href, paths)) {
      var media = rule.media.mediaText;
      sheet.insertRule('@import url("' + busted(href) + '")' + (media ? ' ' + media : '') + ';', i);
      dropWhenLoaded(sheet, sheet.cssRules[i], rule, 100);
      found += 1;
    } else if (rule.styleSheet) {
      found += refreshImports(rule.styleSheet, paths);
    }
  }
  return found;
}

function dropWhenLoaded(sheet, fresh, old, triesLeft) {
  // An @import has no load event: wait until its new sheet has rules (or about a second).
  var loaded = fresh.styleSheet && fresh.styleSheet.cssRules.length > 0;
  if (!loaded && triesLeft > 0) {
    setTimeout(dropWhenLoaded, 10, sheet, fresh, old, triesLeft - 1);
    return;
  }
  var index = Array.prototype.indexOf.call(sheet.cssRules, old);
  if (index >= 0) sheet.deleteRule(index);
}

export function refreshImages(paths) {
  var found = 0;
  document.querySelectorAll('img[src]').forEach(function (img) {
    if (!matches(img.src, paths)) return;
    img.src = busted(img.src);
    found += 1;
  });
  return found;
}
