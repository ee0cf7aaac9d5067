// A link of the summary above the report form moves the focus to its field, not only the view.
// Without JavaScript the link still scrolls to the field.
(function () {
  var summary = document.getElementById('summary');
  if (!summary) { return; }
  summary.addEventListener('click', function (e) {
    var link = e.target.closest('a[href^="#"]');
    if (!link) { return; }
    var field = document.getElementById(link.getAttribute('href').slice(1));
    if (!field) { return; }
    e.preventDefault();
    field.focus();
    field.scrollIntoView({ block: 'center' });
  });
}());

// What is typed into the report is kept in this tab as it is typed, so that a save that did
// not go through (the server busy or restarted, the session expired, the page left) loses
// nothing: the form offers it back, once, until it is saved. Kept for the tab only, and
// dropped on logout, since offices share computers.
(function () {
  var form = document.querySelector('form.report');
  if (!form || !window.sessionStorage) { return; }
  var key = 'baocao-typed:' + location.pathname;
  var version = form.querySelector('input[name=version]');
  var fields = function () {
    return Array.prototype.filter.call(form.elements, function (el) {
      return el.name && el.name !== '_csrf' && el.name !== 'version' && el.name !== 'action' &&
        el.type !== 'file' && el.type !== 'submit' && el.type !== 'button';
    });
  };
  var snapshot = function () {
    var out = {};
    fields().forEach(function (el) {
      if (el.type === 'radio') {
        if (el.checked) { out[el.name] = el.value; }
      } else if (el.type === 'checkbox') {
        out[el.name] = el.checked ? el.value : '';
      } else {
        out[el.name] = el.value;
      }
    });
    return out;
  };
  var same = function (a, b) {
    return Object.keys(a).every(function (k) { return (a[k] || '') === (b[k] || ''); });
  };
  var shown = snapshot();
  var kept = null;
  try { kept = JSON.parse(sessionStorage.getItem(key) || 'null'); } catch (e) { kept = null; }
  if (kept && version && kept.version !== version.value) {
    // Saved since (the version moved on): nothing to offer.
    sessionStorage.removeItem(key);
    kept = null;
  }
  if (kept && !same(kept.values, shown)) {
    var box = document.createElement('div');
    box.className = 'alert warn';
    box.id = 'typed-back';
    box.setAttribute('role', 'status');
    var text = document.createElement('p');
    text.textContent = 'Trang này còn giữ những gì bạn đã nhập lúc ' + kept.at +
      ' nhưng chưa được lưu. Khôi phục để tiếp tục từ đó, rồi bấm «Lưu nháp».';
    var restore = document.createElement('button');
    restore.type = 'button';
    restore.id = 'typed-restore';
    restore.textContent = 'Khôi phục những gì đã nhập';
    var drop = document.createElement('button');
    drop.type = 'button';
    drop.id = 'typed-drop';
    drop.textContent = 'Bỏ';
    box.appendChild(text);
    box.appendChild(restore);
    box.appendChild(document.createTextNode(' '));
    box.appendChild(drop);
    form.parentNode.insertBefore(box, form);
    restore.addEventListener('click', function () {
      fields().forEach(function (el) {
        if (!(el.name in kept.values)) { return; }
        if (el.type === 'radio') {
          el.checked = el.value === kept.values[el.name];
        } else if (el.type === 'checkbox') {
          el.checked = kept.values[el.name] === el.value;
        } else {
          el.value = kept.values[el.name];
        }
      });
      box.remove();
    });
    drop.addEventListener('click', function () {
      sessionStorage.removeItem(key);
      box.remove();
    });
  }
  var keep = function () {
    var now = new Date();
    var at = ('0' + now.getHours()).slice(-2) + ':' + ('0' + now.getMinutes()).slice(-2);
    try {
      sessionStorage.setItem(key, JSON.stringify({
        version: version ? version.value : '', at: at, values: snapshot()
      }));
    } catch (e) { /* storage full or refused: the form still works */ }
  };
  form.addEventListener('input', keep);
  form.addEventListener('change', keep);
  var logout = document.querySelector('form[action="/dang-xuat"]');
  if (logout) {
    logout.addEventListener('submit', function () { sessionStorage.removeItem(key); });
  }
}());
