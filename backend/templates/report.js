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
