// What the browser could lose while nodes move during a morph: scroll, focus, caret.

export function saveView(doc) {
  var scrolled = [];
  doc.querySelectorAll('*').forEach(function (element) {
    if (element.scrollTop || element.scrollLeft) {
      scrolled.push([element, element.scrollTop, element.scrollLeft]);
    }
  });
  var active = doc.activeElement;
  var caret = active && typeof active.selectionStart === 'number';
  return {
    scrolled: scrolled,
    active: active,
    selection: caret ? [active.selectionStart, active.selectionEnd, active.selectionDirection] : null,
  };
}

export function restoreView(view) {
  view.scrolled.forEach(function (entry) {
    var element = entry[0];
    if (element.isConnected && (element.scrollTop !== entry[1] || element.scrollLeft !== entry[2])) {
      element.scrollTo({ top: entry[1], left: entry[2], behavior: 'instant' });
    }
  });
  var active = view.active;
  if (!active || !active.isConnected) return;
  if (active.ownerDocument.activeElement !== active) active.focus({ preventScroll: true });
  var sel = view.selection;
  if (sel && (active.selectionStart !== sel[0] || active.selectionEnd !== sel[1])) {
    active.setSelectionRange(sel[0], sel[1], sel[2]);
  }
}
