// Progress on a long bulk upload; without JavaScript the form posts the usual way.
(function () {
  var form = document.getElementById('bulk-form');
  if (!form) { return; }
  form.addEventListener('submit', function (e) {
    e.preventDefault();
    var bar = document.getElementById('bulk-progress'), status = document.getElementById('bulk-status');
    var xhr = new XMLHttpRequest();
    xhr.open('POST', form.action);
    bar.hidden = false;
    xhr.upload.onprogress = function (ev) {
      if (ev.lengthComputable) {
        bar.value = Math.round(ev.loaded * 100 / ev.total);
        status.textContent = 'Đang gửi ' + bar.value + '%';
      }
    };
    xhr.upload.onload = function () { status.textContent = 'Đang kiểm tra các tệp…'; };
    xhr.onload = function () { document.open(); document.write(xhr.responseText); document.close(); };
    xhr.onerror = function () { status.textContent = 'Gửi tệp bị lỗi; xin thử lại.'; };
    xhr.send(new FormData(form));
  });
}());
