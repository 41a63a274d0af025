// wirecheck report: filtering, expanding and deep links. No dependencies, works from file://.
(function () {
  'use strict';
  var root = document.documentElement;
  var $ = function (id) { return document.getElementById(id); };
  var all = function (sel, el) { return Array.prototype.slice.call((el || document).querySelectorAll(sel)); };

  // Target page: the case list.
  var list = $('cases');
  if (list) {
    var cases = all('details.case', list);
    var text = $('f-text'), proto = $('f-proto'), boxes = all('input[name=outcome]');
    var count = $('f-count'), none = $('f-none');
    var apply = function () {
      var words = text.value.toLowerCase().split(/\s+/).filter(Boolean);
      var wanted = {};
      boxes.forEach(function (b) { wanted[b.value] = b.checked; });
      var p = proto.value, shown = 0;
      cases.forEach(function (c) {
        var s = c.getAttribute('data-search') || '';
        var ok = wanted[c.getAttribute('data-outcome')] === true &&
          (!p || c.getAttribute('data-protocol') === p) &&
          words.every(function (w) { return s.indexOf(w) !== -1; });
        c.hidden = !ok;
        if (ok) { shown += 1; }
      });
      count.textContent = shown === cases.length ? cases.length + ' cases' : shown + ' of ' + cases.length + ' cases';
      none.hidden = shown !== 0;
      list.setAttribute('data-shown', String(shown));
    };
    var only = function (outcome) {
      boxes.forEach(function (b) { b.checked = b.value === outcome; });
      apply();
    };
    $('filters').addEventListener('submit', function (e) { e.preventDefault(); });
    text.addEventListener('input', apply);
    proto.addEventListener('change', apply);
    boxes.forEach(function (b) { b.addEventListener('change', apply); });
    all('button[data-only]').forEach(function (b) {
      b.addEventListener('click', function () { only(b.getAttribute('data-only')); });
    });
    $('f-expand').addEventListener('click', function () { cases.forEach(function (c) { if (!c.hidden) { c.open = true; } }); });
    $('f-collapse').addEventListener('click', function () { cases.forEach(function (c) { c.open = false; }); });
    $('f-reset').addEventListener('click', function () {
      text.value = ''; proto.value = ''; boxes.forEach(function (b) { b.checked = true; }); apply();
    });
    // Shareable filters: ?q=words&outcome=fail,error&protocol=smtp
    var params = new URLSearchParams(window.location.search);
    if (params.has('q')) { text.value = params.get('q'); }
    if (params.has('protocol')) { proto.value = params.get('protocol'); }
    if (params.has('outcome')) {
      var keep = params.get('outcome').split(',');
      boxes.forEach(function (b) { b.checked = keep.indexOf(b.value) !== -1; });
    }
    apply();
    // Deep links (from the matrix): #case-<id> opens and shows that case.
    var openHash = function () {
      var id = decodeURIComponent(window.location.hash.slice(1));
      var el = id ? document.getElementById(id) : null;
      if (el && el.classList.contains('case')) {
        el.hidden = false;
        el.open = true;
        el.scrollIntoView();
      }
    };
    window.addEventListener('hashchange', openHash);
    openHash();
  }

  // Index page: the matrix.
  var differ = $('m-differ');
  if (differ) {
    var rows = all('#matrix tr.mrow');
    var applyMatrix = function () {
      rows.forEach(function (r) { r.hidden = differ.checked && r.getAttribute('data-same') === '1'; });
    };
    differ.addEventListener('change', applyMatrix);
    applyMatrix();
  }

  root.setAttribute('data-js-ready', '1');
})();
